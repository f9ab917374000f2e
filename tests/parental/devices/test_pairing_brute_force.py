"""Guessing pairing codes meets a lockout that doubles, per address (issue 9).

A wrong pairing code names no child or family, so the caller's address is what is locked
out; the per-address rate limit is set out of the way so the lockout is what is measured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.devices.models import PairingCode
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.parental.auth.callers import address_client, from_address
from tests.parental.factories import FamilyWorld

ATTACKER = "203.0.113.77"
CHILD_PHONE = "198.51.100.30"
PER_IP = 4
BASE = 60


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(
        limit_pairing_attempts_per_ip="1000/minute",
        pairing_lockout_failures_per_ip=PER_IP,
        pairing_code_ttl_seconds=3600,
        lockout_base_seconds=BASE,
        lockout_max_seconds=8 * BASE,
    )


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with address_client(runtime) as c:
        yield c


async def new_code(client: httpx.AsyncClient, family: FamilyWorld) -> str:
    response = await client.post(
        f"/v1/children/{family.child_id}/pairing-codes", headers=family.guardian.headers
    )
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def pair(client: httpx.AsyncClient, code: str, ip: str) -> httpx.Response:
    return await client.post(
        "/v1/device/pair",
        json={"code": code, "name": "Tablet", "platform": "android"},
        headers=from_address(ip),
    )


def guess(n: int) -> str:
    return f"WRONGCODE{n}"


def assert_locked(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "PairingLocked"
    assert response.json()["retry_after"] == retry_after
    assert response.headers["retry-after"] == str(retry_after)


async def test_wrong_pairing_codes_lock_the_address_for_a_doubling_delay(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    code = await new_code(client, family)
    for delay in (BASE, 2 * BASE, 4 * BASE):
        for n in range(PER_IP):
            wrong = await pair(client, guess(n), ATTACKER)
            assert wrong.status_code == 400
            assert wrong.json()["error"] == "InvalidPairingCode"
        # Even the right code is refused from that address while the lockout runs.
        assert_locked(await pair(client, code, ATTACKER), delay)
        clock.advance(timedelta(seconds=delay - 1))
        assert_locked(await pair(client, code, ATTACKER), 1)
        clock.advance(timedelta(seconds=1))
    # The refused tries did not spend the code: once the lockout ends it still works.
    async with runtime.sessions() as session:
        row = (await session.scalars(select(PairingCode).order_by(PairingCode.created_at))).all()
    assert row[-1].used_at is None
    assert (await pair(client, code, ATTACKER)).status_code == 201


async def test_a_locked_out_attacker_does_not_hold_back_the_childs_device(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    code = await new_code(client, family)
    for n in range(PER_IP):
        await pair(client, guess(n), ATTACKER)
    assert_locked(await pair(client, code, ATTACKER), BASE)
    assert (await pair(client, code, CHILD_PHONE)).status_code == 201


async def test_right_pairing_codes_never_lock_an_address(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    # A family pairing several devices at home, one address: each right code gives its try back.
    for _ in range(PER_IP + 3):
        assert (await pair(client, await new_code(client, family), CHILD_PHONE)).status_code == 201
    for n in range(PER_IP - 1):
        assert (await pair(client, guess(n), CHILD_PHONE)).status_code == 400
    assert (await pair(client, await new_code(client, family), CHILD_PHONE)).status_code == 201
