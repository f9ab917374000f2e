"""Sources curators manage: creating, changing and deleting them, and importing a list into one.

A source's settings must fit its kind: only URL sources have a URL and a refresh interval,
and manual sources take entries one by one, never an imported list. The ``manual:<category>``
names belong to the manual sources ``service.manual_source`` creates for each category.
A URL our servers may not fetch (see ``egress``) is refused when it is given, not at its
first refresh.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import repository, service
from filters.curation.egress import PUBLIC_ONLY, Egress, Refused
from filters.curation.errors import (
    ImportRefused,
    InvalidList,
    InvalidSource,
    SourceExists,
    SourceNotFound,
    SourcePublished,
)
from filters.curation.models import Import, Source
from filters.curation.progress import ImportProgress, Phase, enter, line_count, written
from filters.curation.schemas import (
    ImportRead,
    ImportReport,
    SourceCreate,
    SourceRead,
    SourceUpdate,
)
from filters.engine.formats import parse
from filters.engine.rules import Action, Format, ParseReport, Rule, Scope

MAX_LIST_BYTES = 64 * 1024 * 1024  # twice the largest list we know of (1M names, ~30 MB)


def _check_name(name: str) -> None:
    if name.startswith(service.MANUAL_PREFIX):
        raise InvalidSource(
            f"Names starting with {service.MANUAL_PREFIX!r} belong to the categories' own "
            "manual sources."
        )


def _check_url(url: str, egress: Egress) -> None:
    try:
        egress.check_url(url)
    except Refused as exc:
        raise InvalidSource(f"The URL is refused: {exc.reason}") from exc


async def get(session: AsyncSession, source_id: uuid.UUID) -> Source:
    source = await repository.get_source(session, source_id)
    if source is None:
        raise SourceNotFound()
    return source


async def read(session: AsyncSession, source: Source) -> SourceRead:
    return (await _reads(session, [source]))[0]


async def list_sources(session: AsyncSession) -> list[SourceRead]:
    """Every source, by name, with its draft's size and how its last import or refresh went."""
    return await _reads(session, await repository.sources(session))


async def _reads(session: AsyncSession, rows: list[Source]) -> list[SourceRead]:
    counts = await repository.draft_counts(session)
    published = await repository.published_source_ids(session)
    keys = await repository.category_keys(session, list({s.category_id for s in rows}))
    return [
        SourceRead(
            id=s.id,
            name=s.name,
            category=keys[s.category_id],
            kind=s.kind,  # type: ignore[arg-type]  # checked on the way in
            url=s.url,
            format=Format(s.format) if s.format else None,
            plain_names="exact" if s.domains_scope == "exact" else "subtree",
            enabled=s.enabled,
            auto_publish=s.auto_publish,
            licence=s.licence,
            refresh_interval_seconds=s.refresh_interval_seconds,
            next_refresh_at=s.next_refresh_at,
            last_checked_at=s.last_checked_at,
            refresh_status=s.refresh_status,  # type: ignore[arg-type]
            last_error=s.last_error,
            last_error_at=s.last_error_at,
            last_import_at=s.last_import_at,
            last_report=ImportReport.model_validate(s.last_report) if s.last_report else None,
            draft_entries=counts.get(s.id, 0),
            published=str(s.id) in published,
            created_at=s.created_at,
        )
        for s in rows
    ]


async def create(
    session: AsyncSession, body: SourceCreate, *, now: datetime, egress: Egress = PUBLIC_ONLY
) -> Source:
    _check_name(body.name)
    is_url = body.kind == "url"
    if is_url != (body.url is not None):
        raise InvalidSource("A URL source needs a url, and only URL sources have one.")
    if body.url is not None:
        _check_url(str(body.url), egress)
    if not is_url and (body.refresh_interval_seconds is not None or body.auto_publish):
        raise InvalidSource("Only URL sources are refreshed and publish themselves.")
    if body.kind == "manual" and body.format is not None:
        raise InvalidSource("Manual sources have no list format.")
    await service.seed_categories(session, now=now)
    return await service.create_source(
        session,
        name=body.name,
        category_key=body.category,
        kind=body.kind,
        now=now,
        url=str(body.url) if body.url is not None else None,
        format=body.format.value if body.format is not None else None,
        domains_scope=body.plain_names,
        enabled=body.enabled,
        refresh_interval_seconds=body.refresh_interval_seconds,
        auto_publish=body.auto_publish,
        licence=body.licence,
    )


async def update(
    session: AsyncSession,
    source: Source,
    body: SourceUpdate,
    *,
    now: datetime,
    egress: Egress = PUBLIC_ONLY,
) -> dict[str, Any]:
    """Apply the fields given; returns what changed, for the audit log.

    A new URL or interval makes the source due again; a source enabled again is due at once.
    """
    given = body.model_fields_set
    is_url = source.kind == "url"
    if not is_url and given & {"url", "refresh_interval_seconds", "auto_publish"}:
        raise InvalidSource("Only URL sources have a url, an interval and auto-publishing.")
    if "url" in given and body.url is None:
        raise InvalidSource("A URL source needs a url.")
    if source.kind == "manual" and body.format is not None:
        raise InvalidSource("Manual sources have no list format.")
    if body.url is not None:
        _check_url(str(body.url), egress)
    changed: dict[str, Any] = {}
    if body.name is not None and body.name != source.name:
        if source.name.startswith(service.MANUAL_PREFIX):
            raise InvalidSource("A category's manual source keeps its name.")
        _check_name(body.name)
        if await repository.source_by_name(session, body.name) is not None:
            raise SourceExists()
        source.name = changed["name"] = body.name
    if body.enabled is not None and body.enabled != source.enabled:
        source.enabled = changed["enabled"] = body.enabled
    if body.url is not None and str(body.url) != source.url:
        source.url = changed["url"] = str(body.url)
        source.etag = source.last_modified = None  # another server's validators mean nothing
    if "format" in given:
        wanted = body.format.value if body.format is not None else None
        if wanted != source.format:
            source.format = changed["format"] = wanted
    if body.plain_names is not None and body.plain_names != source.domains_scope:
        source.domains_scope = changed["plain_names"] = body.plain_names
    interval = body.refresh_interval_seconds
    if "refresh_interval_seconds" in given and interval != source.refresh_interval_seconds:
        source.refresh_interval_seconds = changed["refresh_interval_seconds"] = interval
    if body.auto_publish is not None and body.auto_publish != source.auto_publish:
        source.auto_publish = changed["auto_publish"] = body.auto_publish
    if "licence" in given and body.licence != source.licence:
        source.licence = changed["licence"] = body.licence
    if is_url and changed.keys() & {"url", "refresh_interval_seconds", "enabled"}:
        source.next_refresh_at = _next_refresh(source, now, again="url" in changed)
    await session.flush()
    return changed


def _next_refresh(source: Source, now: datetime, *, again: bool) -> datetime | None:
    """Due at once for a new URL or a source never checked; else an interval after the last
    check (a source enabled after a long pause is due at once that way too)."""
    if source.refresh_interval_seconds is None:
        return None
    if again or source.last_checked_at is None:
        return now
    return max(now, source.last_checked_at + timedelta(seconds=source.refresh_interval_seconds))


async def delete(session: AsyncSession, source: Source) -> None:
    """Delete a source no published version was made of, with its rules and imports."""
    if str(source.id) in await repository.published_source_ids(session):
        raise SourcePublished()
    await repository.remove(session, source)


def read_list(
    data: bytes, fmt: Format | None, *, action: Action, plain_names: Scope
) -> tuple[list[Rule], ParseReport]:
    """Parse a list's bytes (UTF-8; a line that does not decode is rejected by itself).

    A list in no known format, or with not one rule in it, is ``InvalidList``. CPU-bound: call
    it in a thread.
    """
    # surrogateescape, as the engine reads files: a bad byte costs its line, not the list.
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()
    try:
        rules, report = parse(lines, fmt, action=action, domains_scope=plain_names)
    except ValueError as exc:
        raise InvalidList(f"{InvalidList.message} ({exc})") from exc
    if not rules:
        raise InvalidList(
            f"Not one rule could be read as {report.format.value}: {report.lines_read} lines, "
            f"{report.rejected_count} rejected"
            + (f", the first: {report.rejected[0].reason}" if report.rejected else "")
            + "."
        )
    return rules, report


async def parse_for(
    session: AsyncSession,
    source: Source,
    data: bytes,
    fmt: Format | None,
    progress: ImportProgress | None = None,
) -> tuple[list[Rule], ParseReport]:
    """``read_list`` with the source's format, scope and category's kind, off the event loop."""
    category = next(c for c in await repository.categories(session) if c.id == source.category_id)
    if progress is not None:
        progress.lines_total = line_count(data)
        await progress.enter(Phase.PARSING)
    rules, report = await asyncio.to_thread(
        read_list,
        data,
        fmt or (Format(source.format) if source.format else None),
        action=Action.ALLOW if category.kind == "allow" else Action.BLOCK,
        plain_names=Scope.EXACT if source.domains_scope == "exact" else Scope.SUBTREE,
    )
    if progress is not None:
        progress.lines_read = report.lines_read
    return rules, report


async def import_list(
    session: AsyncSession,
    source: Source,
    data: bytes,
    *,
    fmt: Format | None,
    actor: str,
    now: datetime,
    progress: ImportProgress | None = None,
) -> service.ImportResult:
    """Replace the draft of ``source`` with the list in ``data``; an unreadable list changes
    nothing. An upload into a URL source also forgets the server's validators, so that the
    next refresh fetches the list whole again. ``progress`` follows it phase by phase."""
    if source.kind == "manual":
        raise ImportRefused()
    rules, report = await parse_for(session, source, data, fmt, progress)
    await enter(progress, Phase.WRITING)
    locked = await repository.lock_source(session, source.id)
    if locked is None:  # deleted meanwhile
        raise SourceNotFound()
    locked.etag = locked.last_modified = None
    result = await service.replace_rules(
        session,
        locked,
        rules,
        report=report,
        actor=actor,
        now=now,
        origin="upload",
        progress=progress.stored if progress is not None else None,
    )
    written(progress, added=result.added, removed=result.removed)
    return result


async def imports(session: AsyncSession, source: Source, *, limit: int) -> list[Import]:
    return await repository.imports(session, source.id, limit=limit)


def import_read(result: service.ImportResult) -> ImportRead:
    assert result.record is not None
    return ImportRead.model_validate(result.record, from_attributes=True)
