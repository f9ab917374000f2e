"""Small notices between processes ("version 42 is published", "profile X changed").

With Redis configured they travel over Redis pub/sub to every process of the deployment;
without it, over in-process queues (the embedded default runs one process). A notice is a
hint to reload, never the data itself: a process that misses one catches up by its own
polling, so losing Redis delays a reload but cannot leave a process on wrong data for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol

from redis.asyncio import Redis

log = logging.getLogger(__name__)


class Notices(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...


class LocalNotices:
    """In-process fan-out: every subscriber of a channel gets every later message."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def publish(self, channel: str, message: str) -> None:
        for queue in list(self._queues[channel]):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[channel].discard(queue)

    async def close(self) -> None:
        self._queues.clear()


class RedisNotices:
    """Redis pub/sub, shared by every process connected to the same Redis."""

    def __init__(self, url: str, *, prefix: str = "parental:notice:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=2)
        self._prefix = prefix

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._prefix + channel, message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._prefix + channel)
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    data = item["data"]
                    yield data.decode() if isinstance(data, bytes) else str(data)
        finally:
            # Closing the connection is the unsubscribe; it must not wait on a server reply
            # (the subscription may be cancelled while it is still connecting).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.reset(), 1.0)

    async def close(self) -> None:
        await self._redis.aclose()


def create_notices(redis_url: str | None) -> Notices:
    return RedisNotices(redis_url) if redis_url else LocalNotices()
