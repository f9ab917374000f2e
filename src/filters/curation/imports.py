"""A curator's import of a list into a source, and refresh of a URL source: the work and its
audit row, shared by the admin API's routes (in the request) and the console (in the
background, reporting ``progress`` as it goes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import refresh, sources
from filters.curation.egress import Egress
from filters.curation.models import Source
from filters.curation.progress import ImportProgress
from filters.curation.schemas import ImportRead
from filters.engine.rules import Format


class Importer(Protocol):
    """The signed-in curator, with the session the work is done in."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def actor(self) -> str:
        """Who is written into rows (``added_by``, ``published_by``): ``staff:<id>``."""
        ...

    def now(self) -> datetime: ...

    def snapshot_path(self, number: int) -> Path: ...

    @property
    def egress(self) -> Egress:
        """Where URL sources may be fetched from (public addresses and allowed networks)."""
        ...

    async def record(
        self, action: str, subject_type: str, subject_id: object, details: dict[str, Any]
    ) -> None:
        """Append an audit event for a change, in the request's transaction."""
        ...


async def upload(
    staff: Importer,
    source_id: uuid.UUID,
    data: bytes,
    *,
    fmt: Format | None,
    progress: ImportProgress | None = None,
) -> ImportRead:
    """Replace the source's draft with the list in ``data``; its line report. Audited."""
    row = await sources.get(staff.session, source_id)
    result = await sources.import_list(
        staff.session, row, data, fmt=fmt, actor=staff.actor, now=staff.now(), progress=progress
    )
    read = sources.import_read(result)
    await staff.record(
        "curation.source_imported",
        "filter_source",
        row.id,
        read.model_dump(mode="json", include={"id", "added", "removed", "unchanged"}),
    )
    return read


@dataclass(frozen=True)
class Refreshed:
    source: Source
    result: refresh.RefreshResult


async def refresh_now(
    staff: Importer, source_id: uuid.UUID, *, progress: ImportProgress | None = None
) -> Refreshed:
    """Fetch a URL source's list now (a conditional GET) and import it if it changed; audited
    whether it worked or failed (a failure is also recorded on the source: the caller keeps
    those changes). A version it published is the caller's to put in force once committed."""
    row = await sources.get(staff.session, source_id)
    async with refresh.new_client(staff.egress) as client:
        result = await refresh.refresh_source(
            staff.session,
            row,
            client=client,
            actor=staff.actor,
            now=staff.now(),
            snapshot_path=staff.snapshot_path,
            progress=progress,
        )
    details = refresh.details(result)
    failed = result.outcome is refresh.Outcome.FAILED
    action = "curation.source_refresh_failed" if failed else "curation.source_refreshed"
    await staff.record(action, "filter_source", row.id, details)
    return Refreshed(row, result)
