"""Notices reach every subscription: in process, and over Redis when it is configured."""

from __future__ import annotations

import os

from parental.kit.notices import create_notices


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
