"""Telling the guardians about a child's screen time at most once: the marks stored under a
unique key before an event is published (``telemetry.usage.reports.models``).

A mark is inserted with ``ON CONFLICT DO NOTHING``; only the transaction whose insert stored
it publishes the event, once it has committed. A concurrent transaction inserting the same key
waits for the first (PostgreSQL) or for the database's write lock (SQLite), then stores
nothing. Marks are deleted with the usage retention (``purge``) and with the child
(``erase_child``). Services run in the caller's transaction and never commit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.ids import new_id
from telemetry.usage.reports.models import LimitReachedMark, WeeklySummaryMark

_WEEKS = WeeklySummaryMark.metadata.tables[WeeklySummaryMark.__tablename__]
_LIMITS = LimitReachedMark.metadata.tables[LimitReachedMark.__tablename__]


def _dialect(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


async def _insert_once(
    session: AsyncSession, table: Any, values: dict[str, Any]
) -> uuid.UUID | None:
    statement = (
        _dialect(session)
        .insert(table)
        .values(values)
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )
    stored: uuid.UUID | None = (await session.execute(statement)).scalar()
    return stored


async def mark_week(
    session: AsyncSession, child_id: uuid.UUID, week_start: date, *, sent: bool, now: datetime
) -> uuid.UUID | None:
    """Mark the child's week starting ``week_start`` as dealt with; the mark's id, or None if
    it was marked before (by this or another worker): then nothing is to be published."""
    return await _insert_once(
        session,
        _WEEKS,
        {
            "id": new_id(),
            "child_id": child_id,
            "week_start": week_start,
            "sent": sent,
            "created_at": now,
        },
    )


async def mark_limit_reached(
    session: AsyncSession,
    child_id: uuid.UUID,
    day: date,
    *,
    kind: str,
    target: str,
    now: datetime,
) -> uuid.UUID | None:
    """Mark a limit (``kind`` and ``target``, see ``LimitReachedMark``) as run out on the
    child's ``day``; the mark's id, or None if it was marked before."""
    return await _insert_once(
        session,
        _LIMITS,
        {
            "id": new_id(),
            "child_id": child_id,
            "day": day,
            "kind": kind,
            "target": target,
            "created_at": now,
        },
    )


async def _deleted(session: AsyncSession, statement: Any) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


async def purge(session: AsyncSession, *, before: date) -> int:
    """Delete the marks of weeks that started, and of days, before the date ``before``; how
    many rows went."""
    weeks = await _deleted(session, delete(_WEEKS).where(_WEEKS.c.week_start < before))
    days = await _deleted(session, delete(_LIMITS).where(_LIMITS.c.day < before))
    return weeks + days


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's marks; how many of each kind went."""
    erased = {
        "usage_weekly_summaries": await _deleted(
            session, delete(_WEEKS).where(_WEEKS.c.child_id == child_id)
        ),
        "usage_limit_reached": await _deleted(
            session, delete(_LIMITS).where(_LIMITS.c.child_id == child_id)
        ),
    }
    return {kind: count for kind, count in erased.items() if count}
