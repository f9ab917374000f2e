"""The progress of an import at the service level: the phases and figures the import service
reports, a job's row as other processes read it while it runs, one running job per source,
and jobs whose process died."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from filters.curation import jobs, refresh, repository, sources
from filters.curation.errors import ImportRunning, InvalidList
from filters.curation.models import ImportJob, Source
from filters.curation.progress import ImportProgress, ImportTasks, Phase, line_count
from filters.curation.schemas import SourceCreate
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.filters.curation.listserver import LOOPBACK, ListServer

LINES = 3000


def a_list(count: int = LINES, start: int = 0) -> bytes:
    return "".join(f"site-{n}.test\n" for n in range(start, start + count)).encode()


async def make(runtime: Runtime, **fields: Any) -> Source:
    async with transaction(runtime.sessions) as session:
        body = SourceCreate.model_validate(
            {"name": "list", "category": "adult", "kind": "file", **fields}
        )
        return await sources.create(session, body, now=runtime.clock.now(), egress=LOOPBACK)


def watched() -> tuple[ImportProgress, list[tuple[str, int | None, int | None]]]:
    """A progress whose phases are noted with the line figures known on entering each."""
    seen: list[tuple[str, int | None, int | None]] = []

    async def note(p: ImportProgress) -> None:
        seen.append((p.phase.value, p.lines_total, p.lines_read))

    return ImportProgress(on_phase=note), seen


async def import_into(
    runtime: Runtime, source: Source, data: bytes, progress: ImportProgress | None
) -> None:
    async with transaction(runtime.sessions) as session:
        row = await session.get(Source, source.id)
        assert row is not None
        await sources.import_list(
            session,
            row,
            data,
            fmt=None,
            actor="staff:test",
            now=runtime.clock.now(),
            progress=progress,
        )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with refresh.new_client(LOOPBACK) as client:
        yield client


def test_line_count_matches_the_lines_the_parser_reads() -> None:
    assert [line_count(d) for d in (b"", b"a\n", b"a", b"a\nb", b"a\n\nb\n")] == [0, 1, 1, 2, 3]


async def test_an_import_reports_its_phases_lines_and_entries(runtime: Runtime) -> None:
    source = await make(runtime)
    progress, seen = watched()

    await import_into(runtime, source, a_list() + b"not a name\n", progress)

    assert seen == [("parsing", LINES + 1, None), ("writing", LINES + 1, LINES + 1)]
    assert (progress.to_add, progress.added, progress.removed) == (LINES, LINES, 0)

    again, _ = watched()
    await import_into(runtime, source, a_list(LINES - 100, start=100), again)
    assert (again.to_add, again.added, again.removed) == (0, 0, 100)


async def test_an_unreadable_list_stops_in_parsing(runtime: Runtime) -> None:
    source = await make(runtime)
    progress, seen = watched()

    with pytest.raises(InvalidList):
        await import_into(runtime, source, b"!!!\n", progress)

    assert seen == [("parsing", 1, None)]


async def test_a_refresh_reports_fetching_then_parsing_and_writing(
    runtime: Runtime, server: ListServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    server.publish(["0.0.0.0 a.test", "0.0.0.0 b.test"], etag='"1"', last_modified="x")
    source = await make(runtime, kind="url", url=server.url)
    progress, seen = watched()

    async with transaction(runtime.sessions) as session:
        row = await session.get(Source, source.id)
        assert row is not None
        result = await refresh.refresh_source(
            session,
            row,
            client=http,
            actor="staff:test",
            now=runtime.clock.now(),
            snapshot_path=lambda n: tmp_path / f"{n}.snap",
            progress=progress,
        )

    assert result.outcome is refresh.Outcome.UPDATED
    assert [phase for phase, *_ in seen] == ["fetching", "parsing", "writing"]
    assert (progress.lines_read, progress.added) == (2, 2)


async def stored(runtime: Runtime, job_id: Any) -> ImportJob:
    async with runtime.sessions() as session:
        row = await session.get(ImportJob, job_id)
        assert row is not None
        return row


async def queue(runtime: Runtime, source: Source, tasks: ImportTasks) -> ImportJob:
    async with transaction(runtime.sessions) as session:
        return await jobs.queue(
            session, source, kind="upload", actor="staff:t", tasks=tasks, now=runtime.clock.now()
        )


async def test_a_job_stores_its_progress_as_it_goes_for_other_processes(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "BEAT_SECONDS", 0.01)
    source = await make(runtime)
    tasks = ImportTasks()
    job = await queue(runtime, source, tasks)
    progress = ImportProgress()
    recorder = jobs.JobRecorder(runtime.sessions, job.id, progress, runtime.clock.now)
    seen: dict[str, ImportJob] = {}
    on_phase = progress.on_phase
    assert on_phase is not None

    async def note(p: ImportProgress) -> None:
        await on_phase(p)
        seen[p.phase.value] = await stored(runtime, job.id)

    progress.on_phase = note
    inserting = asyncio.Event()
    release = asyncio.Event()
    insert_entries = repository.insert_entries

    async def held(session: Any, rows: Sequence[Any], advance: Callable[[int], None]) -> None:
        await insert_entries(session, rows, advance)
        inserting.set()
        await release.wait()

    monkeypatch.setattr(repository, "insert_entries", held)
    beat = asyncio.create_task(recorder.beat())
    running = asyncio.create_task(import_into(runtime, source, a_list(), progress))
    try:
        await asyncio.wait_for(inserting.wait(), 5)
        await asyncio.sleep(0.1)  # a few beats
        mid = await stored(runtime, job.id)
    finally:
        release.set()
        await running
        beat.cancel()
    await recorder.finish(report={"format": "domains"}, unchanged=0)

    assert (seen["parsing"].phase, seen["parsing"].lines_total) == ("parsing", LINES)
    assert (seen["writing"].phase, seen["writing"].lines_read) == ("writing", LINES)
    assert mid.phase == "writing"
    if not runtime.is_embedded_sqlite:
        # PostgreSQL: the entries written so far, while the import's transaction is open (on
        # SQLite it holds the only write lock: the process's own memory has them).
        assert (mid.added, mid.to_add) == (LINES, LINES)
        assert mid.heartbeat_at == runtime.clock.now()
    done = await stored(runtime, job.id)
    assert (done.phase, done.added, done.running_source_id) == ("done", LINES, None)
    assert done.finished_at == runtime.clock.now()
    assert done.report == {"format": "domains"}


async def test_one_running_job_per_source(runtime: Runtime, clock: FrozenClock) -> None:
    source = await make(runtime)
    other = await make(runtime, name="other")
    tasks = ImportTasks()
    first = await queue(runtime, source, tasks)
    tasks.reserve(first.id)  # as if it ran

    with pytest.raises(ImportRunning, match="already running"):
        await queue(runtime, source, tasks)
    await queue(runtime, other, tasks)  # another source is free

    await jobs.JobRecorder(runtime.sessions, first.id, ImportProgress(), clock.now).finish()
    clock.advance(timedelta(seconds=1))
    assert (await queue(runtime, source, tasks)).phase == Phase.QUEUED.value


async def test_jobs_whose_process_died_are_recorded_as_interrupted(
    runtime: Runtime, clock: FrozenClock
) -> None:
    source = await make(runtime)
    mine = ImportTasks()
    job = await queue(runtime, source, mine)
    embedded = runtime.is_embedded_sqlite
    now = clock.now()

    # This process's job without a task: its task is gone.
    assert jobs.interrupted(job, tasks=mine, now=now, embedded=embedded)
    mine.reserve(job.id)
    assert not jobs.interrupted(job, tasks=mine, now=now, embedded=embedded)
    # Another process's: dead when silent too long, or always on the embedded database.
    other = ImportTasks()
    assert jobs.interrupted(job, tasks=other, now=now, embedded=True)
    assert not jobs.interrupted(job, tasks=other, now=now, embedded=False)
    later = now + jobs.STALE_AFTER + timedelta(seconds=1)
    assert jobs.interrupted(job, tasks=other, now=later, embedded=False)

    async with transaction(runtime.sessions) as session:
        await jobs.sweep(session, source.id, tasks=other, now=later)
    row = await stored(runtime, job.id)
    assert (row.phase, row.error, row.running_source_id) == ("failed", jobs.INTERRUPTED, None)
    assert row.finished_at == later


async def test_closing_the_tasks_cancels_the_imports_running(runtime: Runtime) -> None:
    tasks = ImportTasks()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    job_id = (await queue(runtime, await make(runtime), tasks)).id
    tasks.start(job_id, ImportProgress(), work())
    await started.wait()
    assert tasks.running(job_id)

    await tasks.close()

    assert cancelled.is_set()
    assert not tasks.running(job_id)
    with pytest.raises(RuntimeError):
        tasks.start(job_id, ImportProgress(), work())
