"""The SQL of the RPZ export: a published version's rules of some sources, sorted by name."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation.models import Entry
from filters.curation.repository import live_in


async def rules_by_host(
    session: AsyncSession, version: int, source_ids: Sequence[uuid.UUID]
) -> AsyncIterator[tuple[str, str, str]]:
    """(host, scope, action) of every rule of ``source_ids`` live in ``version``, streaming.

    Sorted by host in byte order on every database (PostgreSQL's default collation ignores
    punctuation), so a zone is the same file wherever it is written and two versions' zones
    can be compared by walking both at once.
    """
    if not source_ids:
        return
    host = Entry.host
    if (await session.connection()).dialect.name == "postgresql":
        host = Entry.host.collate("C")  # type: ignore[assignment]
    result = await session.stream(
        select(Entry.host, Entry.scope, Entry.action)
        .where(live_in(version), Entry.source_id.in_(source_ids))
        .order_by(host, Entry.scope, Entry.action)
        .execution_options(yield_per=20_000)
    )
    async for partition in result.partitions():
        for row in partition:
            yield row[0], row[1], row[2]
