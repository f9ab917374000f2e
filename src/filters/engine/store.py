"""The snapshot a process answers from, and how every process swaps to a newly published one.

Published snapshots are files in one directory, named by version, plus a ``CURRENT`` file that
names the version in force. Publishing writes the snapshot, then replaces ``CURRENT`` atomically
and sends a notice; each process swaps its reference when the notice arrives, and also checks
``CURRENT`` on a short interval, so a missed notice (Redis down, or processes on one machine
without Redis) delays a swap by at most that interval. A swap is a single reference assignment:
a lookup in flight finishes on the snapshot it started with.

Files of old versions are pruned (``prune``, run by the worker): the version in force, the
versions just before it and any newer one (a publish under way) stay. A process that still
maps a pruned file keeps answering from it: on Linux (POSIX) unlinking removes the name, not
the data, which stays readable until the last mapping closes. Only opening it anew would
fail, and a process opens only the version ``CURRENT`` names, which is never pruned. (Windows
refuses to delete an open file; such a file is left for the next round.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path

from filters.engine.snapshot import Snapshot
from parental.kit.notices import Notices, Subscription

log = logging.getLogger(__name__)

CHANNEL = "filters.snapshot"
POINTER = "CURRENT"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


class SnapshotStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._snapshot: Snapshot | None = None
        self._pointer_seen: tuple[int, int] | None = None

    @property
    def current(self) -> Snapshot | None:
        """The snapshot in force in this process (None before anything is published)."""
        return self._snapshot

    def path_for(self, version: str) -> Path:
        if not _VERSION.match(version):
            raise ValueError(f"not a valid snapshot version: {version!r}")
        return self.directory / f"{version}.snap"

    def path_for_number(self, number: int) -> Path:
        """The file of a numbered version (curation numbers its versions 1, 2, ...)."""
        return self.path_for(str(number))

    def pointed(self) -> str | None:
        """The version ``CURRENT`` names (None before anything is published)."""
        try:
            return (self.directory / POINTER).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None

    def prune(self, keep: int) -> list[Path]:
        """Delete the files of numbered versions more than ``keep`` before the one in force.

        Files not named by a number, and the version this process answers from, stay; so does
        everything when ``CURRENT`` names no numbered version. Returns the files deleted.
        """
        current = self.pointed()
        if current is None or not _is_number(current):
            return []
        below = int(current) - keep
        removed = []
        for path in self.directory.glob("*.snap"):
            if not _is_number(path.stem) or int(path.stem) >= below or path.stem == self.version:
                continue
            try:
                path.unlink()
            except FileNotFoundError:  # another worker pruned it first
                continue
            except PermissionError as exc:  # open elsewhere, on a system that forbids this
                log.info("snapshot %s not pruned yet: %s", path.name, exc)
                continue
            removed.append(path)
        return sorted(removed)

    def activate(self, version: str) -> None:
        """Make ``version`` (already compiled into ``path_for(version)``) the one in force."""
        if not self.path_for(version).is_file():
            raise FileNotFoundError(self.path_for(version))
        tmp = self.directory / f".{POINTER}.{os.getpid()}"
        tmp.write_text(version + "\n", encoding="ascii")
        os.replace(tmp, self.directory / POINTER)
        self.refresh()

    async def publish(self, version: str, notices: Notices | None) -> None:
        """Activate ``version`` and tell every process."""
        self.activate(version)
        if notices is not None:
            try:
                await notices.publish(CHANNEL, version)
            except Exception as exc:  # the pointer poll still gets every process there
                log.warning("snapshot notice not sent (%s); processes will poll", exc)

    def refresh(self) -> bool:
        """Swap to the version ``CURRENT`` names if it changed; true if this process swapped."""
        pointer = self.directory / POINTER
        try:
            stat = pointer.stat()
        except FileNotFoundError:
            return False
        seen = (stat.st_mtime_ns, stat.st_ino)
        if seen == self._pointer_seen:
            return False
        version = pointer.read_text(encoding="ascii").strip()
        if self._snapshot is not None and self._snapshot.version == version:
            self._pointer_seen = seen
            return False
        try:
            snapshot = Snapshot(self.path_for(version))
        except (OSError, ValueError) as exc:
            log.error("cannot load snapshot %s, keeping %s: %s", version, self.version, exc)
            return False
        self._snapshot = snapshot  # the old one is unmapped once no lookup holds it
        self._pointer_seen = seen
        log.info("filter snapshot %s in force", version)
        return True

    @property
    def version(self) -> str | None:
        return self._snapshot.version if self._snapshot else None

    async def open_notices(self, notices: Notices | None) -> Subscription | None:
        """Subscribe to publish notices; None (polling only) when that is not possible now."""
        if notices is None:
            return None
        try:
            return await notices.open(CHANNEL)
        except Exception as exc:
            log.warning("snapshot notices unavailable (%s); polling every interval", exc)
            return None

    async def watch(self, subscription: Subscription | None, *, poll_seconds: float = 0.25) -> None:
        """Keep this process on the published version until cancelled.

        ``subscription`` comes from ``open_notices``, awaited before this task starts; the
        caller closes it after cancelling this task.
        """
        while True:
            if subscription is None:
                await asyncio.sleep(poll_seconds)
            else:
                try:
                    await subscription.next(poll_seconds)
                except Exception as exc:  # Redis went away: poll until this process restarts
                    log.warning("snapshot notices lost (%s); polling every interval", exc)
                    subscription = None
            self.refresh()
