"""The SMS budget cannot be drained: per phone, per address, per day overall (issue 9).

Each test counts what reached the SMS sender: a refused request sends nothing and stores no
code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from parental.auth.models import SignInCode
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender
from tests.parental.auth.callers import address_client, from_address

BUDGET = 6
OPEN = "1000/minute"  # a limit out of the way of the one under test


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(
        limit_code_requests_per_phone="2/10minutes",
        limit_code_requests_per_phone_daily="3/day",
        limit_code_requests_per_ip="4/hour",
        sms_daily_budget=BUDGET,
    )


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with address_client(runtime) as c:
        yield c


def sent(runtime: Runtime) -> int:
    assert isinstance(runtime.sms, LogSmsSender)
    return len(runtime.sms.sent)


async def stored_codes(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SignInCode)) or 0)


async def ask(client: httpx.AsyncClient, phone: str, ip: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/sign-in-codes", json={"phone": phone}, headers=from_address(ip)
    )


def phone(n: int) -> str:
    return f"+7701557{n:04d}"


def address(n: int) -> str:
    return f"198.51.100.{n}"


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "TooManyRequests"
    assert int(response.headers["retry-after"]) >= 1


async def test_one_phone_gets_a_few_texts_whatever_the_address(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for n in range(2):
        assert (await ask(client, phone(1), address(n))).status_code == 202
    for n in range(2, 6):
        assert_too_many(await ask(client, phone(1), address(n)))
    assert sent(runtime) == 2
    assert await stored_codes(runtime) == 2


async def test_one_phone_gets_few_texts_a_day(
    client: httpx.AsyncClient, runtime: Runtime, parental_settings: ParentalSettings
) -> None:
    parental_settings.limit_code_requests_per_phone = OPEN
    for n in range(3):
        assert (await ask(client, phone(1), address(n))).status_code == 202
    for n in range(3, 6):
        assert_too_many(await ask(client, phone(1), address(n)))
    assert sent(runtime) == 3


async def test_one_address_gets_a_few_texts_whatever_the_phone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for n in range(4):
        assert (await ask(client, phone(n), address(1))).status_code == 202
    for n in range(4, 8):
        assert_too_many(await ask(client, phone(n), address(1)))
    assert sent(runtime) == 4
    # Another address is not held back by it.
    assert (await ask(client, phone(9), address(2))).status_code == 202
    assert sent(runtime) == 5


async def test_the_daily_budget_holds_against_many_phones_and_addresses(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for n in range(BUDGET):
        assert (await ask(client, phone(n), address(n))).status_code == 202
    for n in range(BUDGET, BUDGET + 5):
        refused = await ask(client, phone(n), address(n))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "SmsBudgetExhausted"
        assert int(refused.headers["retry-after"]) >= 1
    assert sent(runtime) == BUDGET
    assert await stored_codes(runtime) == BUDGET


async def test_requests_refused_per_caller_do_not_spend_the_budget(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # One attacker hammering one phone from one address cannot use up everyone's budget.
    for _ in range(3 * BUDGET):
        await ask(client, phone(1), address(1))
    assert sent(runtime) == 2
    for n in range(10, 10 + BUDGET - 2):  # the budget less the two texts phone(1) got
        assert (await ask(client, phone(n), address(n))).status_code == 202, n
    assert (await ask(client, phone(99), address(99))).status_code == 503
    assert sent(runtime) == BUDGET
