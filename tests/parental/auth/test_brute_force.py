"""Guessing sign-in codes meets a lockout that doubles, per phone and per address (issue 9).

The rate limits are set out of the way here (they run on wall-clock windows and have their
own tests), so what is measured is the lockout, timed by the runtime's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.auth.lockout import LockoutPolicy, Lockouts
from parental.auth.models import SignInCode
from parental.kit.cache import MemoryCache
from parental.kit.clock import FrozenClock
from parental.kit.errors import TooManyRequests
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import sms_code
from tests.parental.auth.callers import address_client, from_address

PHONE = "+77015550031"
ATTACKER = "203.0.113.66"
PARENT = "198.51.100.20"
PER_PHONE = 5
PER_IP = 12
BASE = 60
CAP = 240
FORGET = 6 * 3600


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(
        limit_code_requests_per_phone="1000/minute",
        limit_code_requests_per_phone_daily="1000/day",
        limit_code_requests_per_ip="1000/minute",
        limit_code_attempts_per_phone="1000/minute",
        limit_code_attempts_per_ip="1000/minute",
        sign_in_code_max_attempts=1000,
        sign_in_code_ttl_seconds=3600,
        sign_in_lockout_failures_per_phone=PER_PHONE,
        sign_in_lockout_failures_per_ip=PER_IP,
        lockout_base_seconds=BASE,
        lockout_max_seconds=CAP,
        lockout_forget_seconds=FORGET,
    )


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with address_client(runtime) as c:
        yield c


async def request_code(client: httpx.AsyncClient, runtime: Runtime, phone: str = PHONE) -> str:
    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    return sms_code(runtime, phone)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def try_code(
    client: httpx.AsyncClient, code: str, *, phone: str = PHONE, ip: str = ATTACKER
) -> httpx.Response:
    return await client.post(
        "/v1/auth/tokens", json={"phone": phone, "code": code}, headers=from_address(ip)
    )


def assert_locked(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "SignInLocked"
    assert response.json()["retry_after"] == retry_after
    assert response.headers["retry-after"] == str(retry_after)


async def attempts_on_codes(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return sum(row.attempts for row in (await session.scalars(select(SignInCode))).all())


async def test_wrong_codes_lock_the_phone_for_a_doubling_capped_delay(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    code = await request_code(client, runtime)
    # The attacker moves to a new address each round: the phone's lockout follows the phone.
    for n, delay in enumerate((BASE, 2 * BASE, 4 * BASE, CAP)):
        attacker = f"203.0.113.{n + 1}"
        for _ in range(PER_PHONE):
            assert (await try_code(client, wrong(code), ip=attacker)).status_code == 400
        # Locked out: refused even with the right code, which is not even looked at.
        judged = await attempts_on_codes(runtime)
        assert_locked(await try_code(client, code, ip=attacker), delay)
        assert_locked(await try_code(client, code, ip=PARENT), delay)
        assert await attempts_on_codes(runtime) == judged
        clock.advance(timedelta(seconds=delay - 1))
        assert_locked(await try_code(client, code, ip=PARENT), 1)
        clock.advance(timedelta(seconds=1))

    # After the last lockout the parent's right code works, and the phone's record is cleared.
    assert (await try_code(client, code, ip=PARENT)).status_code == 201
    code = await request_code(client, runtime)
    for _ in range(PER_PHONE):
        assert (await try_code(client, wrong(code))).status_code == 400
    assert_locked(await try_code(client, code), BASE)


async def test_a_phone_left_alone_starts_afresh(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    code = await request_code(client, runtime)
    for delay in (BASE, 2 * BASE):
        for _ in range(PER_PHONE):
            await try_code(client, wrong(code))
        assert_locked(await try_code(client, code), delay)
        clock.advance(timedelta(seconds=delay))
    clock.advance(timedelta(seconds=FORGET))
    code = await request_code(client, runtime)
    for _ in range(PER_PHONE):
        assert (await try_code(client, wrong(code))).status_code == 400
    assert_locked(await try_code(client, code), BASE)


async def test_one_phone_locked_leaves_other_phones_alone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    code = await request_code(client, runtime)
    other = "+77015550032"
    other_code = await request_code(client, runtime, other)
    for _ in range(PER_PHONE):
        await try_code(client, wrong(code))
    assert_locked(await try_code(client, code), BASE)
    assert (await try_code(client, other_code, phone=other)).status_code == 201


async def test_wrong_codes_from_one_address_lock_that_address(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    # Guessing across many phones, fewer than PER_PHONE each, still runs into the address lock.
    phones = [f"+7701555{n:04d}" for n in range(100, 100 + PER_IP)]
    codes = {phone: await request_code(client, runtime, phone) for phone in phones}
    for phone in phones:
        assert (await try_code(client, wrong(codes[phone]), phone=phone)).status_code == 400
    victim = "+77015559999"
    victim_code = await request_code(client, runtime, victim)
    assert_locked(await try_code(client, victim_code, phone=victim), BASE)
    # Parents on other addresses are not held back by it.
    assert (await try_code(client, victim_code, phone=victim, ip=PARENT)).status_code == 201
    clock.advance(timedelta(seconds=BASE))
    for phone in phones[:PER_IP]:
        await try_code(client, wrong(codes[phone]), phone=phone)
    assert_locked(await try_code(client, codes[phones[0]], phone=phones[0]), 2 * BASE)


async def test_right_codes_from_a_shared_address_never_lock_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # Many parents behind one carrier NAT: each right code gives its attempt back.
    for n in range(PER_IP + 5):
        phone = f"+7701556{n:04d}"
        code = await request_code(client, runtime, phone)
        assert (await try_code(client, code, phone=phone)).status_code == 201
    phone = "+77015561111"
    code = await request_code(client, runtime, phone)
    for _ in range(PER_PHONE - 1):
        assert (await try_code(client, wrong(code), phone=phone)).status_code == 400
    assert (await try_code(client, code, phone=phone)).status_code == 201


async def test_parallel_guesses_cannot_outrun_the_count(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    code = await request_code(client, runtime)
    responses = await asyncio.gather(*(try_code(client, wrong(code)) for _ in range(4 * PER_PHONE)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [400] * PER_PHONE + [429] * 3 * PER_PHONE
    assert await attempts_on_codes(runtime) == PER_PHONE


async def test_parallel_guesses_cannot_share_a_codes_attempts(
    client: httpx.AsyncClient, runtime: Runtime, parental_settings: ParentalSettings
) -> None:
    parental_settings.sign_in_code_max_attempts = 3
    parental_settings.sign_in_lockout_failures_per_phone = 1000
    parental_settings.sign_in_lockout_failures_per_ip = 1000
    code = await request_code(client, runtime)
    responses = await asyncio.gather(*(try_code(client, wrong(code)) for _ in range(10)))
    assert {r.status_code for r in responses} == {400}
    assert await attempts_on_codes(runtime) == 3
    # The code's three tries are spent: the right code no longer works either.
    assert (await try_code(client, code)).status_code == 400


class UnreachableCache(MemoryCache):
    """Redis gone: every call fails the way the client does."""

    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("redis is down")

    async def set_newer(self, key: str, value: bytes, *, rank: float, ttl_seconds: int) -> bool:
        raise ConnectionError("redis is down")

    async def delete(self, key: str) -> None:
        raise ConnectionError("redis is down")


async def test_the_lockout_holds_in_memory_while_its_store_is_down(clock: FrozenClock) -> None:
    policy = LockoutPolicy("test:down", 2, base_seconds=30, max_seconds=60, forget_seconds=600)
    lockouts = Lockouts(UnreachableCache(), secret="s" * 32)
    who = f"{id(clock)}"  # the fallback memory is per process: a key no other test uses
    for _ in range(2):
        await lockouts.attempt(policy, who, now=clock.now())
    with pytest.raises(TooManyRequests) as refused:
        await lockouts.attempt(policy, who, now=clock.now())
    assert refused.value.retry_after == 30
    await lockouts.succeeded(policy, who, now=clock.now(), forget=True)
    await lockouts.attempt(policy, who, now=clock.now())


async def test_lockout_keys_do_not_hold_the_phone_number(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    stored: list[str] = []
    original = runtime.limiter.state.set_newer

    async def spy(key: str, value: bytes, *, rank: float, ttl_seconds: int) -> bool:
        stored.append(key + value.decode())
        return await original(key, value, rank=rank, ttl_seconds=ttl_seconds)

    runtime.limiter.state.set_newer = spy  # type: ignore[method-assign]
    code = await request_code(client, runtime)
    await try_code(client, wrong(code))
    assert len(stored) == 2  # one record for the phone, one for the address
    assert not [s for s in stored if PHONE.lstrip("+") in s or ATTACKER in s]
