"""Signing staff in to the console from tests: accounts with a second factor, codes computed
from the enrolled secret as an authenticator app does, CSRF tokens read from the pages."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from parental.admin import service as staff_accounts
from parental.admin import totp
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.parental.factories import STAFF_PASSWORD

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Enrolled:
    username: str
    secret: bytes

    def code(self, runtime: Runtime) -> str:
        return totp.code_at(self.secret, totp.step_of(runtime.clock.now()))


def secret_of(uri: str) -> bytes:
    raw = parse_qs(urlsplit(uri).query)["secret"][0]
    return base64.b32decode(raw + "=" * (-len(raw) % 8))


async def create_staff(
    runtime: Runtime, username: str = "curator", role: str = "curator", *, enrol: bool = True
) -> Enrolled | None:
    async with transaction(runtime.sessions) as session:
        await staff_accounts.create_staff(
            session, username=username, password=STAFF_PASSWORD, role=role, now=runtime.clock.now()
        )
        if not enrol:
            return None
        uri = await staff_accounts.enrol_second_factor(
            session, username=username, service_secret=runtime.secret, now=runtime.clock.now()
        )
    return Enrolled(username, secret_of(uri))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def sign_in_form(client: httpx.AsyncClient) -> str:
    """Load the sign-in page (which sets its pre-session cookie); its CSRF token."""
    page = await client.get("/console/sign-in")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def sign_in(
    client: httpx.AsyncClient, runtime: Runtime, staff: Enrolled, *, code: str | None = None
) -> str:
    """Sign ``staff`` in; returns the session's CSRF token (from the dashboard)."""
    token = await sign_in_form(client)
    response = await client.post(
        "/console/sign-in",
        data={
            "csrf": token,
            "username": staff.username,
            "password": STAFF_PASSWORD,
            "code": code or staff.code(runtime),
        },
    )
    assert response.status_code == 303, response.text
    dashboard = await client.get("/console/")
    assert dashboard.status_code == 200, dashboard.text
    return csrf_of(dashboard.text)


def next_step(clock: FrozenClock) -> None:
    """Move to the next 30-second step: a new code (each is good once)."""
    clock.advance(timedelta(seconds=totp.STEP_SECONDS))
