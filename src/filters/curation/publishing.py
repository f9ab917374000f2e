"""Publishing the draft as an immutable version, compiling its snapshot, comparing two
versions and rolling back to an earlier one."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import repository, service
from filters.curation.errors import NothingToPublish, VersionNotFound
from filters.curation.models import Entry, Source, Version
from filters.engine.rules import Action, Rule, Scope
from filters.engine.snapshot import SourceRef, SourceRules, compile_snapshot


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
            service.entry_row(
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
