"""When Redis is unreachable, limits fall back to process memory instead of vanishing."""

from __future__ import annotations

import socket

import pytest

from parental.kit.errors import TooManyRequests
from parental.kit.ratelimit import RateLimiter, Rule


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
