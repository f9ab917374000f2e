"""Single rules as curators see them: searching them, adding and removing one with a reason,
and one rule's history (which import and line brought it, who removed it, which versions held
it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import repository, service
from filters.curation.errors import (
    CategoryNotFound,
    EntryNotFound,
    InvalidEntry,
    SourceNotFound,
)
from filters.curation.models import Entry, Source
from filters.curation.schemas import (
    EntryCreate,
    EntryHistory,
    EntryPage,
    EntryRead,
    EntryState,
    ImportRead,
    LiveRange,
)
from filters.engine.normalize import InvalidTarget, normalize_host
from filters.engine.rules import Action
from parental.kit.paging import decode_cursor, encode_cursor


def state_of(entry: Entry) -> EntryState:
    if entry.removed_in is not None:
        return "removed"
    if entry.remove_pending:
        return "removed" if entry.added_in is None else "pending_removal"
    return "draft" if entry.added_in is None else "live"


def entry_read(entry: Entry, source_name: str, category: str) -> EntryRead:
    return EntryRead(
        id=entry.id,
        source_id=entry.source_id,
        source_name=source_name,
        category=category,
        host=entry.host,
        scope=entry.scope,  # type: ignore[arg-type]  # written from Scope values only
        path=entry.path,
        action="allow" if entry.action == "allow" else "block",
        state=state_of(entry),
        line=entry.line,
        import_id=entry.import_id,
        added_in=entry.added_in,
        removed_in=entry.removed_in,
        added_by=entry.added_by,
        added_at=entry.added_at,
        reason=entry.reason,
        removed_by=entry.removed_by,
        removed_at=entry.removed_at,
        removal_reason=entry.removal_reason,
    )


async def search(
    session: AsyncSession,
    *,
    contains: str | None,
    suffix: str | None,
    source_id: uuid.UUID | None,
    category: str | None,
    state: str | None,
    limit: int,
    cursor: str | None,
) -> EntryPage:
    """A page of entries, newest first. ``state``: ``live`` (in the version in force),
    ``draft`` (what the next publish holds), ``pending`` (changes waiting for it), ``removed``.
    """
    if source_id is not None and await repository.get_source(session, source_id) is None:
        raise SourceNotFound()
    category_id = None
    if category is not None:
        row = await repository.category_by_key(session, category)
        if row is None:
            raise CategoryNotFound()
        category_id = row.id
    if suffix is not None:
        try:
            suffix = normalize_host(suffix)
        except InvalidTarget as exc:
            raise InvalidEntry(f"suffix: {exc.reason}") from exc
    query = repository.entry_search(
        latest=await repository.latest_version(session),
        host_contains=contains.strip().lower() if contains else None,
        host_suffix=suffix,
        source_id=source_id,
        category_id=category_id,
        state=state,
    )
    rows = await repository.search_entries(
        session, query, limit=limit + 1, before=decode_cursor(cursor) if cursor else None
    )
    keys = await repository.category_keys(session, list({c for _, _, c in rows}))
    page = rows[:limit]
    last = page[-1][0] if len(rows) > limit else None
    return EntryPage(
        items=[entry_read(e, name, keys[c]) for e, name, c in page],
        next_cursor=encode_cursor(last.added_at, last.id) if last is not None else None,
    )


async def read(session: AsyncSession, entry: Entry) -> EntryRead:
    source = await repository.get_source(session, entry.source_id)
    assert source is not None  # rows go with their source
    keys = await repository.category_keys(session, [source.category_id])
    return entry_read(entry, source.name, keys[source.category_id])


async def add(
    session: AsyncSession, body: EntryCreate, *, actor: str, now: datetime
) -> tuple[Entry, Source]:
    """Add one rule to a named source, or to the manual source of ``body.category``."""
    if (body.source_id is None) == (body.category is None):
        raise InvalidEntry("Give either source_id or category.")
    if body.source_id is not None:
        source = await repository.get_source(session, body.source_id)
        if source is None:
            raise SourceNotFound()
    else:
        assert body.category is not None
        await service.seed_categories(session, now=now)
        source = await service.manual_source(session, body.category, now=now)
    entry = await service.add_entry(
        session,
        source=source,
        target=body.target,
        action=Action(body.action),
        actor=actor,
        reason=body.reason,
        now=now,
        subdomains=body.subdomains,
    )
    return entry, source


async def get(session: AsyncSession, entry_id: uuid.UUID) -> Entry:
    entry = await repository.get_entry(session, entry_id)
    if entry is None:
        raise EntryNotFound()
    return entry


async def history(session: AsyncSession, entry: Entry) -> EntryHistory:
    """Every row of the entry's rule in its source, and the versions in which it was in force
    (published, and its source part of that version)."""
    rows = await repository.rule_rows(session, entry)
    source_versions = await repository.versions_of_source(session, entry.source_id)
    latest = await repository.latest_version(session)
    held = sorted(
        {
            number
            for row in rows
            if row.added_in is not None
            for number in source_versions
            if row.added_in <= number and (row.removed_in is None or number < row.removed_in)
        }
    )
    imported = None
    if entry.import_id is not None:
        record = await repository.get_import(session, entry.import_id)
        if record is not None:
            imported = ImportRead.model_validate(record, from_attributes=True)
    this = await read(session, entry)
    return EntryHistory(
        entry=this,
        imported=imported,
        rows=[entry_read(r, this.source_name, this.category) for r in rows],
        live_in=_ranges(held, latest),
    )


def _ranges(numbers: list[int], latest: int) -> list[LiveRange]:
    """Runs of consecutive version numbers; a run reaching ``latest`` is open-ended."""
    ranges: list[LiveRange] = []
    for number in numbers:
        if ranges and ranges[-1].last == number - 1:
            ranges[-1].last = number
        else:
            ranges.append(LiveRange(first=number, last=number))
    if ranges and ranges[-1].last == latest:
        ranges[-1].last = None
    return ranges
