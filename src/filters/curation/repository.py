from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from filters.curation.models import Category, Entry, Import, Source, Version

# Any constant will do: publishes (and rollbacks) take this PostgreSQL lock so that two of them
# never pick the same version number. SQLite lets one writer at a time in anyway.
_PUBLISH_LOCK = 0x66696C74


def live_in(version: int, entry: type[Entry] = Entry) -> ColumnElement[bool]:
    """Rows that belong to the content of ``version``."""
    return and_(
        entry.added_in.is_not(None),
        entry.added_in <= version,
        or_(entry.removed_in.is_(None), entry.removed_in > version),
    )


def in_draft(entry: type[Entry] = Entry) -> ColumnElement[bool]:
    """Rows the next publish will hold: published and not being removed, or new."""
    return and_(entry.removed_in.is_(None), entry.remove_pending.is_(False))


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


async def add(session: AsyncSession, row: Category | Source | Entry | Version | Import) -> None:
    session.add(row)
    await session.flush()


async def remove(session: AsyncSession, row: Category | Source) -> None:
    await session.delete(row)
    await session.flush()


# --- categories -----------------------------------------------------------------------------


async def categories(session: AsyncSession) -> list[Category]:
    return list((await session.scalars(select(Category).order_by(Category.key))).all())


async def add_categories_if_missing(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the categories whose key is new; returns how many. Two transactions doing it at
    once (two first requests) both succeed: the second one's rows are skipped, not an error."""
    if not rows:
        return 0
    dialect = (await session.connection()).dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Category)
    result = await session.execute(
        statement.values(list(rows)).on_conflict_do_nothing(index_elements=["key"])
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def category_by_key(session: AsyncSession, key: str) -> Category | None:
    result: Category | None = await session.scalar(select(Category).where(Category.key == key))
    return result


async def category_keys(
    session: AsyncSession, category_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(Category.id, Category.key).where(Category.id.in_(category_ids))
    )
    return {row[0]: row[1] for row in rows.all()}


async def source_count(session: AsyncSession, category_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Source).where(Source.category_id == category_id)
        )
        or 0
    )


# --- sources --------------------------------------------------------------------------------


async def source_by_name(session: AsyncSession, name: str) -> Source | None:
    result: Source | None = await session.scalar(select(Source).where(Source.name == name))
    return result


async def get_source(session: AsyncSession, source_id: uuid.UUID) -> Source | None:
    return await session.get(Source, source_id)


async def lock_source(session: AsyncSession, source_id: uuid.UUID) -> Source | None:
    """The source, row-locked until the transaction ends (PostgreSQL), read afresh.

    Two imports of one source at once would each add the rules the other adds.
    """
    result: Source | None = await session.scalar(
        select(Source)
        .where(Source.id == source_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result


async def sources(session: AsyncSession) -> list[Source]:
    return list((await session.scalars(select(Source).order_by(Source.name))).all())


async def draft_counts(session: AsyncSession) -> dict[uuid.UUID, int]:
    """How many rules each source's draft holds."""
    rows = await session.execute(
        select(Entry.source_id, func.count()).where(in_draft()).group_by(Entry.source_id)
    )
    return {source_id: int(count) for source_id, count in rows.all()}


async def published_source_ids(session: AsyncSession) -> set[str]:
    """Ids of every source some published version was made of."""
    found: set[str] = set()
    for frozen in (await session.scalars(select(Version.sources))).all():
        found.update(item[0] for item in frozen)
    return found


async def versions_of_source(session: AsyncSession, source_id: uuid.UUID) -> list[int]:
    """The published versions ``source_id`` was part of, in order."""
    rows = await session.execute(select(Version.number, Version.sources).order_by(Version.number))
    return [number for number, frozen in rows.all() if any(i[0] == str(source_id) for i in frozen)]


async def due_sources(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Enabled URL sources whose refresh is due, the longest overdue first."""
    rows = await session.scalars(
        select(Source.id)
        .where(
            Source.kind == "url",
            Source.enabled.is_(True),
            Source.refresh_interval_seconds.is_not(None),
            or_(Source.next_refresh_at.is_(None), Source.next_refresh_at <= now),
        )
        .order_by(Source.next_refresh_at)
    )
    return list(rows.all())


async def claim_refresh(
    session: AsyncSession, source_id: uuid.UUID, *, now: datetime, until: datetime
) -> bool:
    """Take a due refresh for this process: true for exactly one of several workers."""
    result = await session.execute(
        update(Source)
        .where(
            Source.id == source_id,
            or_(Source.next_refresh_at.is_(None), Source.next_refresh_at <= now),
        )
        .values(next_refresh_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# --- imports --------------------------------------------------------------------------------


async def get_import(session: AsyncSession, import_id: uuid.UUID) -> Import | None:
    return await session.get(Import, import_id)


async def imports(session: AsyncSession, source_id: uuid.UUID, *, limit: int) -> list[Import]:
    rows = await session.scalars(
        select(Import)
        .where(Import.source_id == source_id)
        .order_by(Import.at.desc(), Import.id.desc())
        .limit(limit)
    )
    return list(rows.all())


# --- entries --------------------------------------------------------------------------------


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> Entry | None:
    return await session.get(Entry, entry_id)


async def draft_rule(
    session: AsyncSession, source_id: uuid.UUID, key: tuple[str, str, str, str]
) -> Entry | None:
    """The draft's row for the rule ``key`` = (host, scope, path, action), if it has one."""
    host, scope, path, action = key
    result: Entry | None = await session.scalar(
        select(Entry)
        .where(
            Entry.source_id == source_id,
            Entry.host == host,
            Entry.scope == scope,
            Entry.path == path,
            Entry.action == action,
            in_draft(),
        )
        .limit(1)
    )
    return result


async def current_keys(
    session: AsyncSession, source_id: uuid.UUID
) -> dict[tuple[str, str, str, str], uuid.UUID]:
    """The source's rules as the draft has them: published and not pending removal, or new."""
    rows = await session.execute(
        select(Entry.id, Entry.host, Entry.scope, Entry.path, Entry.action).where(
            Entry.source_id == source_id, in_draft()
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


async def mark_removed(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, actor: str, now: datetime, reason: str
) -> None:
    for start in range(0, len(ids), 1000):
        chunk = list(ids[start : start + 1000])
        # Draft rows never published are simply dropped; published ones wait for publish.
        await session.execute(delete(Entry).where(Entry.id.in_(chunk), Entry.added_in.is_(None)))
        await session.execute(
            update(Entry)
            .where(Entry.id.in_(chunk))
            .values(remove_pending=True, removed_by=actor, removed_at=now, removal_reason=reason)
        )


def entry_search(
    *,
    latest: int,
    host_contains: str | None = None,
    host_suffix: str | None = None,
    source_id: uuid.UUID | None = None,
    category_id: uuid.UUID | None = None,
    state: str | None = None,
) -> Select[Entry, str, uuid.UUID]:
    """Entries with their source's name and category id, filtered; newest first."""
    query = select(Entry, Source.name, Source.category_id).join(
        Source, Source.id == Entry.source_id
    )
    if host_contains:
        query = query.where(Entry.host.contains(host_contains, autoescape=True))
    if host_suffix:
        query = query.where(
            or_(Entry.host == host_suffix, Entry.host.endswith("." + host_suffix, autoescape=True))
        )
    if source_id is not None:
        query = query.where(Entry.source_id == source_id)
    if category_id is not None:
        query = query.where(Source.category_id == category_id)
    if state == "live":
        query = query.where(live_in(latest))
    elif state == "draft":
        query = query.where(in_draft())
    elif state == "pending":
        query = query.where(or_(Entry.added_in.is_(None), Entry.remove_pending.is_(True)))
    elif state == "removed":
        query = query.where(or_(Entry.removed_in.is_not(None), Entry.remove_pending.is_(True)))
    return query.order_by(Entry.added_at.desc(), Entry.id.desc())


async def search_entries(
    session: AsyncSession,
    query: Select[Entry, str, uuid.UUID],
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[tuple[Entry, str, uuid.UUID]]:
    if before is not None:
        at, row_id = before
        query = query.where(or_(Entry.added_at < at, and_(Entry.added_at == at, Entry.id < row_id)))
    rows = await session.execute(query.limit(limit))
    return [(entry, name, category_id) for entry, name, category_id in rows.all()]


async def rule_rows(session: AsyncSession, entry: Entry) -> list[Entry]:
    """Every row, past and present, of ``entry``'s rule in its source, oldest first."""
    rows = await session.scalars(
        select(Entry)
        .where(
            Entry.source_id == entry.source_id,
            Entry.host == entry.host,
            Entry.scope == entry.scope,
            Entry.path == entry.path,
            Entry.action == entry.action,
        )
        .order_by(Entry.added_at, Entry.added_in.is_(None), Entry.added_in, Entry.id)
    )
    return list(rows.all())


# --- versions -------------------------------------------------------------------------------


async def lock_publishing(session: AsyncSession) -> None:
    """Hold the publish lock until the transaction ends (PostgreSQL; SQLite needs none)."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PUBLISH_LOCK})


async def latest_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Version.number))) or 0)


async def get_version(session: AsyncSession, number: int) -> Version | None:
    return await session.get(Version, number)


async def versions(session: AsyncSession, *, limit: int, before: int | None) -> list[Version]:
    query = select(Version).order_by(Version.number.desc()).limit(limit)
    if before is not None:
        query = query.where(Version.number < before)
    return list((await session.scalars(query)).all())


async def has_draft_changes(session: AsyncSession, source_id: uuid.UUID | None = None) -> bool:
    """Whether any row (of ``source_id``, or of any source) waits for the next publish."""
    query = select(Entry.id).where(
        or_(
            and_(Entry.added_in.is_(None), Entry.remove_pending.is_(False)),
            and_(Entry.added_in.is_not(None), Entry.remove_pending.is_(True)),
        )
    )
    if source_id is not None:
        query = query.where(Entry.source_id == source_id)
    return await session.scalar(query.limit(1)) is not None


async def publish_draft(
    session: AsyncSession, number: int, source_id: uuid.UUID | None = None
) -> None:
    """The draft's changes (of one source, or of all) become part of version ``number``."""
    only = [Entry.source_id == source_id] if source_id is not None else []
    await session.execute(
        update(Entry).where(Entry.added_in.is_(None), *only).values(added_in=number)
    )
    await session.execute(
        update(Entry)
        .where(Entry.remove_pending.is_(True), Entry.removed_in.is_(None), *only)
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


def _only_in(present: int, absent: int) -> ColumnElement[bool]:
    return and_(live_in(present), ~_same_rule_live_in(absent))


async def diff_rows(
    session: AsyncSession, old: int, new: int, *, limit: int
) -> tuple[list[Entry], list[Entry]]:
    """Rules in ``new`` but not ``old``, and in ``old`` but not ``new`` (by content, not row)."""
    added = await session.scalars(
        select(Entry).where(_only_in(new, old)).order_by(Entry.host, Entry.id).limit(limit)
    )
    removed = await session.scalars(
        select(Entry).where(_only_in(old, new)).order_by(Entry.host, Entry.id).limit(limit)
    )
    return list(added.all()), list(removed.all())


async def diff_counts(session: AsyncSession, old: int, new: int) -> tuple[int, int]:
    added = await session.scalar(select(func.count()).select_from(Entry).where(_only_in(new, old)))
    removed = await session.scalar(
        select(func.count()).select_from(Entry).where(_only_in(old, new))
    )
    return int(added or 0), int(removed or 0)


async def retire_since(
    session: AsyncSession, *, keep: int, latest: int, number: int, actor: str, now: datetime
) -> None:
    """Rows of rules live in ``latest`` but not in ``keep`` leave the content at ``number``.

    By rule, not by row: a rule removed and added again since ``keep`` is a new row that
    stays. A removal that was pending for them is fulfilled here: left pending, the next
    publish would move their end to its own number and put them back into version ``number``.
    """
    ids = (await session.scalars(select(Entry.id).where(_only_in(latest, keep)))).all()
    for start in range(0, len(ids), 1000):
        await session.execute(
            update(Entry)
            .where(Entry.id.in_(ids[start : start + 1000]))
            .values(
                removed_in=number,
                remove_pending=False,
                removed_by=actor,
                removed_at=now,
                removal_reason=f"rollback to version {keep}",
            )
        )


async def rows_live_in_only(session: AsyncSession, present: int, absent: int) -> list[Entry]:
    rows = await session.scalars(select(Entry).where(_only_in(present, absent)))
    return list(rows.all())


async def source_names(
    session: AsyncSession, source_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(Source.id, Source.name).where(Source.id.in_(source_ids)))
    return {row[0]: row[1] for row in rows.all()}
