"""Every SQL statement of places and geofence events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.geofences.geometry import Containment
from telemetry.geofences.models import Place, PlaceEventRow


async def add(session: AsyncSession, place: Place) -> None:
    session.add(place)
    await session.flush()


async def lock_child(session: AsyncSession, child_id: uuid.UUID) -> None:
    """Make concurrent changes to one child's set of places take turns until the transaction
    ends (PostgreSQL: a transaction-level advisory lock keyed by the child; SQLite lets one
    writing transaction run at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(child_id.bytes[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))


async def count_for_child(session: AsyncSession, child_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Place).where(Place.child_id == child_id)
    )
    return int(count or 0)


async def for_child(session: AsyncSession, child_id: uuid.UUID) -> list[Place]:
    rows = await session.scalars(
        select(Place).where(Place.child_id == child_id).order_by(Place.created_at, Place.id)
    )
    return list(rows)


async def get_for_child(
    session: AsyncSession, child_id: uuid.UUID, place_id: uuid.UUID
) -> Place | None:
    place: Place | None = await session.scalar(
        select(Place)
        .where(Place.id == place_id, Place.child_id == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return place


async def child_of(session: AsyncSession, place_id: uuid.UUID) -> uuid.UUID | None:
    child_id: uuid.UUID | None = await session.scalar(
        select(Place.child_id).where(Place.id == place_id)
    )
    return child_id


# Built once: every upload of a child with places runs it (building a statement costs about
# as much as running it).
_LOCK_FOR_CHILD = (
    select(Place)
    .where(Place.child_id == bindparam("child_id"))
    .order_by(Place.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def lock_for_child(session: AsyncSession, child_id: uuid.UUID) -> list[Place]:
    """The child's places, locked until the transaction ends (in id order, so two
    transactions never wait for each other in a circle), read afresh."""
    return list(await session.scalars(_LOCK_FOR_CHILD, {"child_id": child_id}))


_LOCK_FOR_CHILDREN = (
    select(Place)
    .where(Place.child_id.in_(bindparam("child_ids", expanding=True)))
    .order_by(Place.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def lock_for_children(
    session: AsyncSession, child_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Place]]:
    """The places of each child (those without any: an empty list), locked in id order."""
    found: dict[uuid.UUID, list[Place]] = {child_id: [] for child_id in child_ids}
    for place in await session.scalars(_LOCK_FOR_CHILDREN, {"child_ids": list(found)}):
        found[place.child_id].append(place)
    return found


async def lock_due_checks(session: AsyncSession, now: datetime, limit: int) -> list[Place]:
    """Places whose arrival deadline has come, earliest first; rows another worker holds are
    skipped (it is checking them)."""
    rows = await session.scalars(
        select(Place)
        .where(Place.next_check_at <= now)
        .order_by(Place.next_check_at, Place.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def delete_place(session: AsyncSession, place: Place) -> None:
    await session.delete(place)
    await session.flush()


_EVENTS = PlaceEventRow.metadata.tables[PlaceEventRow.__tablename__]
_EVENT_COLUMNS = [c.name for c in _EVENTS.columns]


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Store each event unless one with its key exists (a retried batch, a second worker), in
    one statement; the ids of those this call stored. INSERT ... ON CONFLICT DO NOTHING: both
    engines speak it. Rows may leave out columns (None)."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        build(_EVENTS)
        .on_conflict_do_nothing(index_elements=["child_id", "place_id", "kind", "occurred_at"])
        .returning(_EVENTS.c.id)
    )
    full = [{name: row.get(name) for name in _EVENT_COLUMNS} for row in rows]
    return set((await session.execute(statement, full)).scalars())


async def event_page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    place_id: uuid.UUID | None,
) -> list[PlaceEventRow]:
    """The child's events, newest first, ``limit`` of them after the keyset ``after``."""
    query = select(PlaceEventRow).where(PlaceEventRow.child_id == child_id)
    if place_id is not None:
        query = query.where(PlaceEventRow.place_id == place_id)
    if after is not None:
        at, row_id = after
        query = query.where(
            or_(
                PlaceEventRow.occurred_at < at,
                and_(PlaceEventRow.occurred_at == at, PlaceEventRow.id < row_id),
            )
        )
    query = query.order_by(PlaceEventRow.occurred_at.desc(), PlaceEventRow.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def _deleted(session: AsyncSession, statement: Any) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


async def purge_events(session: AsyncSession, before: datetime) -> int:
    return await _deleted(session, delete(PlaceEventRow).where(PlaceEventRow.occurred_at < before))


async def forget_states(session: AsyncSession, before: datetime) -> int:
    """Set places whose state no fix since ``before`` supports back to unknown."""
    statement = (
        update(Place)
        .where(
            or_(Place.status_at.is_(None), Place.status_at < before),
            or_(Place.inside_seen_at.is_(None), Place.inside_seen_at < before),
            or_(Place.status_at.is_not(None), Place.inside_seen_at.is_not(None)),
        )
        .values(status=Containment.UNKNOWN.value, status_at=None, inside_seen_at=None)
    )
    return await _deleted(session, statement)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> tuple[int, int]:
    """Delete the child's events and places; how many of each went."""
    events = await _deleted(
        session, delete(PlaceEventRow).where(PlaceEventRow.child_id == child_id)
    )
    places = await _deleted(session, delete(Place).where(Place.child_id == child_id))
    return events, places
