"""Storing fixes idempotently, announcing them, and reading a child's history (where the
child is now: ``positions``).

An upload is judged fix by fix (``screening``), the fixes it may store are written in one
multi-row insert that skips those already stored, and only the new ones, sorted by fix time,
go to the listeners (geofences, alarms) inside the same transaction. Once that transaction has
committed, ``announce`` moves the latest position in the cache forward, tells live streams in
every process, and publishes the listeners' events. What is announced may be lost (Redis down):
SQL holds the fixes, the cache expires, and reads fall back to SQL.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.cache import Cache
from parental.kit.events import Event, EventBus
from parental.kit.metrics import count_ingested
from parental.kit.notices import Notices
from parental.kit.paging import decode_cursor, encode_cursor
from telemetry.locations import positions, repository
from telemetry.locations.fix import Fix, FixListener, FixSource, Prefetching
from telemetry.locations.keys import carrier_fix_id, device_fix_id
from telemetry.locations.models import LocationFix
from telemetry.locations.policy import Policy
from telemetry.locations.sampling import interval_start
from telemetry.locations.schemas import (
    BatchResult,
    CarrierPositionCreate,
    DeviceSource,
    FixCreate,
    ItemResult,
    ItemStatus,
    LocationPage,
    LocationRead,
)
from telemetry.locations.screening import Limits, Screened, screen
from telemetry.locations.stream import is_watched, publish_fixes, watched_key

__all__ = [
    "Outlets",
    "Policy",
    "Stored",
    "Upload",
    "announce",
    "erase_child",
    "history",
    "ingest",
    "ingest_many",
    "purge",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outlets:
    """Where committed fixes are announced: this process's kit resources."""

    cache: Cache
    notices: Notices
    bus: EventBus


@dataclass(frozen=True)
class Stored:
    """What an upload did: the answer for the caller, and what to announce after commit."""

    result: BatchResult
    child_id: uuid.UUID
    new: list[tuple[uuid.UUID, Fix]] = field(default_factory=list)  # id and fix, by fix time
    events: list[Event] = field(default_factory=list)

    @cached_property
    def fixes(self) -> list[LocationRead]:
        """The new fixes as guardians read them (made when first asked for)."""
        return [_read(fix_id, fix) for fix_id, fix in self.new]

    def newest(self) -> list[LocationRead]:
        """The newest new fix of the device and of the carrier (those there are)."""
        newest: dict[bool, tuple[uuid.UUID, Fix]] = {}
        for pair in self.new:  # by fix time: the last of each kind is the newest
            newest[pair[1].device_id is None] = pair
        return [_read(fix_id, fix) for fix_id, fix in newest.values()]


def _fix(
    item: FixCreate | CarrierPositionCreate, *, child_id: uuid.UUID, device_id: uuid.UUID | None
) -> tuple[uuid.UUID, Fix]:
    """The stored form of an uploaded fix, and its id (positional: a hundred an upload)."""
    fixed_at = item.fixed_at.astimezone(UTC)
    if isinstance(item, FixCreate):
        assert device_id is not None
        return device_fix_id(device_id, fixed_at), Fix(
            child_id,
            device_id,
            fixed_at,
            item.latitude,
            item.longitude,
            item.accuracy_m,
            _SOURCES[item.source],
            item.altitude_m,
            item.speed_mps,
            item.heading_deg,
            item.battery_pct,
            item.charging,
        )
    return carrier_fix_id(child_id, fixed_at), Fix(
        child_id,
        None,
        fixed_at,
        item.latitude,
        item.longitude,
        item.accuracy_m,
        FixSource.CARRIER_CELL,
    )


_SOURCES = {source: FixSource(source.value) for source in DeviceSource}


@dataclass(frozen=True)
class Upload:
    """A batch of one child's fixes to store (``device_id`` None: the carrier's positions),
    the limits they are judged by and the listeners that hear the new ones."""

    child_id: uuid.UUID
    device_id: uuid.UUID | None
    items: Sequence[FixCreate | CarrierPositionCreate]
    limits: Limits
    listeners: Sequence[FixListener]


async def ingest(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID | None,
    items: Sequence[FixCreate | CarrierPositionCreate],
    now: datetime,
    limits: Limits,
    listeners: Sequence[FixListener],
) -> Stored:
    """Store a batch of one child's fixes (``device_id`` None: the carrier's positions) and
    run the listeners on the new ones, in the caller's transaction."""
    upload = Upload(child_id, device_id, items, limits, listeners)
    [stored] = await ingest_many(session, [upload], now=now)
    return stored


async def ingest_many(
    session: AsyncSession, uploads: Sequence[Upload], *, now: datetime
) -> list[Stored]:
    """Store several uploads in the caller's transaction, their fixes in one insert, then run
    each upload's listeners on its new fixes, the children in the order of their ids (so two
    such transactions lock the children's rows in the same order). A fix in two uploads of
    the group is the first one's; the other gets it as a duplicate."""
    prepared = [_prepare(upload, now) for upload in uploads]
    new_ids = await repository.insert_new(
        session, [pair for p in prepared for pair in p.made], received_at=now
    )
    order = sorted(range(len(uploads)), key=lambda i: uploads[i].child_id)
    if len(uploads) > 1:
        heard = [uploads[i] for i in order if any(f in new_ids for f, _ in prepared[i].made)]
        await _prefetch(session, heard)
    stored: dict[int, Stored] = {}
    for i in order:
        stored[i] = await _finish(session, uploads[i], prepared[i], new_ids, now)
    return [stored[i] for i in range(len(uploads))]


async def _prefetch(session: AsyncSession, uploads: Sequence[Upload]) -> None:
    """Let each kind of listener read what it needs for all ``uploads`` at once."""
    pairs = [(upload.child_id, upload.device_id) for upload in uploads]
    done: set[type] = set()
    for upload in uploads:
        for listener in upload.listeners:
            if isinstance(listener, Prefetching) and type(listener) not in done:
                done.add(type(listener))
                await listener.prefetch(session, pairs)


class _Prepared(NamedTuple):
    screened: Screened
    keep: list[int]  # request indexes of the fixes to store, by fix time
    made: list[tuple[uuid.UUID, Fix]]  # those fixes, with their ids


def _prepare(upload: Upload, now: datetime) -> _Prepared:
    """The upload judged, and what it may store, by fix time, with the fixes' ids."""
    screened = screen(upload.items, now=now, limits=upload.limits)
    keep = sorted(screened.keep, key=lambda pair: pair[1].fixed_at)
    made = [_fix(item, child_id=upload.child_id, device_id=upload.device_id) for _, item in keep]
    return _Prepared(screened, [index for index, _ in keep], made)


async def _finish(
    session: AsyncSession,
    upload: Upload,
    prepared: _Prepared,
    new_ids: set[uuid.UUID],
    now: datetime,
) -> Stored:
    """The upload's answer from what the insert stored, and its listeners' events."""
    items, child_id, device_id = upload.items, upload.child_id, upload.device_id
    screened = prepared.screened
    statuses: dict[int, ItemStatus] = dict.fromkeys(screened.repeated, ItemStatus.DUPLICATE)
    statuses.update(dict.fromkeys(screened.rejected, ItemStatus.REJECTED))
    new: list[tuple[uuid.UUID, Fix]] = []
    for index, (fix_id, fix) in zip(prepared.keep, prepared.made, strict=True):
        if fix_id in new_ids:
            new_ids.discard(fix_id)  # claimed: the same fix later in the group is a duplicate
            statuses[index] = ItemStatus.ACCEPTED
            new.append((fix_id, fix))
        else:
            statuses[index] = ItemStatus.DUPLICATE
    events: list[Event] = []
    if new:
        fixes = [fix for _, fix in new]
        for listener in upload.listeners:
            events.extend(await listener(session, child_id, fixes, now))
    result = BatchResult(
        accepted=len(new),
        duplicate=len(items) - len(new) - len(screened.rejected),
        rejected=len(screened.rejected),
        items=[
            ItemResult(
                index=i,
                client_id=item.client_id,
                status=statuses[i],
                reason=screened.rejected.get(i),
            )
            for i, item in enumerate(items)
        ],
    )
    count_ingested(
        "location_fixes" if device_id is not None else "carrier_positions",
        accepted=result.accepted,
        duplicate=result.duplicate,
        rejected=result.rejected,
    )
    return Stored(result, child_id, new, events)


def _read(fix_id: uuid.UUID, fix: Fix) -> LocationRead:
    return LocationRead(
        id=fix_id,
        device_id=fix.device_id,
        source=fix.source,
        fixed_at=fix.fixed_at,
        latitude=fix.latitude,
        longitude=fix.longitude,
        accuracy_m=fix.accuracy_m,
        altitude_m=fix.altitude_m,
        speed_mps=fix.speed_mps,
        heading_deg=fix.heading_deg,
        battery_pct=fix.battery_pct,
        charging=fix.charging,
    )


async def announce(
    outlets: Outlets, stored: Stored, *, cache_seconds: int, watched: bool | None = None
) -> None:
    """After commit: the latest position, live streams (when a stream of the child is open:
    ``watched``, read from the cache when not given), and the listeners' events; a failure of
    one does not keep the others from happening."""
    if stored.new:
        await positions.move_latest(outlets.cache, stored.child_id, stored.newest(), cache_seconds)
        try:
            if watched is None:
                mark = await outlets.cache.get(watched_key(stored.child_id))
                watched = is_watched(mark, known=True)
            if watched:
                await publish_fixes(outlets.notices, stored.child_id, stored.fixes)
        except Exception:
            log.warning("telling live streams about new fixes failed", exc_info=True)
    for event in stored.events:
        await outlets.bus.publish(event)


async def history(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    since: datetime | None,
    until: datetime | None,
    every: int | None,
    now: datetime,
    retention: timedelta,
) -> LocationPage:
    """The child's fixes taken in [since, until), newest first; with ``every``, the newest of
    each ``every``-second interval only (see ``sampling``)."""
    after = decode_cursor(cursor) if cursor else None
    floor = max(since, now - retention) if since is not None else now - retention
    rows: list[LocationFix]
    if every is None:
        rows = await repository.page(
            session, child_id, limit=limit + 1, after=after, since=floor, until=until
        )
    else:
        rows = await _sampled(
            session, child_id, limit + 1, after=after, floor=floor, until=until, every=every
        )
    last = rows[limit - 1] if len(rows) > limit else None
    return LocationPage(
        items=[LocationRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_cursor(last.fixed_at, last.id) if last is not None else None,
    )


async def _sampled(
    session: AsyncSession,
    child_id: uuid.UUID,
    count: int,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    floor: datetime,
    until: datetime | None,
    every: int,
) -> list[LocationFix]:
    bound = until
    if after is not None:
        start = interval_start(after[0], every)
        bound = start if bound is None else min(bound, start)
    rows: list[LocationFix] = []
    while len(rows) < count:
        row = await repository.newest_before(session, child_id, before=bound, since=floor)
        if row is None:
            break
        rows.append(row)
        bound = interval_start(row.fixed_at, every)
    return rows


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete fixes taken before ``before``."""
    return await repository.purge(session, before=before)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> int:
    """Delete every fix of a removed child; how many went."""
    return await repository.erase_child(session, child_id)
