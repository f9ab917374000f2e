"""Moving-window rate limits, in process memory and on Redis, and the sign-in code limit."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from parental.kit.errors import TooManyRequests
from parental.kit.ratelimit import RateLimiter, Rule
from parental.runtime import Runtime
from parental.sms.sender import LogSmsSender
from tests.conftest import sms_code

REDIS_URL = os.environ.get("REDIS_URL")
RULE = Rule("x", "3/minute")


# The Redis case runs in the run configured with Redis (CI's second pass), not as a skip.
@pytest.fixture(params=["memory", "redis"] if REDIS_URL else ["memory"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        rl = RateLimiter(None)
    else:
        # A prefix of its own, so this test neither sees nor clears anyone else's counters.
        rl = RateLimiter(REDIS_URL, key_prefix=f"test-limits-{uuid.uuid4().hex}")
    try:
        yield rl
    finally:
        await rl.reset()
        await rl.close()


async def test_the_hit_over_the_limit_raises_with_retry_after(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit(RULE, "+77011234567")

    with pytest.raises(TooManyRequests) as raised:
        await limiter.hit(RULE, "+77011234567", detail="slow down")

    assert raised.value.status_code == 429
    assert 1 <= raised.value.retry_after <= 60
    assert raised.value.headers == {"Retry-After": str(raised.value.retry_after)}
    assert raised.value.detail == "slow down"
    # Refused hits keep being refused while the window lasts.
    with pytest.raises(TooManyRequests):
        await limiter.hit(RULE, "+77011234567")


async def test_identifiers_are_counted_separately(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit(RULE, "+77011234567")

    for _ in range(3):
        await limiter.hit(RULE, "+77019876543")
    with pytest.raises(TooManyRequests):
        await limiter.hit(RULE, "+77011234567")
    with pytest.raises(TooManyRequests):
        await limiter.hit(RULE, "+77019876543")


async def test_rules_are_counted_separately(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit(RULE, "10.0.0.1")

    await limiter.hit(Rule("y", "3/minute"), "10.0.0.1")
    with pytest.raises(TooManyRequests):
        await limiter.hit(RULE, "10.0.0.1")


async def test_several_identifiers_form_one_key(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit(RULE, "family-1", "child-1")

    await limiter.hit(RULE, "family-1", "child-2")
    with pytest.raises(TooManyRequests):
        await limiter.hit(RULE, "family-1", "child-1")


async def test_reset_clears_the_counters(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit(RULE, "+77011234567")

    await limiter.reset()

    await limiter.hit(RULE, "+77011234567")


async def test_sign_in_codes_are_limited_per_phone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    phone = "+77011234567"
    window = runtime.settings.limit_code_requests_per_phone
    assert window.startswith("3/"), window  # the test below counts on three per window
    statuses = []
    for _ in range(3):
        response = await client.post("/v1/auth/sign-in-codes", json={"phone": phone})
        statuses.append(response.status_code)
    third_code = sms_code(runtime, phone)

    refused = await client.post("/v1/auth/sign-in-codes", json={"phone": "+7 701 123 45 67"})

    assert [*statuses, refused.status_code] == [202, 202, 202, 429]
    body = refused.json()
    assert body["error"] == "TooManyRequests"
    assert isinstance(body["retry_after"], int)
    assert body["retry_after"] >= 1
    assert refused.headers["Retry-After"] == str(body["retry_after"])
    # The refused request sent nothing and stored nothing: the third code still signs in.
    assert isinstance(runtime.sms, LogSmsSender)
    assert [m.to for m in runtime.sms.sent] == [phone] * 3
    signed_in = await client.post("/v1/auth/tokens", json={"phone": phone, "code": third_code})
    assert signed_in.status_code == 201, signed_in.text


async def test_the_phone_limit_leaves_other_phones_alone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for _ in range(4):
        await client.post("/v1/auth/sign-in-codes", json={"phone": "+77011234567"})

    other = await client.post("/v1/auth/sign-in-codes", json={"phone": "+77019876543"})

    assert other.status_code == 202, other.text
