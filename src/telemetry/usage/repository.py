from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage.models import UsageApp, UsageSession

_SESSIONS = UsageSession.metadata.tables[UsageSession.__tablename__]
_APPS = UsageApp.metadata.tables[UsageApp.__tablename__]
_LOOKUP_CHUNK = 500  # start times per query, well under every driver's parameter limit


def _dialect(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


async def of_device_starting_at(
    session: AsyncSession, device_id: uuid.UUID, starts: Collection[datetime]
) -> list[UsageSession]:
    """The device's stored sessions that start at one of ``starts``."""
    ordered = sorted(starts)
    found: list[UsageSession] = []
    for i in range(0, len(ordered), _LOOKUP_CHUNK):
        query = select(UsageSession).where(
            UsageSession.device_id == device_id,
            UsageSession.started_at.in_(ordered[i : i + _LOOKUP_CHUNK]),
        )
        found += await session.scalars(query)
    return found


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Store the rows whose (device, kind, app, start) is not stored yet, in one multi-row
    INSERT that skips the others (also those a concurrent transaction stores first); the ids
    of the rows stored. Rows are as the table's columns, datetimes aware."""
    if not rows:
        return set()
    statement = (
        _dialect(session).insert(_SESSIONS).on_conflict_do_nothing().returning(_SESSIONS.c.id)
    )
    return set((await session.execute(statement, list(rows))).scalars())


async def extend(session: AsyncSession, ends: Mapping[uuid.UUID, datetime]) -> None:
    """Move the end of each session in ``ends`` (by id) to its new end, if that is later."""
    if not ends:
        return
    statement = (
        update(_SESSIONS)
        .where(_SESSIONS.c.id == bindparam("row_id"), _SESSIONS.c.ended_at < bindparam("end"))
        .values(ended_at=bindparam("end"))
    )
    params = [{"row_id": row_id, "end": end} for row_id, end in sorted(ends.items())]
    await session.execute(statement, params, execution_options={"synchronize_session": False})


async def remember_app_names(
    session: AsyncSession, child_id: uuid.UUID, names: Mapping[str, tuple[str, datetime]]
) -> None:
    """Store the name of each of the child's apps with when it was seen, unless a name seen
    later is stored."""
    if not names:
        return
    # In app order, so two transactions naming the same apps lock their rows in one order.
    rows = [
        {"child_id": child_id, "app": app, "name": name, "seen_at": seen_at}
        for app, (name, seen_at) in sorted(names.items())
    ]
    insert = _dialect(session).insert(_APPS)
    statement = insert.on_conflict_do_update(
        index_elements=[_APPS.c.child_id, _APPS.c.app],
        set_={"name": insert.excluded.name, "seen_at": insert.excluded.seen_at},
        where=insert.excluded.seen_at >= _APPS.c.seen_at,
    )
    await session.execute(statement, rows)


async def app_names(
    session: AsyncSession, child_id: uuid.UUID, apps: Collection[str]
) -> dict[str, str]:
    """The stored names of the child's ``apps`` (those with one)."""
    if not apps:
        return {}
    query = select(UsageApp.app, UsageApp.name).where(
        UsageApp.child_id == child_id, UsageApp.app.in_(sorted(apps))
    )
    return {row.app: row.name for row in await session.execute(query)}


async def overlapping(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    longest: timedelta,
) -> list[UsageSession]:
    """The child's sessions (every device's) that overlap [start, end): those starting before
    ``end`` and at most ``longest`` (the longest session) before ``start``, so the
    (child, start) index bounds the read, and ending after ``start``."""
    query = select(UsageSession).where(
        UsageSession.child_id == child_id,
        UsageSession.started_at >= start - longest,
        UsageSession.started_at < end,
        UsageSession.ended_at > start,
    )
    return list(await session.scalars(query))


async def _deleted(session: AsyncSession, statement: Any) -> int:
    removed: Any = await session.execute(
        statement, execution_options={"synchronize_session": False}
    )
    return int(removed.rowcount or 0)


async def purge(session: AsyncSession, *, before: datetime) -> tuple[int, int]:
    """Delete the sessions that started before ``before``, and app names last seen before it;
    how many of each went."""
    sessions = await _deleted(session, delete(UsageSession).where(UsageSession.started_at < before))
    names = await _deleted(session, delete(UsageApp).where(UsageApp.seen_at < before))
    return sessions, names


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> tuple[int, int]:
    """Delete the child's sessions and app names; how many of each went."""
    sessions = await _deleted(
        session, delete(UsageSession).where(UsageSession.child_id == child_id)
    )
    names = await _deleted(session, delete(UsageApp).where(UsageApp.child_id == child_id))
    return sessions, names
