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

from parental.kit.cache import reconnecting

log = logging.getLogger(__name__)


class Subscription(Protocol):
    async def next(self, wait_seconds: float) -> str | None:
        """The next notice, or None when ``wait_seconds`` pass without one."""
        ...

    async def close(self) -> None: ...


class Notices(Protocol):
    @property
    def gaps(self) -> int:
        """How many times notices may have been lost here (the connection dropped and came
        back): a listener that keeps state from them starts afresh when this changes."""
        ...

    async def publish(self, channel: str, message: str) -> None: ...

    async def open(self, channel: str) -> Subscription: ...

    async def close(self) -> None: ...


async def _next(queue: asyncio.Queue[str], wait_seconds: float) -> str | None:
    """The next message, or None after ``wait_seconds``. Not ``asyncio.wait_for``: on Python
    3.11 it returns the message when the listener is cancelled just as one arrives, and the
    cancellation is lost (a listener told to stop as a notice came kept running)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait_seconds):
            return await queue.get()
    return None


class _QueueSubscription:
    def __init__(self, owner: LocalNotices, channel: str) -> None:
        self._owner = owner
        self._channel = channel
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    async def next(self, wait_seconds: float) -> str | None:
        return await _next(self.queue, wait_seconds)

    async def close(self) -> None:
        self._owner._forget(self._channel, self)


class LocalNotices:
    """In-process fan-out: every subscription of a channel gets every later message."""

    def __init__(self) -> None:
        # Only channels someone listens to: a child's channel is published to with each batch
        # of fixes, listened to only while a guardian's stream is open.
        self._queues: dict[str, set[_QueueSubscription]] = {}
        self.gaps = 0  # in-process: none is ever lost

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


class _SharedSubscription:
    """One listener of a channel of ``RedisNotices``: a queue its reader task fills."""

    def __init__(self, owner: RedisNotices, channel: str) -> None:
        self._owner = owner
        self._channel = channel
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    async def next(self, wait_seconds: float) -> str | None:
        return await _next(self.queue, wait_seconds)

    async def close(self) -> None:
        await self._owner._forget(self._channel, self)


class RedisNotices:
    """Redis pub/sub, shared by every process connected to the same Redis.

    One pub/sub connection per process, whatever the number of listeners: a channel is
    subscribed while at least one listener of this process has it open, and one reader task
    hands each message to every local listener of its channel (a thousand open location
    streams are a thousand queues, not a thousand Redis connections). When the connection
    drops, the reader logs it and tries again each second; redis-py subscribes the channels
    again on reconnecting. Notices sent meanwhile are lost, as the module says they may be.
    """

    RETRY_SECONDS = 1.0

    def __init__(
        self, url: str, *, prefix: str = "parental:notice:", client_name: str | None = None
    ) -> None:
        self._redis: Redis = Redis.from_url(
            url, socket_connect_timeout=2, client_name=client_name, retry=reconnecting()
        )
        self._prefix = prefix
        self._pubsub: PubSub | None = None
        self._listeners: dict[str, set[_SharedSubscription]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.gaps = 0

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._prefix + channel, message)

    async def open(self, channel: str) -> Subscription:
        """Listen to ``channel``; raises (and changes nothing) when Redis cannot be reached
        for a channel this process did not listen to yet."""
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            listening = self._listeners.get(channel)
            if listening is None:
                await self._pubsub.subscribe(self._prefix + channel)
                listening = self._listeners[channel] = set()
            subscription = _SharedSubscription(self, channel)
            listening.add(subscription)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="redis-notices")
        return subscription

    def __len__(self) -> int:
        """How many channels this process listens to."""
        return len(self._listeners)

    async def _forget(self, channel: str, subscription: _SharedSubscription) -> None:
        async with self._lock:
            listening = self._listeners.get(channel)
            if listening is None or subscription not in listening:
                return
            listening.discard(subscription)
            if listening:
                return
            del self._listeners[channel]
            if self._pubsub is not None:
                try:
                    await self._pubsub.unsubscribe(self._prefix + channel)
                except Exception:  # gone with the connection; not subscribed on reconnecting
                    log.info("unsubscribing from a notice channel failed", exc_info=True)

    async def _read(self) -> None:
        failing = False
        while self._pubsub is not None:  # until close(), idle or not
            try:
                item = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self.RETRY_SECONDS
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                if not failing:
                    log.warning("reading notices from Redis failed; retrying", exc_info=True)
                failing = True
                await asyncio.sleep(self.RETRY_SECONDS)
                continue
            if failing:
                log.info("reading notices from Redis again")
                failing = False
                self.gaps += 1
            if item is None or item.get("type") != "message":
                continue
            raw_channel, data = item["channel"], item["data"]
            name = raw_channel.decode() if isinstance(raw_channel, bytes) else str(raw_channel)
            message = data.decode() if isinstance(data, bytes) else str(data)
            for listener in list(self._listeners.get(name.removeprefix(self._prefix), ())):
                listener.queue.put_nowait(message)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._listeners.clear()
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
        await self._redis.aclose()


def reaches_other_processes(notices: Notices) -> bool:
    """Whether notices published here reach other processes (and theirs reach this one)."""
    return isinstance(notices, RedisNotices)


def create_notices(redis_url: str | None) -> Notices:
    return RedisNotices(redis_url) if redis_url else LocalNotices()
