"""Zone files kept under the data directory, one per (zone, version, TTL).

A published version never changes, so neither does its zone: a file written once answers every
later request. Writing goes to a temporary file in the same directory that is renamed into
place, so a reader (another request, another process) sees a whole file or none; within a
process a lock per file makes concurrent requests for a missing zone write it once. Two
processes may both write the same zone the first time; the last rename wins, and both files
are the same.

Zones of old versions are pruned (``prune``, run by the worker). A pruned zone is written
again if it is asked for, so pruning costs time, never an answer. A file written in the last
minutes stays even when old, so a request that has just been given its path can still open
it; one already open stays readable after the unlink (POSIX).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

# "<origin>v<version>.ttl<seconds>.zone", as filters.rpz.service names category zones.
_ZONE = re.compile(r"^[^.].*\.v([0-9]+)\.ttl[0-9]+\.zone$")
RECENT_SECONDS = 600.0


class ZoneCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._locks: dict[str, asyncio.Lock] = {}

    def path(self, name: str) -> Path:
        return self.directory / name

    async def get(self, name: str, write: Callable[[Path], Awaitable[None]]) -> Path:
        """The file ``name``, written by ``write(temporary path)`` first if it is missing."""
        final = self.path(name)
        if final.exists():
            return final
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if final.exists():
                return final
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.")
            os.close(handle)
            try:
                await write(Path(temporary))
                os.replace(temporary, final)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
            finally:
                self._locks.pop(name, None)
        return final

    def prune(self, below: int, *, recent_seconds: float = RECENT_SECONDS) -> list[Path]:
        """Delete the zones of versions before ``below`` not written in the last
        ``recent_seconds``; returns the files deleted."""
        if not self.directory.is_dir():
            return []
        written_before = time.time() - recent_seconds
        removed = []
        for path in self.directory.iterdir():
            found = _ZONE.match(path.name)
            if found is None or int(found.group(1)) >= below:
                continue
            try:
                if path.stat().st_mtime > written_before:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            except PermissionError:  # open elsewhere, on a system that forbids this
                continue
            removed.append(path)
        return sorted(removed)
