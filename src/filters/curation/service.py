"""Categories, sources and their rules in SQL (publishing them: ``publishing.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from filters.categories.catalog import BUILTIN
from filters.curation import repository
from filters.curation.errors import (
    CategoryNotFound,
    EntryNotFound,
    InvalidEntry,
    SourceExists,
)
from filters.curation.models import Entry, Import, Source
from filters.engine.normalize import InvalidTarget, normalize_target
from filters.engine.rules import Action, ParseReport, Rule, Scope


async def seed_categories(session: AsyncSession, *, now: datetime) -> int:
    """Add the built-in categories that are missing; returns how many were added.

    Safe when two first requests seed at once (each child's first profile seeds).
    """
    existing = {c.key for c in await repository.categories(session)}
    return await repository.add_categories_if_missing(
        session,
        [
            {
                "id": uuid.uuid4(),
                "key": definition.key,
                "kind": definition.kind,
                "names": dict(definition.names),
                "descriptions": dict(definition.descriptions),
                "defaults": {band.value: on for band, on in definition.defaults.items()},
                "builtin": True,
                "created_at": now,
            }
            for definition in BUILTIN
            if definition.key not in existing
        ],
    )


async def create_source(
    session: AsyncSession,
    *,
    name: str,
    category_key: str,
    kind: str,
    now: datetime,
    url: str | None = None,
    format: str | None = None,
    domains_scope: str = "subtree",
    enabled: bool = True,
    refresh_interval_seconds: int | None = None,
    auto_publish: bool = False,
    licence: str | None = None,
) -> Source:
    """A new, empty source; a URL source with an interval is due for its first fetch at once."""
    if await repository.source_by_name(session, name) is not None:
        raise SourceExists()
    category = await repository.category_by_key(session, category_key)
    if category is None:
        raise CategoryNotFound()
    source = Source(
        name=name,
        category_id=category.id,
        kind=kind,
        url=url,
        format=format,
        domains_scope=domains_scope,
        enabled=enabled,
        created_at=now,
        refresh_interval_seconds=refresh_interval_seconds,
        next_refresh_at=now if refresh_interval_seconds is not None else None,
        auto_publish=auto_publish,
        licence=licence,
    )
    await repository.add(session, source)
    return source


MANUAL_PREFIX = "manual:"


async def manual_source(session: AsyncSession, category_key: str, *, now: datetime) -> Source:
    """The curators' own source for ``category_key`` (``manual:<key>``), created on first use.

    Entries curators add by hand, or by accepting a report, live here, apart from imported
    lists, so that the next import of a list never takes them away.
    """
    name = MANUAL_PREFIX + category_key
    source = await repository.source_by_name(session, name)
    if source is not None:
        return source
    return await create_source(
        session, name=name, category_key=category_key, kind="manual", now=now
    )


async def add_entry(
    session: AsyncSession,
    *,
    source: Source,
    target: str,
    action: Action,
    actor: str,
    reason: str,
    now: datetime,
    subdomains: bool = True,
) -> Entry:
    """Add one rule to the draft of ``source``, with who added it, when and why.

    ``target`` is a name (the name and, with ``subdomains``, every subdomain) or a URL (that
    host and path prefix). Adding a rule the draft already holds returns the existing row.
    """
    try:
        parsed = normalize_target(target)
    except InvalidTarget as exc:
        raise InvalidEntry(f"{InvalidEntry.message} ({exc.reason})") from exc
    if parsed.path not in ("", "/"):
        scope, path = Scope.URL, parsed.path
    else:
        scope = Scope.SUBTREE if subdomains and not parsed.is_ip else Scope.EXACT
        path = ""
    existing = await repository.draft_rule(
        session, source.id, (parsed.host, scope.value, path, action.value)
    )
    if existing is not None:
        return existing
    entry = Entry(
        **entry_row(
            source.id,
            (parsed.host, scope.value, action.value, path, None),
            added_in=None,
            actor=actor,
            now=now,
            reason=reason,
        )
    )
    await repository.add(session, entry)
    return entry


async def remove_entry(
    session: AsyncSession, entry_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> Entry:
    """Take one rule out of the draft; a published rule leaves at the next publish.

    The row stays (with who removed it, when and why) so that versions already published keep
    their content and the history can be read; a draft-only row is marked the same way and
    never becomes part of a version.
    """
    entry = await repository.get_entry(session, entry_id)
    if entry is None or entry.removed_in is not None or entry.remove_pending:
        raise EntryNotFound("No such entry in the draft.")
    entry.remove_pending = True
    entry.removed_by = actor
    entry.removed_at = now
    entry.removal_reason = reason
    await session.flush()
    return entry


@dataclass(frozen=True)
class ImportResult:
    added: int
    removed: int
    unchanged: int
    record: Import | None = None


REPORTED_REJECTIONS = 20  # rejected lines kept with an import's report; the count is complete


def report_dict(report: ParseReport) -> dict[str, object]:
    """A parse report as stored with an import: counts, and the first rejected lines."""
    return {
        "format": report.format.value,
        "lines_read": report.lines_read,
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "skipped": report.skipped,
        "rejected": report.rejected_count,
        "rejections": [
            {"line": r.line, "text": r.text, "reason": r.reason}
            for r in report.rejected[:REPORTED_REJECTIONS]
        ],
    }


async def replace_rules(
    session: AsyncSession,
    source: Source,
    rules: Sequence[Rule],
    *,
    report: ParseReport | None,
    actor: str,
    now: datetime,
    reason: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    origin: str = "file",
) -> ImportResult:
    """Make the draft of ``source`` hold exactly ``rules`` (a fresh import of its list).

    The import is recorded (``origin``: "upload", "refresh" or "file"), and each new row points
    to it, so a rule's history says which import, and which line of it, brought it in. Rules
    the list no longer has leave the draft marked with ``actor`` and the time.
    ``progress(done, total)`` is called as new rows are stored, for a command line to show.
    """
    record = Import(
        source_id=source.id,
        at=now,
        actor=actor,
        origin=origin,
        report=report_dict(report) if report is not None else None,
        added=0,
        removed=0,
        unchanged=0,
    )
    await repository.add(session, record)
    current = await repository.current_keys(session, source.id)
    wanted: dict[tuple[str, str, str, str], Rule] = {}
    for rule in rules:
        wanted.setdefault((rule.host, rule.scope.value, rule.path, rule.action.value), rule)
    new_rows = [
        entry_row(
            source.id,
            (rule.host, rule.scope.value, rule.action.value, rule.path, rule.line or None),
            added_in=None,
            actor=actor,
            now=now,
            reason=reason,
            import_id=record.id,
        )
        for key, rule in wanted.items()
        if key not in current
    ]
    gone = [row_id for key, row_id in current.items() if key not in wanted]
    stored = 0

    def advance(count: int) -> None:
        nonlocal stored
        stored += count
        if progress is not None:
            progress(stored, len(new_rows))

    await repository.insert_entries(session, new_rows, advance)
    await repository.mark_removed(
        session, gone, actor=actor, now=now, reason=reason or "no longer in the imported list"
    )
    record.added, record.removed = len(new_rows), len(gone)
    record.unchanged = len(current) - len(gone)
    source.last_import_at = now
    source.last_error = None
    source.last_error_at = None
    if record.report is not None:
        source.last_report = record.report
    await session.flush()
    return ImportResult(record.added, record.removed, record.unchanged, record)


def entry_row(
    source_id: uuid.UUID,
    rule: tuple[str, str, str, str, int | None],
    *,
    added_in: int | None,
    actor: str,
    now: datetime,
    reason: str | None,
    import_id: uuid.UUID | None = None,
) -> dict[str, object]:
    """A new entries row for ``rule`` = (host, scope, action, path, line)."""
    host, scope, action, path, line = rule
    return {
        "id": uuid.uuid4(),
        "source_id": source_id,
        "host": host,
        "scope": scope,
        "action": action,
        "path": path,
        "line": line,
        "import_id": import_id,
        "added_in": added_in,
        "removed_in": None,
        "remove_pending": False,
        "added_by": actor,
        "added_at": now,
        "reason": reason,
    }
