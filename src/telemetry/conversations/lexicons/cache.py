"""The classifier of each lexicon version, compiled once per process, and which one is in force.

Compiling a lexicon is CPU work (the packaged default takes most of a second), so each version
is compiled once per process, in a worker thread (the event loop keeps serving), and the last
few are kept; callers that want the same version meanwhile share that one compile. A version is
named by its number and the digest of its content, so one process serving two databases (the
tests do) never confuses two versions with the same number.

Which version is in force costs a query. Uploads classify every message, so a process asks at
most once per ``ttl`` (1 s) per database and answers from what it read last in between: a
version published by another process is in force here within that second, and at once in the
process that published it (its router calls ``expire`` after the commit). The clock is
injected (``time.monotonic`` by default) so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.conversations.classify import Classifier, default_lexicon
from telemetry.conversations.lexicons import repository

Key = tuple[int, str]  # number, digest of the content
PACKAGED: Key = (0, "packaged")
DEFAULT_TTL = 1.0
KEEP = 4  # compiled classifiers kept: the one in force, the one before, drafts explained


class _Stale(Exception):
    """The version read as in force is no longer there with that content."""


async def _packaged() -> object:
    return default_lexicon()


def _stored(session: AsyncSession, key: Key) -> Callable[[], Awaitable[object]]:
    async def load() -> object:
        row = await repository.get(session, key[0])
        if row is None or row.digest != key[1]:
            raise _Stale
        return row.lexicon

    return load


def _database(session: AsyncSession) -> str:
    url = getattr(session.bind, "url", None)
    return str(url) if url is not None else ""  # str() hides any password


class LexiconCache:
    """Compiled classifiers by version, and each database's version in force (for ``ttl``)."""

    def __init__(
        self, *, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._pointers: dict[str, tuple[float, Key]] = {}
        self._compiled: OrderedDict[Key, Classifier] = OrderedDict()
        self._pending: dict[Key, asyncio.Task[Classifier]] = {}

    def expire(self) -> None:
        """Forget which version is in force (the next call asks the database again)."""
        self._pointers.clear()

    def clear(self) -> None:
        """Forget everything, compiled classifiers included."""
        self._pointers.clear()
        self._compiled.clear()

    async def in_force_key(self, session: AsyncSession) -> Key:
        """The version in force in ``session``'s database, read at most once per ``ttl``."""
        database, now = _database(session), self._clock()
        cached = self._pointers.get(database)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        key = await repository.in_force(session) or PACKAGED
        self._pointers[database] = (now, key)
        return key

    async def in_force(self, session: AsyncSession) -> tuple[Key, Classifier]:
        """The version in force and its classifier (the packaged default's when none is)."""
        for _ in range(2):
            key = await self.in_force_key(session)
            if key == PACKAGED:
                return key, await self.classifier(key, _packaged)
            try:
                return key, await self.classifier(key, _stored(session, key))
            except _Stale:  # changed since it was read (a test's tables emptied): read again
                self.expire()
        return PACKAGED, await self.classifier(PACKAGED, _packaged)

    async def version(self, session: AsyncSession, number: int) -> tuple[Key, Classifier] | None:
        """Version ``number``'s classifier (a draft's too; 0: the packaged default), or None
        when there is no such version."""
        if number == 0:
            return PACKAGED, await self.classifier(PACKAGED, _packaged)
        row = await repository.get(session, number)
        if row is None:
            return None
        data = row.lexicon

        async def load() -> object:
            return data

        key = (row.number, row.digest)
        return key, await self.classifier(key, load)

    async def classifier(self, key: Key, load: Callable[[], Awaitable[object]]) -> Classifier:
        """The classifier of version ``key``, compiled from ``await load()`` unless it is."""
        found = self._compiled.get(key)
        if found is None and key not in self._pending:
            lexicon = await load()
            found = self._compiled.get(key)  # another caller may have compiled it meanwhile
            if found is None and key not in self._pending:
                task = asyncio.create_task(asyncio.to_thread(Classifier.from_lexicon, lexicon))
                self._pending[key] = task
                task.add_done_callback(lambda done: self._settle(key, done))
        if found is not None:
            self._compiled.move_to_end(key)
            return found
        # One caller giving up (a cancelled request) does not cancel the others' compile.
        return await asyncio.shield(self._pending[key])

    def _settle(self, key: Key, task: asyncio.Task[Classifier]) -> None:
        self._pending.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self._compiled[key] = task.result()
            self._compiled.move_to_end(key)
            while len(self._compiled) > KEEP:
                self._compiled.popitem(last=False)


#: The process's cache, used by ``service.in_force`` and the curators' routes.
lexicon_cache = LexiconCache()
