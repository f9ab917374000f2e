"""Small notices between processes ("version 42 is published", "profile X changed").

With Redis configured they travel over Redis pub/sub to every process of the deployment;
without it, over in-process queues (the embedded default runs one process). A notice is a
hint to reload, never the data itself: a process that misses one catches up by its own
polling, so losing Redis delays a reload but cannot leave a process on wrong data for long.

A subscription is opened (connected and subscribed) by an awaited call, before the task that
reads it starts, so stopping that task never interrupts a connection half made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)


class Subscription(Protocol):
    async def next(self, wait_seconds: float) -> str | None:
        """The next notice, or None when ``wait_seconds`` pass without one."""
        ...

    async def close(self) -> None: ...


class Notices(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...

    async def open(self, channel: str) -> Subscription: ...

    async def close(self) -> None: ...


class _QueueSubscription:
    def __init__(self, owner: LocalNotices, channel: str) -> None:
        self._owner = owner
        self._channel = channel
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    async def next(self, wait_seconds: float) -> str | None:
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.queue.get(), wait_seconds)
        return None

    async def close(self) -> None:
        self._owner._forget(self._channel, self)


class LocalNotices:
    """In-process fan-out: every subscription of a channel gets every later message."""

    def __init__(self) -> None:
        # Only channels someone listens to: a child's channel is published to with each batch
        # of fixes, listened to only while a guardian's stream is open.
        self._queues: dict[str, set[_QueueSubscription]] = {}

    async def publish(self, channel: str, message: str) -> None:
        for subscription in list(self._queues.get(channel, ())):
            subscription.queue.put_nowait(message)

    async def open(self, channel: str) -> Subscription:
        subscription = _QueueSubscription(self, channel)
        self._queues.setdefault(channel, set()).add(subscription)
        return subscription

    def _forget(self, channel: str, subscription: _QueueSubscription) -> None:
        listening = self._queues.get(channel)
        if listening is not None:
            listening.discard(subscription)
            if not listening:
                del self._queues[channel]

    def __len__(self) -> int:
        """How many channels have a subscription."""
        return len(self._queues)

    async def close(self) -> None:
        self._queues.clear()


class _RedisSubscription:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def next(self, wait_seconds: float) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while (left := deadline - loop.time()) > 0:
            # Subscribe confirmations come back as None too: keep waiting until the deadline.
            item = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if item is not None and item.get("type") == "message":
                data = item["data"]
                return data.decode() if isinstance(data, bytes) else str(data)
        return None

    async def close(self) -> None:
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]


class RedisNotices:
    """Redis pub/sub, shared by every process connected to the same Redis."""

    def __init__(self, url: str, *, prefix: str = "parental:notice:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=2)
        self._prefix = prefix

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._prefix + channel, message)

    async def open(self, channel: str) -> Subscription:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._prefix + channel)
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        return _RedisSubscription(pubsub)

    async def close(self) -> None:
        await self._redis.aclose()


def create_notices(redis_url: str | None) -> Notices:
    return RedisNotices(redis_url) if redis_url else LocalNotices()
