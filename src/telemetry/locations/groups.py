"""Uploads stored in groups: the uploads of many requests in one transaction (group commit).

A child's device sends its fixes in batches all day, and what an upload costs the database is
mostly per transaction and per statement (BEGIN, the insert, COMMIT and its flush to disk),
not per fix. A process stores a few groups at once; uploads that arrive while all of them
are being stored wait and go together in the next: one transaction, all their fixes in one
insert (``service.ingest_many``), then each upload's listeners. There is no timer: a lone
upload waits for its own transaction only, and a busy process stores larger groups.

Each upload still gets its own answer, exactly as if stored alone. When a group's transaction
fails, nothing of it is kept, and each of its uploads is stored again alone (uploads are
idempotent), so one upload's failure (a bug, a deadlock between processes) is that upload's
only. A waiting request that is cancelled (its client went away) is still stored: the client
sends the batch again and gets its fixes back as duplicates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.events import Event
from telemetry.locations.service import Stored, Upload, ingest_many

log = logging.getLogger(__name__)

MAX_GROUP = 16
# Groups in flight at once: each holds a connection and its children's rows until it commits,
# so a slow commit does not hold up every upload of the process.
MAX_CONCURRENT = 4

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
KeepEvents = Callable[[AsyncSession, Sequence[Event]], Awaitable[object]]


@dataclass(frozen=True)
class _Waiting:
    upload: Upload
    keep_events: KeepEvents  # records the listeners' events in the transaction (notifications)
    done: asyncio.Future[Stored]


class UploadGroups:
    """Stores uploads in groups, up to ``max_concurrent`` groups at a time per process (an
    upload that finds one free does not wait for another group's commit; only when all are
    busy do uploads gather for the next). ``transaction`` opens a session in a transaction
    that commits when its block ends; ``now`` is the clock."""

    def __init__(
        self,
        transaction: Transaction,
        *,
        now: Callable[[], datetime],
        max_group: int = MAX_GROUP,
        max_concurrent: int = MAX_CONCURRENT,
    ) -> None:
        self._transaction = transaction
        self._now = now
        self._max_group = max_group
        self._max_concurrent = max_concurrent
        self._waiting: list[_Waiting] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups = 0  # transactions that stored a group, for tests and benchmarks

    async def store(self, upload: Upload, *, keep_events: KeepEvents) -> Stored:
        """Store one upload, and with ``keep_events`` what its listeners raised, in a group's
        transaction; returns once that transaction has committed."""
        done: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(upload, keep_events, done))
        if len(self._tasks) < self._max_concurrent:
            task = asyncio.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await done

    async def _run(self) -> None:
        while self._waiting:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
            try:
                stored = await self._store(group)
            except Exception as exc:
                if len(group) == 1:
                    _settle(group[0].done, error=exc)
                    continue
                log.warning(
                    "a group of %d uploads failed; storing each alone", len(group), exc_info=True
                )
                for waiting in group:
                    try:
                        [alone] = await self._store([waiting])
                    except Exception as error:
                        _settle(waiting.done, error=error)
                    else:
                        _settle(waiting.done, result=alone)
            else:
                for waiting, result in zip(group, stored, strict=True):
                    _settle(waiting.done, result=result)

    async def _store(self, group: list[_Waiting]) -> list[Stored]:
        self.groups += 1
        async with self._transaction() as session:
            stored = await ingest_many(session, [w.upload for w in group], now=self._now())
            for waiting, one in zip(group, stored, strict=True):
                if one.events:
                    await waiting.keep_events(session, one.events)
        return stored

    async def close(self) -> None:
        """Wait for the uploads already handed over to be stored."""
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _settle(
    done: asyncio.Future[Stored], *, result: Stored | None = None, error: Exception | None = None
) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        assert result is not None
        done.set_result(result)
