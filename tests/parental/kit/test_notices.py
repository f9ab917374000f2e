"""Notices reach every subscription: in process, and over Redis when it is configured."""

from __future__ import annotations

import os

from parental.kit.notices import LocalNotices, create_notices


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
