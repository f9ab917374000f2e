"""Rate limits on top of the ``limits`` library: Redis when configured, process memory otherwise.

A moving window per (rule, identifiers), so a burst at a window boundary cannot double the
allowance. When Redis is down the check falls back to this process's memory and logs it:
limits stay (per process, so looser) and a cache outage does not stop uploads and writes.
A rule that guards a secret someone could guess (sign-in and pairing codes, staff passwords)
is ``fail_closed`` instead: with Redis down it refuses with 503 ``RateLimitUnavailable`` (and
Retry-After), because per-process memory multiplies the allowance by the number of processes
and restarts reset it. The client's next try after Redis is back goes through: the limiter
reconnects on its own.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from parental.kit.cache import Cache, MemoryCache, RedisCache, reconnecting
from parental.kit.errors import ServiceUnavailable, TooManyRequests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A named limit such as ``Rule("sign-in-code:phone", "3/10minutes")``; ``fail_closed``:
    refuse (503) rather than count in memory while Redis is unreachable."""

    name: str
    limit: str
    fail_closed: bool = False

    @property
    def item(self) -> RateLimitItem:
        return parse(self.limit)


class RateLimitUnavailable(ServiceUnavailable):
    message = "Attempts cannot be counted while a service recovers; try again in a few seconds."

    # Redis is restarted or failed over in seconds; a client asking sooner only adds load.
    RETRY_AFTER_SECONDS = 5

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)})


class RateLimiter:
    def __init__(self, redis_url: str | None, *, key_prefix: str = "parental-limits") -> None:
        self._storage: Storage
        self._pool: ConnectionPool | None = None
        if redis_url:
            # Our own pool, so close() can release it (the limits storage has no close).
            self._pool = ConnectionPool.from_url(
                redis_url, socket_timeout=2, socket_connect_timeout=2, retry=reconnecting()
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
        # State that belongs with the limits (lockouts, parental.auth.lockout) lives beside the
        # counters, under the same key prefix: shared by every process, and reset with them.
        self.state: Cache = (
            RedisCache(redis_url, prefix=f"{key_prefix}:state:") if redis_url else MemoryCache()
        )
        self._fallback = MovingWindowRateLimiter(MemoryStorage())

    async def hit(self, rule: Rule, *identifiers: str, detail: str | None = None) -> None:
        """Count one hit; raise ``TooManyRequests`` (with Retry-After) once the limit is spent,
        ``RateLimitUnavailable`` for a ``fail_closed`` rule the shared storage cannot count."""
        item = rule.item
        try:
            allowed = await self._limiter.hit(item, rule.name, *identifiers)
            if allowed:
                return
            stats = await self._limiter.get_window_stats(item, rule.name, *identifiers)
        except (RedisError, StorageError, OSError) as exc:
            if rule.fail_closed:
                log.warning("rate limit storage unavailable, refusing %s: %s", rule.name, exc)
                raise RateLimitUnavailable() from exc
            log.warning("rate limit storage unavailable, limiting in memory: %s", exc)
            if await self._fallback.hit(item, rule.name, *identifiers):
                return
            stats = await self._fallback.get_window_stats(item, rule.name, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(detail, retry_after=retry_after)

    async def reset(self) -> None:
        await self._storage.reset()  # on Redis, ``state`` too (its keys share the prefix)
        if isinstance(self.state, MemoryCache):
            self.state = MemoryCache()

    async def close(self) -> None:
        await self.state.close()
        if self._pool is not None:
            await self._pool.aclose()
