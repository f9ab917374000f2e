"""How far an import got, and the imports a process runs in the background.

The import service (``sources.import_list``, ``refresh.refresh_source``) moves an
``ImportProgress`` through its phases as it goes: fetching (a refresh), parsing (with the
list's line count), writing (entries added so far, of how many). Whoever started the import
reads it; ``jobs`` stores it in the database so that every process sees it.

``ImportTasks`` holds the imports this process runs as asyncio tasks, one per job id; the
runtime owns it and cancels them on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    QUEUED = "queued"
    FETCHING = "fetching"  # a refresh, downloading the list
    PARSING = "parsing"
    WRITING = "writing"  # replacing the source's draft, in one transaction
    DONE = "done"
    FAILED = "failed"


RUNNING = frozenset({Phase.QUEUED, Phase.FETCHING, Phase.PARSING, Phase.WRITING})


@dataclass
class ImportProgress:
    """What one import has done so far. ``on_phase`` is awaited at every new phase (a job
    stores the figures then); the figures in between are read from the object itself."""

    phase: Phase = Phase.QUEUED
    lines_total: int | None = None  # known once the list is in hand
    lines_read: int | None = None  # known once it is parsed (the parser reads it whole)
    to_add: int | None = None  # new entries the list brings, known when writing starts
    added: int = 0
    removed: int = 0
    on_phase: Callable[[ImportProgress], Awaitable[None]] | None = None

    async def enter(self, phase: Phase) -> None:
        self.phase = phase
        if self.on_phase is not None:
            await self.on_phase(self)

    def stored(self, done: int, total: int) -> None:
        """``service.replace_rules``'s progress callback: new rows stored so far."""
        self.added, self.to_add = done, total


def line_count(data: bytes) -> int:
    """The lines ``sources.read_list`` will read of ``data``."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


async def enter(progress: ImportProgress | None, phase: Phase) -> None:
    if progress is not None:
        await progress.enter(phase)


def written(progress: ImportProgress | None, *, added: int, removed: int) -> None:
    """The writing phase's final figures (the removals are known only once it is done)."""
    if progress is not None:
        progress.to_add = progress.added = added
        progress.removed = removed


class ImportTasks:
    """The imports this process runs in the background, by job id.

    ``runner`` names the process in the jobs it starts: a job of another runner that stopped
    beating is one whose process died (``jobs.interrupted``). A job id is ``reserve``d before
    its row is committed and ``start``ed after, so that no reader in between takes it for an
    interrupted one.
    """

    def __init__(self) -> None:
        self.runner = secrets.token_hex(8)
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._progress: dict[uuid.UUID, ImportProgress] = {}
        self._reserved: set[uuid.UUID] = set()
        self._closed = False

    def reserve(self, job_id: uuid.UUID) -> None:
        self._reserved.add(job_id)

    def release(self, job_id: uuid.UUID) -> None:
        self._reserved.discard(job_id)

    def start(
        self, job_id: uuid.UUID, progress: ImportProgress, work: Coroutine[Any, Any, None]
    ) -> None:
        if self._closed:
            work.close()
            raise RuntimeError("the process is shutting down")
        task = asyncio.create_task(work, name=f"import job {job_id}")
        self._tasks[job_id] = task
        self._progress[job_id] = progress
        self._reserved.discard(job_id)
        task.add_done_callback(lambda _: self._ended(job_id))

    def _ended(self, job_id: uuid.UUID) -> None:
        self._tasks.pop(job_id, None)
        self._progress.pop(job_id, None)

    def running(self, job_id: uuid.UUID) -> bool:
        return job_id in self._tasks or job_id in self._reserved

    def progress(self, job_id: uuid.UUID) -> ImportProgress | None:
        """The live figures of a job this process runs (fresher than the stored ones)."""
        return self._progress.get(job_id)

    async def wait(self) -> None:
        """Until every import running now has ended (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def close(self) -> None:
        """Cancel the running imports and wait for them: each records itself as interrupted
        if it still can, and the next reader of a job it could not record does it."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
