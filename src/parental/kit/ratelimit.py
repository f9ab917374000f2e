"""Rate limits on top of the ``limits`` library: Redis when configured, process memory otherwise.

A moving window per (rule, identifiers), so a burst at a window boundary cannot double the
allowance. When Redis is down the check fails open for that request and logs it: limits are
abuse protection, and a cache outage must not lock every parent out.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from parental.kit.errors import TooManyRequests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A named limit such as ``Rule("sign-in-code:phone", "3/10minutes")``."""

    name: str
    limit: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.limit)


class RateLimiter:
    def __init__(self, redis_url: str | None, *, key_prefix: str = "parental-limits") -> None:
        self._storage: Storage
        self._pool: ConnectionPool | None = None
        if redis_url:
            # Our own pool, so close() can release it (the limits storage has no close).
            self._pool = ConnectionPool.from_url(
                redis_url, socket_timeout=2, socket_connect_timeout=2
            )
            self._storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix=key_prefix,
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        else:
            self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def hit(self, rule: Rule, *identifiers: str, detail: str | None = None) -> None:
        """Count one hit; raise ``TooManyRequests`` (with Retry-After) once the limit is spent."""
        item = rule.item
        try:
            allowed = await self._limiter.hit(item, rule.name, *identifiers)
            if allowed:
                return
            stats = await self._limiter.get_window_stats(item, rule.name, *identifiers)
        except (ConnectionError, OSError) as exc:  # Redis unreachable: degrade, never lock out
            log.warning("rate limit storage unavailable, allowing request: %s", exc)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(detail, retry_after=retry_after)

    async def reset(self) -> None:
        await self._storage.reset()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
