"""Storing, announcing and reading fixes through the service, on the test database (SQLite,
or PostgreSQL + Redis when configured)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.cache import MemoryCache
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.events import Event, EventBus
from parental.kit.notices import LocalNotices
from parental.runtime import Runtime
from telemetry.locations import positions, service, stream
from telemetry.locations.fix import Fix, FixListener, FixSource
from telemetry.locations.models import LocationFix
from telemetry.locations.schemas import CarrierPositionCreate, FixCreate, ItemStatus

DEVICE = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER_DEVICE = uuid.UUID("33333333-3333-4333-8333-333333333333")
POLICY = service.Policy(
    max_future_skew=timedelta(minutes=5),
    retention=timedelta(days=30),
    max_accuracy_m=5000,
    carrier_max_accuracy_m=50_000,
    carrier_fallback=timedelta(minutes=15),
    cache_seconds=300,
)


@pytest.fixture
def child() -> uuid.UUID:
    return uuid.uuid4()


def fix(at: datetime, **changes: Any) -> FixCreate:
    return FixCreate.model_validate(
        {"fixed_at": at, "latitude": 43.25, "longitude": 76.93, "accuracy_m": 10.0, **changes}
    )


def cell(at: datetime) -> CarrierPositionCreate:
    return CarrierPositionCreate(
        fixed_at=at, latitude=43.2, longitude=76.9, accuracy_m=1500.0, client_id=None
    )


async def ingest(
    runtime: Runtime,
    child: uuid.UUID,
    items: Sequence[FixCreate | CarrierPositionCreate],
    *,
    device: uuid.UUID | None = DEVICE,
    listeners: Sequence[FixListener] = (),
) -> service.Stored:
    async with transaction(runtime.sessions) as session:
        return await service.ingest(
            session,
            child_id=child,
            device_id=device,
            items=items,
            now=runtime.clock.now(),
            limits=POLICY.limits(carrier=device is None),
            listeners=listeners,
        )


async def stored_times(runtime: Runtime, child: uuid.UUID) -> list[datetime]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(LocationFix.fixed_at)
            .where(LocationFix.child_id == child)
            .order_by(LocationFix.fixed_at)
        )
        return list(rows)


class Heard(Event):
    count: int


class RecordingListener:
    """A listener that notes what it got and checks it runs inside the storing transaction."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.calls: list[list[Fix]] = []
        self.seen_in_transaction: list[int] = []
        self.seen_outside: list[int] = []

    async def __call__(
        self, session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        self.calls.append(list(fixes))
        count = select(func.count()).select_from(LocationFix)
        count = count.where(LocationFix.child_id == child_id)
        self.seen_in_transaction.append(int(await session.scalar(count) or 0))
        async with self.runtime.sessions() as other:
            self.seen_outside.append(int(await other.scalar(count) or 0))
        return [Heard(occurred_at=now, count=len(fixes))]


async def test_a_fix_is_stored_once_however_often_it_is_sent(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    first = await ingest(runtime, child, [fix(now - timedelta(minutes=2)), fix(now)])
    assert [i.status for i in first.result.items] == [ItemStatus.ACCEPTED] * 2

    again = await ingest(
        runtime,
        child,
        [fix(now), fix(now - timedelta(minutes=1)), fix(now - timedelta(minutes=1))],
    )
    assert [i.status for i in again.result.items] == [
        ItemStatus.DUPLICATE,
        ItemStatus.ACCEPTED,
        ItemStatus.DUPLICATE,
    ]
    assert (again.result.accepted, again.result.duplicate, again.result.rejected) == (1, 2, 0)
    assert [f.fixed_at for f in again.fixes] == [now - timedelta(minutes=1)]
    assert await stored_times(runtime, child) == [now - timedelta(minutes=m) for m in (2, 1, 0)]

    # The same instant from another device of the child is another fix.
    other = await ingest(runtime, child, [fix(now)], device=OTHER_DEVICE)
    assert other.result.accepted == 1


async def test_concurrent_uploads_of_the_same_fixes_store_each_once(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    batch = [fix(now - timedelta(seconds=s)) for s in range(50)]
    results = await asyncio.gather(*(ingest(runtime, child, batch) for _ in range(4)))
    assert sum(r.result.accepted for r in results) == 50
    assert sum(r.result.duplicate for r in results) == 150
    assert len(await stored_times(runtime, child)) == 50


async def test_listeners_get_only_new_fixes_sorted_once_inside_the_transaction(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    listener = RecordingListener(runtime)
    await ingest(runtime, child, [fix(now - timedelta(minutes=5))])
    stored = await ingest(
        runtime,
        child,
        [
            fix(now),
            fix(now - timedelta(minutes=5)),  # stored before
            fix(now - timedelta(minutes=9), battery_pct=40),
            fix(now - timedelta(minutes=7), latitude=123),  # rejected
            fix(now),  # repeated
        ],
        listeners=[listener],
    )
    assert len(listener.calls) == 1
    assert [f.fixed_at for f in listener.calls[0]] == [now - timedelta(minutes=9), now]
    assert listener.calls[0][0] == Fix(
        child_id=child,
        device_id=DEVICE,
        fixed_at=now - timedelta(minutes=9),
        latitude=43.25,
        longitude=76.93,
        accuracy_m=10.0,
        source=FixSource.GPS,
        battery_pct=40,
    )
    # The listener's session sees the new fixes; another connection does not, yet.
    assert listener.seen_in_transaction == [3]
    assert listener.seen_outside == [1]
    assert stored.events == [Heard(occurred_at=now, count=2)]

    nothing_new = await ingest(runtime, child, [fix(now)], listeners=[listener])
    assert nothing_new.events == []
    assert len(listener.calls) == 1


async def test_a_listener_failure_stores_nothing(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    async def failing(
        session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        raise RuntimeError("geofences broke")

    with pytest.raises(RuntimeError):
        await ingest(runtime, child, [fix(clock.now())], listeners=[failing])
    assert await stored_times(runtime, child) == []


async def test_carrier_positions_are_stored_without_a_device(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    stored = await ingest(runtime, child, [cell(now), cell(now)], device=None)
    assert [i.status for i in stored.result.items] == [ItemStatus.ACCEPTED, ItemStatus.DUPLICATE]
    assert stored.fixes[0].source is FixSource.CARRIER_CELL
    assert stored.fixes[0].device_id is None
    refused = await ingest(runtime, child, [cell(now).model_copy(update={"accuracy_m": 60_000})])
    assert refused.result.rejected == 1


# --- announcing -------------------------------------------------------------------------


async def test_announcing_moves_the_cached_latest_forward_only(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    bus = EventBus()
    heard: list[Event] = []

    async def hear(event: Heard) -> None:
        heard.append(event)

    bus.subscribe(Heard, hear)
    outlets = service.Outlets(runtime.cache, runtime.notices, bus)
    newer = await ingest(runtime, child, [fix(now - timedelta(minutes=1))])
    await service.announce(outlets, newer, cache_seconds=300)
    older = await ingest(
        runtime, child, [fix(now - timedelta(minutes=3))], listeners=[RecordingListener(runtime)]
    )
    await service.announce(outlets, older, cache_seconds=300)
    assert heard == [Heard(occurred_at=now, count=1)]

    async with runtime.sessions() as session:
        latest = await positions.latest(session, runtime.cache, child, now=now, policy=POLICY)
    assert latest.location == newer.fixes[0]


async def test_new_fixes_are_published_only_while_a_stream_of_the_child_is_open(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    notices = LocalNotices()
    outlets = service.Outlets(runtime.cache, notices, EventBus())
    subscription = await notices.open(stream.channel(child))
    unwatched = await ingest(runtime, child, [fix(now - timedelta(minutes=2))])
    await service.announce(outlets, unwatched, cache_seconds=300)
    assert await subscription.next(0.05) is None  # nobody watches: nothing serialised or sent

    await runtime.cache.set(stream.watched_key(child), b"1", ttl_seconds=45)
    watched = await ingest(runtime, child, [fix(now - timedelta(minutes=1))])
    await service.announce(outlets, watched, cache_seconds=300)
    message = await subscription.next(1)
    assert message is not None
    assert [f.fixed_at for f in stream.FIXES.validate_json(message)] == [now - timedelta(minutes=1)]
    # The caller may say it, read with something else (the upload fast path).
    told = await ingest(runtime, child, [fix(now)])
    await service.announce(outlets, told, cache_seconds=300, watched=False)
    assert await subscription.next(0.05) is None
    await subscription.close()


class BrokenCache(MemoryCache):
    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("redis is down")

    async def set(self, key: str, value: bytes, *, ttl_seconds: int | None = None) -> None:
        raise ConnectionError("redis is down")


async def test_without_the_cache_events_are_still_published_and_sql_answers(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    bus = EventBus()
    heard: list[Event] = []

    async def hear(event: Heard) -> None:
        heard.append(event)

    bus.subscribe(Heard, hear)
    stored = await ingest(
        runtime, child, [fix(clock.now())], listeners=[RecordingListener(runtime)]
    )
    await service.announce(
        service.Outlets(BrokenCache(), LocalNotices(), bus), stored, cache_seconds=1
    )
    assert len(heard) == 1
    async with runtime.sessions() as session:
        latest = await positions.latest(
            session, BrokenCache(), child, now=clock.now(), policy=POLICY
        )
    assert latest.location == stored.fixes[0]


async def test_a_cached_value_that_does_not_decode_is_a_miss(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    """A value an older release wrote, or a corrupted one: SQL answers instead."""
    stored = await ingest(runtime, child, [fix(clock.now())])
    key = positions._cache_key(child, carrier=False)
    await runtime.cache.set(key, b'{"id": "not a fix"}', ttl_seconds=60)
    async with runtime.sessions() as session:
        shown = await positions.latest(
            session, runtime.cache, child, now=clock.now(), policy=POLICY
        )
    assert shown.location == stored.fixes[0]
    assert await runtime.cache.get(key) == stored.fixes[0].model_dump_json().encode()


# --- the latest position ----------------------------------------------------------------


async def latest(runtime: Runtime, child: uuid.UUID) -> Any:
    async with runtime.sessions() as session:
        return await positions.latest(
            session, runtime.cache, child, now=runtime.clock.now(), policy=POLICY
        )


async def test_latest_falls_back_to_the_carrier_when_the_device_is_silent(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    t0 = clock.now()
    assert (await latest(runtime, child)).location is None
    device = await ingest(runtime, child, [fix(t0)])
    clock.advance(timedelta(minutes=10))
    carrier = await ingest(runtime, child, [cell(clock.now())], device=None)
    # SQL answered "none" above: only announcing the new fixes replaces that in the cache.
    for stored in (device, carrier):
        await service.announce(
            service.Outlets(runtime.cache, runtime.notices, EventBus()), stored, cache_seconds=300
        )

    clock.advance(timedelta(minutes=5))
    shown = await latest(runtime, child)
    assert (shown.location, shown.basis) == (device.fixes[0], "device")

    clock.advance(timedelta(seconds=1))
    shown = await latest(runtime, child)
    assert (shown.location, shown.basis, shown.device_fixed_at) == (
        carrier.fixes[0],
        "carrier_fallback",
        t0,
    )


async def test_latest_reads_sql_when_the_cache_is_empty_and_never_shows_expired_fixes(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    t0 = clock.now()
    await ingest(runtime, child, [fix(t0 - timedelta(minutes=1)), fix(t0)])
    await ingest(runtime, child, [cell(t0 - timedelta(hours=1))], device=None)
    shown = await latest(runtime, child)
    assert (shown.location.fixed_at, shown.basis) == (t0, "device")

    clock.advance(timedelta(days=30, seconds=1))  # both expired, not yet purged, still cached
    shown = await latest(runtime, child)
    assert (shown.location, shown.basis, shown.device_fixed_at) == (None, None, None)


# --- history ----------------------------------------------------------------------------


async def all_pages(runtime: Runtime, child: uuid.UUID, **query: Any) -> list[list[datetime]]:
    pages: list[list[datetime]] = []
    cursor = None
    while True:
        async with runtime.sessions() as session:
            page = await service.history(
                session,
                child,
                cursor=cursor,
                now=runtime.clock.now(),
                retention=POLICY.retention,
                **{"since": None, "until": None, "every": None, **query},
            )
        pages.append([item.fixed_at for item in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_history_pages_newest_first_through_equal_times(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    times = [now - timedelta(minutes=m) for m in range(7)]
    await ingest(runtime, child, [fix(t) for t in times])
    await ingest(runtime, child, [fix(times[3])], device=OTHER_DEVICE)
    pages = await all_pages(runtime, child, limit=3)
    assert pages == [times[0:3], [times[3], times[3], times[4]], times[5:7]]

    window = await all_pages(runtime, child, limit=10, since=times[5], until=times[1])
    assert window == [[times[2], times[3], times[3], times[4], times[5]]]


async def test_history_keeps_the_newest_fix_of_each_interval(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    clock.set(datetime.fromisoformat("2026-11-25T10:00:00+00:00"))
    start = clock.now() - timedelta(hours=1)
    # A fix every 20 s for an hour, and a gap of ten minutes in the middle.
    times = [start + timedelta(seconds=20 * i) for i in range(180) if not 60 <= i < 90]
    await ingest(runtime, child, [fix(t) for t in times])

    pages = await all_pages(runtime, child, limit=2, every=300)
    flat = [t for page in pages for t in page]
    expected = [
        max(t for t in times if (t - start) // timedelta(minutes=5) == k)
        for k in reversed(range(12))
        if any((t - start) // timedelta(minutes=5) == k for t in times)
    ]
    assert flat == expected
    assert len(flat) == 10  # intervals 4 and 5 (20-30 minutes in) hold no fix
    assert all(len(page) <= 2 for page in pages)


async def test_history_hides_fixes_past_their_retention(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    await ingest(runtime, child, [fix(now - timedelta(days=29)), fix(now - timedelta(days=1))])
    clock.advance(timedelta(days=2))
    assert await all_pages(runtime, child, limit=10) == [[now - timedelta(days=1)]]


# --- retention --------------------------------------------------------------------------


async def test_purge_deletes_fixes_taken_before_the_boundary(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    now = clock.now()
    boundary = now - timedelta(days=1)
    times = [boundary - timedelta(milliseconds=1), boundary, boundary + timedelta(seconds=1)]
    await ingest(runtime, child, [fix(t) for t in times])
    await ingest(runtime, child, [cell(boundary - timedelta(hours=1))], device=None)
    async with transaction(runtime.sessions) as session:
        assert await service.purge(session, before=boundary) == 2
    assert await stored_times(runtime, child) == times[1:]


async def test_erasing_a_child_deletes_only_that_childs_fixes(
    runtime: Runtime, clock: FrozenClock, child: uuid.UUID
) -> None:
    other = uuid.uuid4()
    await ingest(runtime, child, [fix(clock.now())])
    await ingest(runtime, other, [fix(clock.now())], device=OTHER_DEVICE)
    async with transaction(runtime.sessions) as session:
        assert await service.erase_child(session, child) == 1
    assert await stored_times(runtime, child) == []
    assert len(await stored_times(runtime, other)) == 1
