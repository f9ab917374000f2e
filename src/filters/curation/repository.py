from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from filters.curation.models import Category, Entry, Source, Version


def live_in(version: int, entry: type[Entry] = Entry) -> ColumnElement[bool]:
    """Rows that belong to the content of ``version``."""
    return and_(
        entry.added_in.is_not(None),
        entry.added_in <= version,
        or_(entry.removed_in.is_(None), entry.removed_in > version),
    )


def _same_rule_live_in(version: int) -> ColumnElement[bool]:
    """An equal rule (source, host, scope, path, action) is in the content of ``version``."""
    other = aliased(Entry)
    return (
        select(other.id)
        .where(
            other.source_id == Entry.source_id,
            other.host == Entry.host,
            other.scope == Entry.scope,
            other.path == Entry.path,
            other.action == Entry.action,
            live_in(version, other),
        )
        .exists()
    )


async def categories(session: AsyncSession) -> list[Category]:
    return list((await session.scalars(select(Category).order_by(Category.key))).all())


async def category_by_key(session: AsyncSession, key: str) -> Category | None:
    result: Category | None = await session.scalar(select(Category).where(Category.key == key))
    return result


async def add(session: AsyncSession, row: Category | Source | Entry | Version) -> None:
    session.add(row)
    await session.flush()


async def source_by_name(session: AsyncSession, name: str) -> Source | None:
    result: Source | None = await session.scalar(select(Source).where(Source.name == name))
    return result


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> Entry | None:
    return await session.get(Entry, entry_id)


async def current_keys(
    session: AsyncSession, source_id: uuid.UUID
) -> dict[tuple[str, str, str, str], uuid.UUID]:
    """The source's rules as the draft has them: published and not pending removal, or new."""
    rows = await session.execute(
        select(Entry.id, Entry.host, Entry.scope, Entry.path, Entry.action).where(
            Entry.source_id == source_id,
            Entry.removed_in.is_(None),
            Entry.remove_pending.is_(False),
        )
    )
    return {(host, scope, path, action): row_id for row_id, host, scope, path, action in rows.all()}


async def insert_entries(
    session: AsyncSession,
    rows: Sequence[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> None:
    for start in range(0, len(rows), 5000):
        chunk = list(rows[start : start + 5000])
        await session.execute(insert(Entry), chunk)
        if progress is not None:
            progress(len(chunk))


async def mark_removed(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    for start in range(0, len(ids), 1000):
        chunk = list(ids[start : start + 1000])
        # Draft rows never published are simply dropped; published ones wait for publish.
        await session.execute(delete(Entry).where(Entry.id.in_(chunk), Entry.added_in.is_(None)))
        await session.execute(update(Entry).where(Entry.id.in_(chunk)).values(remove_pending=True))


async def latest_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Version.number))) or 0)


async def get_version(session: AsyncSession, number: int) -> Version | None:
    return await session.get(Version, number)


async def publish_draft(session: AsyncSession, number: int) -> None:
    await session.execute(update(Entry).where(Entry.added_in.is_(None)).values(added_in=number))
    await session.execute(
        update(Entry)
        .where(Entry.remove_pending.is_(True))
        .values(removed_in=number, remove_pending=False)
    )


async def enabled_sources(session: AsyncSession) -> list[tuple[Source, Category]]:
    rows = await session.execute(
        select(Source, Category)
        .join(Category, Category.id == Source.category_id)
        .where(Source.enabled.is_(True))
        .order_by(Source.name)
    )
    return [(s, c) for s, c in rows.all()]


async def content_rows(
    session: AsyncSession, version: int, source_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, str, str, str, str, int | None]]:
    result = await session.stream(
        select(Entry.source_id, Entry.host, Entry.scope, Entry.action, Entry.path, Entry.line)
        .where(live_in(version), Entry.source_id.in_(source_ids))
        .execution_options(yield_per=50_000)
    )
    out: list[tuple[uuid.UUID, str, str, str, str, int | None]] = []
    async for partition in result.partitions():
        out.extend((r[0], r[1], r[2], r[3], r[4], r[5]) for r in partition)
    return out


async def diff_rows(
    session: AsyncSession, old: int, new: int, *, limit: int
) -> tuple[list[Entry], list[Entry]]:
    """Rules in ``new`` but not ``old``, and in ``old`` but not ``new`` (by content, not row)."""
    added = await session.scalars(
        select(Entry)
        .where(live_in(new), ~_same_rule_live_in(old))
        .order_by(Entry.host)
        .limit(limit)
    )
    removed = await session.scalars(
        select(Entry)
        .where(live_in(old), ~_same_rule_live_in(new))
        .order_by(Entry.host)
        .limit(limit)
    )
    return list(added.all()), list(removed.all())


async def retire_since(session: AsyncSession, *, keep: int, latest: int, number: int) -> None:
    """Rows live in ``latest`` but not in ``keep`` leave the content at ``number``."""
    ids = (await session.scalars(select(Entry.id).where(live_in(latest), ~live_in(keep)))).all()
    for start in range(0, len(ids), 1000):
        await session.execute(
            update(Entry).where(Entry.id.in_(ids[start : start + 1000])).values(removed_in=number)
        )


async def rows_live_in_only(session: AsyncSession, present: int, absent: int) -> list[Entry]:
    rows = await session.scalars(select(Entry).where(live_in(present), ~_same_rule_live_in(absent)))
    return list(rows.all())
