"""Imports run in the background, as rows every process can read (``ImportJob``).

A job is queued in the request that asks for it, then run by one process (``runner``), which
stores its progress as it goes (``JobRecorder``) and its outcome at the end. A source has at
most one running job: the unique ``running_source_id`` refuses a second one, in any process.

A job whose process died stays "running" in its row; readers take it for interrupted (and
record it so) when its runner is this process but no task of it runs, or when another
runner's job stopped beating. The embedded SQLite database belongs to one process, so there a
job of another runner is always a dead one: its process was the previous run of this one.
On SQLite the progress of the writing phase stays in memory (the import's transaction holds
the database's only write lock until it commits); PostgreSQL gets it every second.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from filters.curation.errors import ImportRunning
from filters.curation.models import ImportJob, Source
from filters.curation.progress import RUNNING, ImportProgress, ImportTasks, Phase

log = logging.getLogger(__name__)

BEAT_SECONDS = 1.0  # how often a running job stores its figures and shows it is alive
STALE_AFTER = timedelta(seconds=30)  # a job of another process silent this long is dead
INTERRUPTED = "interrupted: the server stopped before the import finished"


def _embedded(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def interrupted(job: ImportJob, *, tasks: ImportTasks, now: datetime, embedded: bool) -> bool:
    """Whether ``job`` says it runs but its process has gone (see the module's docstring)."""
    if job.phase not in RUNNING:
        return False
    if job.runner == tasks.runner:
        return not tasks.running(job.id)
    return embedded or now - job.heartbeat_at > STALE_AFTER


def _end(job: ImportJob, now: datetime, *, error: str) -> None:
    job.phase = Phase.FAILED.value
    job.error = error
    job.finished_at = now
    job.running_source_id = None


async def sweep(
    session: AsyncSession, source_id: uuid.UUID, *, tasks: ImportTasks, now: datetime
) -> None:
    """Record the jobs of ``source_id`` whose process died as failed (interrupted)."""
    rows = await session.scalars(
        select(ImportJob).where(
            ImportJob.source_id == source_id, ImportJob.phase.in_([p.value for p in RUNNING])
        )
    )
    embedded = _embedded(session)
    dead = [j for j in rows.all() if interrupted(j, tasks=tasks, now=now, embedded=embedded)]
    for job in dead:
        _end(job, now, error=INTERRUPTED)
    if dead:
        await session.flush()


async def queue(
    session: AsyncSession,
    source: Source,
    *,
    kind: str,
    actor: str,
    tasks: ImportTasks,
    now: datetime,
) -> ImportJob:
    """A new queued job for ``source``; ``ImportRunning`` while another one runs.

    The caller commits, then starts the job (``ImportTasks.start``) after reserving its id.
    """
    await sweep(session, source.id, tasks=tasks, now=now)
    running = await session.scalar(
        select(ImportJob).where(ImportJob.running_source_id == source.id)
    )
    if running is not None:
        raise _running(running)
    job = ImportJob(
        id=uuid.uuid4(),
        source_id=source.id,
        running_source_id=source.id,
        kind=kind,
        actor=actor,
        runner=tasks.runner,
        phase=Phase.QUEUED.value,
        added=0,
        removed=0,
        started_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    try:
        await session.flush()
    except IntegrityError as exc:  # another request queued one in the meantime
        raise ImportRunning() from exc
    return job


def _running(job: ImportJob) -> ImportRunning:
    return ImportRunning(
        f"An import of this source is already running ({job.kind}, started "
        f"{job.started_at:%Y-%m-%d %H:%M:%S} UTC, {job.phase}); wait for it to finish."
    )


async def latest(session: AsyncSession, source_id: uuid.UUID) -> ImportJob | None:
    """The source's most recent job, running or ended."""
    result: ImportJob | None = await session.scalar(
        select(ImportJob)
        .where(ImportJob.source_id == source_id)
        .order_by(ImportJob.started_at.desc(), ImportJob.id.desc())
        .limit(1)
    )
    return result


async def get(session: AsyncSession, source_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob | None:
    job = await session.get(ImportJob, job_id)
    return job if job is not None and job.source_id == source_id else None


@dataclass(frozen=True)
class JobView:
    """A job as pages show it: its row, with the fresher figures of this process's task."""

    id: uuid.UUID
    source_id: uuid.UUID
    kind: str
    actor: str
    phase: Phase
    lines_total: int | None
    lines_read: int | None
    to_add: int | None
    added: int
    removed: int
    unchanged: int | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: str | None
    import_id: uuid.UUID | None
    report: dict[str, Any] | None

    @property
    def running(self) -> bool:
        return self.phase in RUNNING


def view(job: ImportJob, tasks: ImportTasks) -> JobView:
    live = tasks.progress(job.id) if job.phase in RUNNING else None
    return JobView(
        id=job.id,
        source_id=job.source_id,
        kind=job.kind,
        actor=job.actor,
        phase=live.phase if live else Phase(job.phase),
        lines_total=live.lines_total if live else job.lines_total,
        lines_read=live.lines_read if live else job.lines_read,
        to_add=live.to_add if live else job.to_add,
        added=live.added if live else job.added,
        removed=live.removed if live else job.removed,
        unchanged=job.unchanged,
        started_at=job.started_at,
        finished_at=job.finished_at,
        outcome=job.outcome,
        error=job.error,
        import_id=job.import_id,
        report=job.report,
    )


class JobRecorder:
    """Stores a running job's progress in its row, in short transactions of its own."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        job_id: uuid.UUID,
        progress: ImportProgress,
        now: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.job_id = job_id
        self.progress = progress
        self.now = now
        # One write at a time, each with the figures of the moment it runs: a beat begun
        # before a new phase must not land after the phase's own write with older figures.
        self._writing = asyncio.Lock()
        self._embedded: bool | None = None
        progress.on_phase = self._phase_changed

    def _figures(self) -> dict[str, Any]:
        p = self.progress
        return {
            "phase": p.phase.value,
            "lines_total": p.lines_total,
            "lines_read": p.lines_read,
            "to_add": p.to_add,
            "added": p.added,
            "removed": p.removed,
            "heartbeat_at": self.now(),
        }

    async def store(self, *, beat: bool = False, **values: Any) -> None:
        """Store the figures as they are now, and ``values``. A ``beat`` stores nothing while
        an embedded SQLite import is writing (see the module)."""
        async with self._writing, self.sessions() as session:
            if self._embedded is None:
                self._embedded = _embedded(session)
            if beat and self._embedded and self.progress.phase is Phase.WRITING:
                return
            await session.execute(
                update(ImportJob)
                .where(ImportJob.id == self.job_id)
                .values(**{**self._figures(), **values})
            )
            await session.commit()

    async def _phase_changed(self, _progress: ImportProgress) -> None:
        await self.store()

    async def beat(self) -> None:
        """Store the figures every ``BEAT_SECONDS`` until cancelled; a failed write is retried
        at the next beat."""
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            try:
                await self.store(beat=True)
            except SQLAlchemyError as exc:
                log.warning("import job %s: progress not stored: %s", self.job_id, exc)

    async def finish(
        self,
        *,
        error: str | None = None,
        outcome: str | None = None,
        import_id: uuid.UUID | None = None,
        report: dict[str, Any] | None = None,
        unchanged: int | None = None,
    ) -> None:
        """Store how the job ended (failed when ``error`` is given) and free its source."""
        self.progress.phase = Phase.FAILED if error is not None else Phase.DONE
        await self.store(
            finished_at=self.now(),
            running_source_id=None,
            error=error,
            outcome=outcome,
            import_id=import_id,
            report=report,
            unchanged=unchanged,
        )
