"""When Redis is unreachable, limits fall back to process memory instead of vanishing."""

from __future__ import annotations

import socket

import pytest

from parental.kit.errors import TooManyRequests
from parental.kit.ratelimit import RateLimiter, RateLimitUnavailable, Rule


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_limits_hold_while_redis_is_down() -> None:
    limiter = RateLimiter(f"redis://127.0.0.1:{closed_port()}/0")
    rule = Rule("fallback", "2/minute")
    try:
        await limiter.hit(rule, "phone")
        await limiter.hit(rule, "phone")
        with pytest.raises(TooManyRequests):
            await limiter.hit(rule, "phone")
        await limiter.hit(rule, "another phone")
    finally:
        await limiter.close()


async def test_a_fail_closed_rule_refuses_while_redis_is_down() -> None:
    limiter = RateLimiter(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        with pytest.raises(RateLimitUnavailable) as refused:
            await limiter.hit(Rule("sign-in", "100/minute", fail_closed=True), "phone")
        assert refused.value.status_code == 503
        assert int(refused.value.headers["Retry-After"]) > 0
    finally:
        await limiter.close()


async def test_a_fail_closed_rule_counts_in_memory_without_redis() -> None:
    limiter = RateLimiter(None)  # the embedded default: memory is the store, not a fallback
    rule = Rule("sign-in", "1/minute", fail_closed=True)
    await limiter.hit(rule, "phone")
    with pytest.raises(TooManyRequests):
        await limiter.hit(rule, "phone")
