"""A small key-value cache: Redis when ``REDIS_URL`` is set, an in-process dict otherwise.

Only what may be lost lives here (latest values, counters, fan-out); losing Redis degrades
the service, it never corrupts what SQL holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def reconnecting() -> Retry:
    """The retry policy of our Redis clients: a command that meets a pooled connection Redis
    closed (it restarted) goes again at once on a new one, so the first requests after a
    restart do not fail for nothing. Once only, and not after a timeout: with Redis down a
    refusal is quick, a second timeout would double the wait. A command cut off mid-way may
    run twice; ours tolerate it (a counted hit, a newer-wins write, a reload hint)."""
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys``, in order, in one round trip."""
        ...

    async def set(self, key: str, value: bytes, *, ttl_seconds: int | None = None) -> None: ...
    async def set_newer(self, key: str, value: bytes, *, rank: float, ttl_seconds: int) -> bool:
        """Set ``value`` unless the key holds one of a higher or equal ``rank`` (atomically:
        of two concurrent writers, the higher rank stays); whether it was set. A key written
        this way is meant to be written only this way (``set`` leaves its rank)."""
        ...

    async def delete(self, key: str) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    """The embedded default: one process, values kept with their expiry."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._ranks: dict[str, float] = {}

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, *, ttl_seconds: int | None = None) -> None:
        expires = time.monotonic() + ttl_seconds if ttl_seconds else None
        self._data[key] = (value, expires)

    async def set_newer(self, key: str, value: bytes, *, rank: float, ttl_seconds: int) -> bool:
        held = self._ranks.get(key)
        if held is not None and held >= rank and await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds=ttl_seconds)
        self._ranks[key] = rank
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)
        self._ranks.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()


_RANK = ":rank"
# KEYS: the value's key and its rank's; ARGV: value, rank, ttl. The rank lives beside the value
# and expires with it (keys written with set_newer are meant to be written only with it).
_SET_NEWER = """
local held = redis.call('GET', KEYS[2])
if held and redis.call('EXISTS', KEYS[1]) == 1 and tonumber(held) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""


class RedisCache:
    """Redis-backed cache shared by every process of the deployment.

    ``get_many`` calls made while one is on its way to Redis go together in the next MGET:
    each caller still gets values read after its call, and a busy process (many guardians
    watching their children's positions) pays the client's per-command cost once per group
    rather than once per read.
    """

    def __init__(self, url: str, *, prefix: str = "parental:") -> None:
        self.url = url
        self._prefix = prefix
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, retry=reconnecting()
        )
        self._waiting: list[tuple[list[str], asyncio.Future[list[bytes | None]]]] = []
        self._reader: asyncio.Task[None] | None = None
        self.mgets = 0  # commands sent, for tests and benchmarks
        self._set_newer = self._redis.register_script(_SET_NEWER)

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        return value.encode() if isinstance(value, str) else value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        done: asyncio.Future[list[bytes | None]] = asyncio.get_running_loop().create_future()
        self._waiting.append(([self._prefix + key for key in keys], done))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
        return await done

    async def _read(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            self.mgets += 1
            try:
                values = await self._redis.mget([key for keys, _ in group for key in keys])
            except Exception as exc:  # every caller of the group hears it
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            start = 0
            for keys, done in group:
                mine = values[start : start + len(keys)]
                start += len(keys)
                if not done.done():
                    done.set_result([v.encode() if isinstance(v, str) else v for v in mine])

    async def set(self, key: str, value: bytes, *, ttl_seconds: int | None = None) -> None:
        await self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    async def set_newer(self, key: str, value: bytes, *, rank: float, ttl_seconds: int) -> bool:
        full = self._prefix + key
        done = await self._set_newer(keys=[full, full + _RANK], args=[value, rank, ttl_seconds])
        return bool(done)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key, self._prefix + key + _RANK)

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()


def create_cache(redis_url: str | None) -> Cache:
    return RedisCache(redis_url) if redis_url else MemoryCache()
