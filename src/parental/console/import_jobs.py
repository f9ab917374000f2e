"""Imports started from the console, run in the background by the process that took them.

The request queues a job (``filters.curation.jobs``) and answers at once; the job then does
what the admin API's import and refresh routes do (``create_filter_import``,
``refresh_filter_source``) with the same services, audit actions and details, in a session
of its own, with an ``ImportProgress`` the page polls: ``filters.curation.imports``, which
those routes call too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation import imports, jobs, refresh
from filters.curation.models import ImportJob, Source
from filters.curation.progress import ImportProgress
from filters.engine.rules import Format
from parental.curation import StaffCurator
from parental.kit.errors import AppError
from parental.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Ended:
    """What a job's work did, stored with the job when it ends."""

    error: str | None = None
    outcome: str | None = None
    import_id: uuid.UUID | None = None
    report: dict[str, Any] | None = None
    unchanged: int | None = None
    activate: list[int] = field(default_factory=list)  # versions to put in force, committed


Work = Callable[[StaffCurator, ImportProgress], Awaitable[Ended]]


async def start_upload(
    session: AsyncSession,
    runtime: Runtime,
    source: Source,
    *,
    staff_id: uuid.UUID,
    ip: str | None,
    data: bytes,
    fmt: Format | None,
) -> ImportJob:
    """Queue the import of an uploaded list into ``source`` and start it; commits."""

    async def work(staff: StaffCurator, progress: ImportProgress) -> Ended:
        read = await imports.upload(staff, source.id, data, fmt=fmt, progress=progress)
        return Ended(
            import_id=read.id,
            report=read.report.model_dump(mode="json") if read.report else None,
            unchanged=read.unchanged,
        )

    return await _start(session, runtime, source, "upload", staff_id, ip, work)


async def start_refresh(
    session: AsyncSession, runtime: Runtime, source: Source, *, staff_id: uuid.UUID, ip: str | None
) -> ImportJob:
    """Queue a refresh of the URL source ``source`` and start it; commits."""

    async def work(staff: StaffCurator, progress: ImportProgress) -> Ended:
        refreshed = await imports.refresh_now(staff, source.id, progress=progress)
        row, result = refreshed.source, refreshed.result
        if result.outcome is refresh.Outcome.FAILED:
            return Ended(error=result.error, outcome=result.outcome.value)
        imported = result.imported
        record = imported.record if imported is not None else None
        report = record.report if record is not None else None
        return Ended(
            outcome=result.outcome.value,
            import_id=record.id if record is not None else None,
            # An unchanged list leaves no import behind; the source keeps its report.
            report=report if report is not None or imported is None else row.last_report,
            unchanged=imported.unchanged if imported is not None else None,
            activate=[result.version.number] if result.version is not None else [],
        )

    return await _start(session, runtime, source, "refresh", staff_id, ip, work)


async def _start(
    session: AsyncSession,
    runtime: Runtime,
    source: Source,
    kind: str,
    staff_id: uuid.UUID,
    ip: str | None,
    work: Work,
) -> ImportJob:
    tasks = runtime.imports
    job = await jobs.queue(
        session,
        source,
        kind=kind,
        actor=f"staff:{staff_id}",
        tasks=tasks,
        now=runtime.clock.now(),
    )
    tasks.reserve(job.id)
    try:
        await session.commit()  # the job's own session must see it
    except BaseException:
        tasks.release(job.id)
        raise
    progress = ImportProgress()
    tasks.start(job.id, progress, _run(runtime, job.id, staff_id, ip, progress, work))
    return job


async def _run(
    runtime: Runtime,
    job_id: uuid.UUID,
    staff_id: uuid.UUID,
    ip: str | None,
    progress: ImportProgress,
    work: Work,
) -> None:
    recorder = jobs.JobRecorder(runtime.sessions, job_id, progress, runtime.clock.now)
    beat = asyncio.create_task(recorder.beat())
    try:
        ended = await _work(runtime, staff_id, ip, progress, work)
    except asyncio.CancelledError:
        beat.cancel()
        # Shutting down: record the interruption if the database still answers soon.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await recorder.finish(error=jobs.INTERRUPTED)
        raise
    finally:
        beat.cancel()
    await recorder.finish(
        error=ended.error,
        outcome=ended.outcome,
        import_id=ended.import_id,
        report=ended.report,
        unchanged=ended.unchanged,
    )
    for number in ended.activate:
        await runtime.snapshots.publish(str(number), runtime.notices)


async def _work(
    runtime: Runtime,
    staff_id: uuid.UUID,
    ip: str | None,
    progress: ImportProgress,
    work: Work,
) -> Ended:
    """Run ``work`` in a session of its own: committed when it ends, rolled back when it
    raises (errors marked ``keep_changes`` commit first, as a request's would)."""
    async with runtime.sessions() as session:
        staff = StaffCurator(session, staff_id, runtime, ip)
        try:
            ended = await work(staff, progress)
        except AppError as exc:
            await (session.commit() if exc.keep_changes else session.rollback())
            return Ended(error=exc.detail)
        except asyncio.CancelledError:
            await session.rollback()
            raise
        except Exception:
            await session.rollback()
            log.exception("import job failed")
            return Ended(error="Internal error: the import was not made.")
        await session.commit()
        return ended
