"""Published versions as curators see them: the list, and what changed between two of them.
Publishing and rolling back are in ``service``."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import repository
from filters.curation.errors import VersionNotFound
from filters.curation.models import Entry, Version
from filters.curation.schemas import (
    DiffRule,
    VersionDiffRead,
    VersionList,
    VersionRead,
    VersionSource,
)


def version_read(version: Version) -> VersionRead:
    return VersionRead(
        number=version.number,
        published_at=version.published_at,
        published_by=version.published_by,
        note=version.note,
        rolled_back_to=version.rolled_back_to,
        counts=version.counts,
        sources=[
            VersionSource(id=uuid.UUID(sid), name=name, category=category)
            for sid, name, category in version.sources
        ],
    )


async def list_versions(session: AsyncSession, *, limit: int, before: int | None) -> VersionList:
    """Versions, newest first; ``before`` continues a list after its last number."""
    rows = await repository.versions(session, limit=limit, before=before)
    return VersionList(items=[version_read(v) for v in rows])


async def get(session: AsyncSession, number: int) -> Version:
    version = await repository.get_version(session, number)
    if version is None:
        raise VersionNotFound()
    return version


async def diff(session: AsyncSession, base: int, number: int, *, limit: int) -> VersionDiffRead:
    """Rules ``number`` has and ``base`` has not (added), and the reverse (removed), each at
    most ``limit`` by name, with the totals. Base 0 is the empty start: all of ``number``."""
    for wanted in (base, number) if base else (number,):
        await get(session, wanted)
    added, removed = await repository.diff_rows(session, base, number, limit=limit)
    added_total, removed_total = await repository.diff_counts(session, base, number)
    names = await repository.source_names(session, list({e.source_id for e in added + removed}))

    def rule(entry: Entry) -> DiffRule:
        return DiffRule(
            host=entry.host,
            scope=entry.scope,  # type: ignore[arg-type]  # written from Scope values only
            path=entry.path,
            action="allow" if entry.action == "allow" else "block",
            source_id=entry.source_id,
            source_name=names[entry.source_id],
        )

    return VersionDiffRead(
        base=base,
        number=number,
        added=[rule(e) for e in added],
        removed=[rule(e) for e in removed],
        added_total=added_total,
        removed_total=removed_total,
    )
