"""Console sign-in and sessions: the second factor, wrong and replayed codes, cookie flags,
idle and absolute expiry, sign-out, CSRF and origin checks, and the pages' security headers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from filters.curation.models import Version
from parental.admin.models import ConsoleSession, StaffAccount
from parental.audit.models import AuditEvent
from parental.console import sessions
from parental.kit.clock import FrozenClock
from parental.kit.headers import CONSOLE_CSP
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import api_client
from tests.console.helpers import (
    Enrolled,
    create_staff,
    csrf_of,
    next_step,
    sign_in,
    sign_in_form,
)
from tests.parental.factories import STAFF_PASSWORD, staff_headers

PAGES = [
    "/console/",
    "/console/lookup",
    "/console/entries",
    "/console/sources",
    "/console/versions",
    "/console/reports",
    "/console/activity",
]


async def _post_sign_in(
    client: httpx.AsyncClient, username: str, code: str, password: str = STAFF_PASSWORD
) -> httpx.Response:
    token = await sign_in_form(client)
    return await client.post(
        "/console/sign-in",
        data={"csrf": token, "username": username, "password": password, "code": code},
    )


async def _count(runtime: Runtime, model: type[object]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _actions(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(AuditEvent.action).order_by(AuditEvent.occurred_at))
        return list(rows)


async def test_signing_in_with_password_and_code_opens_a_session(
    client: httpx.AsyncClient, runtime: Runtime, curator: Enrolled
) -> None:
    response = await _post_sign_in(client, curator.username, curator.code(runtime))

    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE_PLAIN}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    dashboard = await client.get("/console/")
    assert dashboard.status_code == 200
    assert "curator (curator)" in dashboard.text
    assert await _count(runtime, ConsoleSession) == 1
    assert "staff.console_sign_in" in await _actions(runtime)


@pytest.mark.parametrize("what", ["password", "code", "replayed code", "no code"])
async def test_a_wrong_password_or_code_opens_no_session(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, curator: Enrolled, what: str
) -> None:
    code = curator.code(runtime)
    password = STAFF_PASSWORD
    if what == "password":
        password = "not the password"
    elif what == "code":
        code = "000000" if code != "000000" else "111111"
    elif what == "no code":
        code = ""
    else:
        await sign_in(client, runtime, curator)
        client.cookies.clear()

    response = await _post_sign_in(client, curator.username, code, password)

    assert response.status_code == 401
    assert "Wrong username, password or one-time code." in response.text
    assert await _count(runtime, ConsoleSession) == (1 if what == "replayed code" else 0)
    assert (await client.get("/console/")).status_code == 303


async def test_an_account_without_a_second_factor_is_told_to_enrol(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_staff(runtime, "plain", enrol=False)

    response = await _post_sign_in(client, "plain", "123456")

    assert response.status_code == 403
    assert "parental admin enrol-totp" in response.text
    assert await _count(runtime, ConsoleSession) == 0


async def test_repeated_failures_lock_the_console_sign_in(
    client: httpx.AsyncClient, runtime: Runtime, curator: Enrolled
) -> None:
    for _ in range(5):
        assert (
            await _post_sign_in(client, curator.username, "000000", "wrong!")
        ).status_code == 401

    locked = await _post_sign_in(client, curator.username, curator.code(runtime))

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert int(locked.headers["retry-after"]) > 0


async def test_without_a_session_pages_lead_to_the_sign_in_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff_headers(client, runtime, "api-only")

    for path in PAGES:
        response = await client.get(path, headers=headers)  # a staff API token is no session
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2F")
    client.cookies.set(sessions.COOKIE_PLAIN, "cs_forged", path="/console")
    assert (await client.get("/console/")).status_code == 303


async def test_sign_in_goes_back_only_to_console_pages(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, curator: Enrolled
) -> None:
    for target, expected in [
        ("/console/versions", "/console/versions"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/console/", "/console/"),
    ]:
        client.cookies.clear()
        token = await sign_in_form(client)
        response = await client.post(
            "/console/sign-in",
            data={
                "csrf": token,
                "username": curator.username,
                "password": STAFF_PASSWORD,
                "code": curator.code(runtime),
                "next": target,
            },
        )
        assert response.headers["location"] == expected
        next_step(clock)


async def test_a_session_ends_after_idling_and_at_its_absolute_expiry(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, curator: Enrolled
) -> None:
    await sign_in(client, runtime, curator)
    clock.advance(sessions.IDLE_TIMEOUT - timedelta(minutes=1))
    assert (await client.get("/console/")).status_code == 200
    clock.advance(sessions.IDLE_TIMEOUT - timedelta(minutes=1))
    assert (await client.get("/console/")).status_code == 200  # the last view kept it alive
    clock.advance(sessions.IDLE_TIMEOUT)
    assert (await client.get("/console/")).status_code == 303
    assert await _count(runtime, ConsoleSession) == 0  # deleted when found expired

    next_step(clock)
    await sign_in(client, runtime, curator)
    step = sessions.IDLE_TIMEOUT - timedelta(minutes=5)
    elapsed = timedelta()
    while elapsed + step < sessions.ABSOLUTE_TIMEOUT:
        clock.advance(step)
        elapsed += step
        assert (await client.get("/console/")).status_code == 200
    clock.advance(sessions.ABSOLUTE_TIMEOUT - elapsed)
    assert (await client.get("/console/")).status_code == 303


async def test_a_sign_in_purges_sessions_that_expired_unseen(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, curator: Enrolled
) -> None:
    await sign_in(client, runtime, curator)
    client.cookies.clear()  # a browser that never comes back
    clock.advance(sessions.IDLE_TIMEOUT)

    await sign_in(client, runtime, curator)

    assert await _count(runtime, ConsoleSession) == 1


async def test_signing_out_ends_the_session_for_good(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    cookie = client.cookies.get(sessions.COOKIE_PLAIN)

    response = await client.post("/console/sign-out", data={"csrf": console})

    assert response.status_code == 303
    assert await _count(runtime, ConsoleSession) == 0
    client.cookies.set(sessions.COOKIE_PLAIN, cookie or "", path="/console")
    assert (await client.get("/console/")).status_code == 303
    assert "staff.console_sign_out" in await _actions(runtime)


async def test_a_disabled_account_loses_its_session(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    async with runtime.sessions() as session, session.begin():
        staff = await session.scalar(select(StaffAccount))
        assert staff is not None
        staff.disabled_at = runtime.clock.now()

    assert (await client.get("/console/")).status_code == 303


@pytest.mark.parametrize(
    ("csrf", "origin"),
    [(None, None), ("wrong", None), ("right", "https://evil.example"), ("right", "null")],
)
async def test_a_post_without_the_right_csrf_token_or_origin_changes_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    console: str,
    csrf: str | None,
    origin: str | None,
) -> None:
    data = {"note": "forged"}
    if csrf is not None:
        data["csrf"] = console if csrf == "right" else "0" * 64
    headers = {"Origin": origin} if origin else {}

    response = await client.post("/console/versions", data=data, headers=headers)

    assert response.status_code == 403
    assert "CsrfRejected" in response.text
    assert await _count(runtime, Version) == 0


async def test_a_post_from_this_origin_is_accepted(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    response = await client.post(
        "/console/entries",
        data={
            "csrf": console,
            "target": "casino.test",
            "action": "block",
            "category": "gambling",
            "subdomains": "on",
            "reason": "seen in reports",
        },
        headers={"Origin": "http://test"},
    )

    assert response.status_code == 303, response.text


async def test_the_sign_in_form_needs_its_own_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, curator: Enrolled
) -> None:
    await sign_in_form(client)

    response = await client.post(
        "/console/sign-in",
        data={
            "username": curator.username,
            "password": STAFF_PASSWORD,
            "code": curator.code(runtime),
        },
    )

    assert response.status_code == 403
    assert await _count(runtime, ConsoleSession) == 0


async def test_the_csrf_token_is_the_sessions_own(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, curator: Enrolled, console: str
) -> None:
    other = await create_staff(runtime, "other")
    assert other is not None
    async with api_client(runtime) as second:
        next_step(clock)
        others = await sign_in(second, runtime, other)

    response = await client.post("/console/versions", data={"csrf": others})

    assert others != console
    assert response.status_code == 403


async def test_console_pages_carry_a_strict_policy_and_are_not_cached(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    for path in [*PAGES, "/console/sign-in", "/console/static/console.css"]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CONSOLE_CSP
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CONSOLE_CSP
    page = (await client.get("/console/")).text
    assert "<script>" not in page
    assert "style=" not in page
    assert csrf_of(page) == console


class TestBehindTls:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(behind_tls=True)

    async def test_the_cookie_is_host_only_and_secure(
        self, client: httpx.AsyncClient, runtime: Runtime, curator: Enrolled
    ) -> None:
        client.base_url = httpx.URL("https://test")  # the browser sends Secure cookies over TLS

        response = await _post_sign_in(client, curator.username, curator.code(runtime))

        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{sessions.COOKIE_TLS}=")
        assert "Secure" in cookie
        assert "Path=/;" in cookie
        assert "Domain" not in cookie
        assert "strict-transport-security" in response.headers
        assert (await client.get("/console/")).status_code == 200
