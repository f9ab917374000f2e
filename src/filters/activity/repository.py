from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from filters.activity.models import BlockedHost, LoggedQuery, VerdictCount


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(
    session: AsyncSession, model: type[VerdictCount] | type[BlockedHost] | type[LoggedQuery]
) -> Any:
    """INSERT ... ON CONFLICT for the engine in use (both speak it, with their own builders)."""
    return postgresql.insert(model) if _postgres(session) else sqlite.insert(model)


async def add_counts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add each row's count to the stored one (or store it)."""
    for start in range(0, len(rows), 2000):
        statement = _insert(session, VerdictCount)
        statement = statement.on_conflict_do_update(
            index_elements=["child_id", "day", "category", "action"],
            set_={"count": VerdictCount.count + statement.excluded.count},
        )
        await session.execute(statement, list(rows[start : start + 2000]))


async def add_blocks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 2000):
        statement = _insert(session, BlockedHost)
        later = func.greatest if _postgres(session) else func.max  # SQLite's max() of 2 values
        statement = statement.on_conflict_do_update(
            index_elements=["child_id", "day", "host"],
            set_={
                "count": BlockedHost.count + statement.excluded.count,
                "last_at": later(BlockedHost.last_at, statement.excluded.last_at),
            },
        )
        await session.execute(statement, list(rows[start : start + 2000]))


async def add_queries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add each logged row's count to the stored row of the same id (or store it)."""
    for start in range(0, len(rows), 2000):
        statement = _insert(session, LoggedQuery)
        statement = statement.on_conflict_do_update(
            index_elements=["id"], set_={"count": LoggedQuery.count + statement.excluded.count}
        )
        await session.execute(statement, list(rows[start : start + 2000]))


async def counts(
    session: AsyncSession, child_id: uuid.UUID, first: date, last: date
) -> list[VerdictCount]:
    rows = await session.scalars(
        select(VerdictCount)
        .where(
            VerdictCount.child_id == child_id,
            VerdictCount.day >= first,
            VerdictCount.day <= last,
        )
        .order_by(VerdictCount.day, VerdictCount.category, VerdictCount.action)
    )
    return list(rows.all())


async def recent_blocks(
    session: AsyncSession, child_id: uuid.UUID, first: date, limit: int
) -> list[BlockedHost]:
    rows = await session.scalars(
        select(BlockedHost)
        .where(BlockedHost.child_id == child_id, BlockedHost.day >= first)
        .order_by(BlockedHost.last_at.desc(), BlockedHost.host)
        .limit(limit)
    )
    return list(rows.all())


async def queries(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[LoggedQuery]:
    """The child's logged rows, newest first, ``limit`` of them after the keyset ``before``."""
    query = select(LoggedQuery).where(LoggedQuery.child_id == child_id)
    if action is not None:
        query = query.where(LoggedQuery.action == action)
    if since is not None:
        query = query.where(LoggedQuery.occurred_at >= since)
    if until is not None:
        query = query.where(LoggedQuery.occurred_at < until)
    if before is not None:
        at, row_id = before
        query = query.where(
            or_(
                LoggedQuery.occurred_at < at,
                and_(LoggedQuery.occurred_at == at, LoggedQuery.id < row_id),
            )
        )
    query = query.order_by(LoggedQuery.occurred_at.desc(), LoggedQuery.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def purge_queries(session: AsyncSession, *, before: datetime) -> int:
    removed = await session.execute(delete(LoggedQuery).where(LoggedQuery.occurred_at < before))
    return int(getattr(removed, "rowcount", 0) or 0)


async def purge(session: AsyncSession, *, counts_before: date, blocks_before: date) -> int:
    removed = await session.execute(delete(VerdictCount).where(VerdictCount.day < counts_before))
    removed_blocks = await session.execute(
        delete(BlockedHost).where(BlockedHost.day < blocks_before)
    )
    return int(getattr(removed, "rowcount", 0) or 0) + int(
        getattr(removed_blocks, "rowcount", 0) or 0
    )
