"""Notices reach every subscription: in process, and over Redis when it is configured."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from redis.asyncio import Redis

from parental.kit.notices import LocalNotices, RedisNotices, create_notices
from tests.conftest import REDIS_URL


async def test_every_subscription_gets_later_notices() -> None:
    notices = create_notices(os.environ.get("REDIS_URL"))
    first = await notices.open("test.channel")
    second = await notices.open("test.channel")
    other = await notices.open("other.channel")
    try:
        assert await first.next(0.05) is None
        await notices.publish("test.channel", "v2")
        assert await first.next(5) == "v2"
        assert await second.next(5) == "v2"
        assert await other.next(0.2) is None
    finally:
        for subscription in (first, second, other):
            await subscription.close()
        await notices.close()


async def test_in_process_notices_keep_only_channels_someone_listens_to() -> None:
    notices = LocalNotices()
    for n in range(100):
        await notices.publish(f"location:{n}", "fix")
    assert len(notices) == 0
    listening = await notices.open("location:1")
    await notices.publish("location:1", "fix")
    assert await listening.next(1) == "fix"
    assert len(notices) == 1
    await listening.close()
    assert len(notices) == 0


redis_only = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


@redis_only
async def test_one_redis_connection_serves_every_listener_of_a_process() -> None:
    assert REDIS_URL is not None
    prefix = f"test:{uuid.uuid4().hex}:"
    notices = RedisNotices(REDIS_URL, prefix=prefix)
    server = Redis.from_url(REDIS_URL)
    try:
        streams = [await notices.open("child.1") for _ in range(3)]
        other = await notices.open("child.2")
        counts = dict(await server.pubsub_numsub(prefix + "child.1", prefix + "child.2"))
        assert counts == {(prefix + "child.1").encode(): 1, (prefix + "child.2").encode(): 1}
        await notices.publish("child.1", "fix")
        assert [await s.next(5) for s in streams] == ["fix", "fix", "fix"]
        assert await other.next(0.2) is None

        for stream in streams:
            await stream.close()
        assert len(notices) == 1
        counts = dict(await server.pubsub_numsub(prefix + "child.1"))
        assert counts == {(prefix + "child.1").encode(): 0}
        await notices.publish("child.2", "still here")
        assert await other.next(5) == "still here"
    finally:
        await notices.close()
        await server.aclose()


@redis_only
async def test_listeners_hear_again_after_the_connection_drops() -> None:
    assert REDIS_URL is not None
    name = f"notices-test-{uuid.uuid4().hex[:12]}"
    notices = RedisNotices(REDIS_URL, prefix=f"{name}:", client_name=name)
    server = Redis.from_url(REDIS_URL)
    try:
        listener = await notices.open("push.due")
        await notices.publish("push.due", "before")
        assert await listener.next(5) == "before"
        ours = [c for c in await server.client_list() if c.get("name") == name]
        pubsub = [c for c in ours if "P" in c.get("flags", "")]
        assert len(pubsub) == 1
        await server.client_kill_filter(_id=pubsub[0]["id"])
        # The reader reconnects and subscribes again; notices sent meanwhile may be lost.
        heard = None
        for _ in range(50):
            await notices.publish("push.due", "after")
            heard = await listener.next(0.2)
            if heard is not None:
                break
        assert heard == "after"
    finally:
        await notices.close()
        await server.aclose()


async def test_a_listener_cancelled_as_a_notice_arrives_stops() -> None:
    """The notice and the cancellation land in the same turn of the loop: the listener must
    stop (``asyncio.wait_for`` on Python 3.11 returned the notice and lost the cancellation)."""
    notices = LocalNotices()
    subscription = await notices.open("stop")
    listener = asyncio.create_task(subscription.next(5))
    await asyncio.sleep(0)  # waiting for a notice
    await notices.publish("stop", "hello")
    listener.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listener
    assert await subscription.next(0.01) == "hello"  # the notice stays for the next read
