"""Categories, sources and their rules in SQL; publishing, comparing and rolling back versions."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from filters.categories.catalog import BUILTIN
from filters.curation import repository
from filters.curation.errors import (
    CategoryNotFound,
    EntryNotFound,
    InvalidEntry,
    NothingToPublish,
    SourceExists,
    VersionNotFound,
)
from filters.curation.models import Entry, Import, Source, Version
from filters.engine.normalize import InvalidTarget, normalize_target
from filters.engine.rules import Action, ParseReport, Rule, Scope
from filters.engine.snapshot import SourceRef, SourceRules, compile_snapshot


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
        **_entry_row(
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
        _entry_row(
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


def _entry_row(
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


async def publish(
    session: AsyncSession,
    *,
    snapshot_path: Callable[[int], Path],
    actor: str,
    now: datetime,
    note: str | None = None,
    rolled_back_to: int | None = None,
    only: Source | None = None,
) -> Version:
    """Publish the draft as the next version and compile its snapshot file.

    With ``only``, just that source's changes are published (a feed that publishes itself
    after a refresh): every other source keeps its unpublished changes in the draft, and its
    name and state as the version in force has them. Publishing when nothing changed since
    the version in force is refused.

    The caller commits, then activates the snapshot: a version whose transaction failed is
    never in force, and its file is overwritten by the next publish of the same number.
    """
    await repository.lock_publishing(session)
    latest = await repository.latest_version(session)
    previous = await repository.get_version(session, latest) if latest else None
    before = previous.sources if previous is not None else []
    sources = await repository.enabled_sources(session)
    if only is None:
        frozen = [[str(s.id), s.name, c.key] for s, c in sources]
    else:
        frozen = [item for item in before if item[0] != str(only.id)]
        frozen += [[str(s.id), s.name, c.key] for s, c in sources if s.id == only.id]
        frozen.sort(key=lambda item: item[1])
    if not frozen:
        raise NothingToPublish("No enabled source has any rule; nothing to publish.")
    source_id = only.id if only is not None else None
    if frozen == before and not await repository.has_draft_changes(session, source_id):
        raise NothingToPublish(f"Nothing changed since version {latest}.")
    number = latest + 1
    await repository.publish_draft(session, number, source_id)
    return await _record_version(
        session,
        number,
        frozen,
        snapshot_path,
        actor=actor,
        now=now,
        note=note,
        rolled_back_to=rolled_back_to,
    )


async def _record_version(
    session: AsyncSession,
    number: int,
    frozen: list[list[str]],
    snapshot_path: Callable[[int], Path],
    *,
    actor: str,
    now: datetime,
    note: str | None,
    rolled_back_to: int | None,
) -> Version:
    """Compile version ``number`` from its rows and record it."""
    counts = await _compile(session, number, frozen, snapshot_path(number))
    version = Version(
        number=number,
        published_at=now,
        published_by=actor,
        note=note,
        rolled_back_to=rolled_back_to,
        counts=counts,
        sources=frozen,
    )
    await repository.add(session, version)
    return version


async def compile_version(session: AsyncSession, number: int, path: Path) -> dict[str, int]:
    """(Re)build the snapshot file of a published version, e.g. on a node that lacks it."""
    version = await repository.get_version(session, number)
    if version is None:
        raise VersionNotFound()
    return await _compile(session, number, version.sources, path)


async def _compile(
    session: AsyncSession, number: int, frozen: list[list[str]], path: Path
) -> dict[str, int]:
    categories = [c.key for c in await repository.categories(session)]
    by_source: dict[str, list[Rule]] = defaultdict(list)
    source_ids = [uuid.UUID(s[0]) for s in frozen]
    for source_id, host, scope, action, rpath, line in await repository.content_rows(
        session, number, source_ids
    ):
        by_source[str(source_id)].append(Rule(host, Scope(scope), Action(action), rpath, line or 0))
    sources = [
        SourceRules(SourceRef(sid, name, str(number)), [category], by_source.get(sid, []))
        for sid, name, category in frozen
    ]
    # Compiling a million rules takes seconds of CPU: off the event loop, so the API answers.
    return await asyncio.to_thread(compile_snapshot, sources, categories, path, version=str(number))


@dataclass(frozen=True)
class VersionDiff:
    added: list[Entry]
    removed: list[Entry]


async def diff(session: AsyncSession, old: int, new: int, *, limit: int = 1000) -> VersionDiff:
    for number in (old, new):
        if await repository.get_version(session, number) is None:
            raise VersionNotFound()
    added, removed = await repository.diff_rows(session, old, new, limit=limit)
    return VersionDiff(added, removed)


async def rollback(
    session: AsyncSession,
    *,
    to: int,
    snapshot_path: Callable[[int], Path],
    actor: str,
    now: datetime,
) -> Version:
    """Publish a new version whose content is that of version ``to``; the draft stays a draft.

    Rules that come back are new rows (with the import and line they first came from), rules
    that go are marked removed by ``actor``: every published version keeps its content.
    """
    await repository.lock_publishing(session)
    target = await repository.get_version(session, to)
    if target is None:
        raise VersionNotFound()
    latest = await repository.latest_version(session)
    if to == latest:
        raise NothingToPublish(f"Version {to} is the version in force.")
    number = latest + 1
    revived = await repository.rows_live_in_only(session, to, latest)
    await repository.retire_since(
        session, keep=to, latest=latest, number=number, actor=actor, now=now
    )
    await repository.insert_entries(
        session,
        [
            _entry_row(
                row.source_id,
                (row.host, row.scope, row.action, row.path, row.line),
                added_in=number,
                actor=actor,
                now=now,
                reason=f"rollback to version {to}",
                import_id=row.import_id,
            )
            for row in revived
        ],
    )
    return await _record_version(
        session,
        number,
        target.sources,
        snapshot_path,
        actor=actor,
        now=now,
        note=f"rollback to version {to}",
        rolled_back_to=to,
    )
