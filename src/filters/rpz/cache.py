"""Zone files kept under the data directory, one per (zone, version, TTL).

A published version never changes, so neither does its zone: a file written once answers every
later request. Writing goes to a temporary file in the same directory that is renamed into
place, so a reader (another request, another process) sees a whole file or none; within a
process a lock per file makes concurrent requests for a missing zone write it once. Two
processes may both write the same zone the first time; the last rename wins, and both files
are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path


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
