"""Writing a process's tally to SQL, reading a child's activity, purging it when it expires."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from filters.activity import repository
from filters.activity.querylog import RowKey
from filters.activity.recorder import UNLISTED, Batch
from filters.activity.schemas import (
    ActivityRead,
    BlockedName,
    CategoryCount,
    DayActivity,
    LoggedLookup,
    QueryLogPage,
)
from parental.kit.paging import decode_cursor, encode_cursor

RECENT_BLOCKS = 50
# Query log rows are named by their key, so every process's flush of a minute hits one row.
QUERY_LOG_NAMESPACE = uuid.UUID("5d0f7c1e-3f43-4e5b-9a57-0c2b1f6e8a41")


def query_row_id(key: RowKey) -> uuid.UUID:
    child_id, minute, host, action = key
    return uuid.uuid5(QUERY_LOG_NAMESPACE, f"{child_id}|{minute.isoformat()}|{host}|{action}")


async def flush(session: AsyncSession, batch: Batch) -> None:
    """Add a batch to the stored counts (in the caller's transaction)."""
    await repository.add_counts(
        session,
        [
            {"child_id": child, "day": day, "category": category, "action": action, "count": n}
            for (child, day, category, action), n in batch.counts.items()
        ],
    )
    await repository.add_blocks(
        session,
        [
            {
                "child_id": child,
                "day": day,
                "host": host,
                "category": block.category,
                "count": block.count,
                "last_at": block.last_at,
            }
            for (child, day, host), block in batch.blocks.items()
        ],
    )
    await repository.add_queries(
        session,
        [
            {
                "id": query_row_id(key),
                "child_id": key[0],
                "occurred_at": key[1],
                "host": key[2],
                "action": key[3],
                "category": row.category,
                "count": row.count,
            }
            for key, row in batch.queries.items()
        ],
    )


async def read(
    session: AsyncSession, child_id: uuid.UUID, *, timezone: str, today: date, days: int
) -> ActivityRead:
    """The last ``days`` local days up to ``today``: counts per day and category, and the names
    most recently blocked in that period."""
    first = today - timedelta(days=days - 1)
    rows = await repository.counts(session, child_id, first, today)
    per_day: dict[date, dict[str, list[int]]] = defaultdict(dict)
    totals: dict[str, list[int]] = {}
    for row in rows:
        slot = 0 if row.action == "block" else 1
        for table in (per_day[row.day], totals):
            table.setdefault(row.category, [0, 0])[slot] += row.count
    blocks = await repository.recent_blocks(session, child_id, first, RECENT_BLOCKS)
    return ActivityRead(
        timezone=timezone,
        days=[
            _day(first + timedelta(days=i), per_day.get(first + timedelta(days=i), {}))
            for i in range(days)
        ],
        totals=_listed(totals),
        recent_blocks=[
            BlockedName(host=b.host, category=b.category, count=b.count, last_at=b.last_at)
            for b in blocks
        ],
    )


async def query_page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    action: Literal["block", "allow"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QueryLogPage:
    """The child's query log, newest first: rows whose minute starts in [since, until)."""
    rows = await repository.queries(
        session,
        child_id,
        limit=limit + 1,
        before=decode_cursor(cursor) if cursor else None,
        action=action,
        since=since,
        until=until,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return QueryLogPage(
        items=[LoggedLookup.model_validate(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].occurred_at, rows[-1].id) if more and rows else None,
    )


def _day(day: date, table: dict[str, list[int]]) -> DayActivity:
    return DayActivity(
        date=day,
        lookups=sum(b + a for b, a in table.values()),
        blocked=sum(b for b, _ in table.values()),
        categories=_listed(table),
    )


def _listed(table: dict[str, list[int]]) -> list[CategoryCount]:
    return [
        CategoryCount(category=key, blocked=blocked, allowed=allowed)
        for key, (blocked, allowed) in sorted(table.items())
        if key != UNLISTED
    ]


async def purge(session: AsyncSession, *, counts_before: date, blocks_before: date) -> int:
    return await repository.purge(session, counts_before=counts_before, blocks_before=blocks_before)


async def purge_query_log(session: AsyncSession, *, before: datetime) -> int:
    """Delete query log rows of minutes before ``before``."""
    return await repository.purge_queries(session, before=before)
