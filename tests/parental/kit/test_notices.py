"""Notices reach every subscriber: in process, and over Redis when it is configured."""

from __future__ import annotations

import asyncio
import os

from parental.kit.notices import create_notices


async def test_every_subscriber_gets_later_notices() -> None:
    notices = create_notices(os.environ.get("REDIS_URL"))
    received: list[list[str]] = [[], []]
    ready = asyncio.Event()

    async def listen(into: list[str]) -> None:
        async for message in notices.subscribe("test.channel"):
            into.append(message)
            if message == "v2":
                return

    tasks = [asyncio.create_task(listen(r)) for r in received]
    try:
        # Subscriptions start when the generators first run; give them a moment to attach.
        for _ in range(100):
            await notices.publish("test.channel", "ping")
            await asyncio.sleep(0.02)
            if all(received):
                ready.set()
                break
        assert ready.is_set()
        await notices.publish("test.channel", "v2")
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert [r[-1] for r in received] == ["v2", "v2"]
    finally:
        for task in tasks:
            task.cancel()
        await notices.close()
