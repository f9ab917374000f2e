"""The live stream's bytes, from in-process notices: no HTTP, no database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from parental.kit.cache import MemoryCache
from parental.kit.notices import LocalNotices, Subscription
from telemetry.locations.schemas import LocationRead
from telemetry.locations.stream import is_watched, location_events, publish_fixes, watched_key

CHILD = uuid.UUID("22222222-2222-4222-8222-222222222222")


def position(minute: int) -> LocationRead:
    return LocationRead(
        id=uuid.uuid4(),
        device_id=None,
        source="carrier_cell",
        fixed_at=datetime(2026, 11, 25, 9, minute, tzinfo=UTC),
        latitude=43.2,
        longitude=76.9,
        accuracy_m=1500,
        altitude_m=None,
        speed_mps=None,
        heading_deg=None,
        battery_pct=None,
        charging=None,
    )


async def test_a_stream_forwards_its_childs_fixes_beats_and_ends() -> None:
    notices = LocalNotices()
    stream = location_events(notices, MemoryCache(), CHILD, heartbeat=0.05, lifetime=0.5)
    assert await anext(stream) == b": open\nretry: 5000\n\n"
    fixes = [position(1), position(2)]
    await publish_fixes(notices, uuid.uuid4(), [position(3)])  # another child's
    await publish_fixes(notices, CHILD, fixes)
    first, second = await anext(stream), await anext(stream)
    assert first == (
        f"event: location\ndata: {fixes[0].model_dump_json()}\nid: {fixes[0].id}\n\n".encode()
    )
    assert second.startswith(b"event: location\ndata: ")
    assert await anext(stream) == b": ping\n\n"
    rest = [chunk async for chunk in stream]  # ends after its lifetime
    assert set(rest) == {b": ping\n\n"}
    assert len(notices) == 0  # unsubscribed: no channel is listened to


async def test_closing_a_stream_unsubscribes_it() -> None:
    notices = LocalNotices()
    stream = location_events(notices, MemoryCache(), CHILD, heartbeat=10, lifetime=60)
    await anext(stream)
    assert len(notices) == 1
    await stream.aclose()
    assert len(notices) == 0


class Unreachable(LocalNotices):
    async def open(self, channel: str) -> Subscription:
        raise ConnectionError("redis is down")


async def test_a_stream_that_cannot_subscribe_ends_at_once() -> None:
    stream = location_events(Unreachable(), MemoryCache(), CHILD, heartbeat=10, lifetime=60)
    assert await asyncio.wait_for(anext(stream, None), timeout=1) is None


async def test_an_open_stream_marks_its_child_watched_and_renews_the_mark() -> None:
    cache = MemoryCache()
    assert not is_watched(await cache.get(watched_key(CHILD)), known=True)
    stream = location_events(LocalNotices(), cache, CHILD, heartbeat=0.05, lifetime=0.6)
    await anext(stream)
    assert is_watched(await cache.get(watched_key(CHILD)), known=True)
    await cache.delete(watched_key(CHILD))  # as if it had expired
    await anext(stream)  # a heartbeat later: marked again
    await anext(stream)
    assert is_watched(await cache.get(watched_key(CHILD)), known=True)
    await stream.aclose()


def test_a_mark_that_cannot_be_read_counts_as_watched() -> None:
    assert is_watched(None, known=False)
