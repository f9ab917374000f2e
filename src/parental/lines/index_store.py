"""The binding index a process answers from, and how it follows changes made by any process.

Every process loads the live bindings from SQL once, then applies changes: a notice on
``bindings.CHANNEL`` (sent after each committed change) makes it look at once, and it also
looks every ``line_binding_poll_seconds`` in case a notice was lost (Redis down, or processes
without Redis). Looking is one indexed range query on ``updated_at``; only the networks that
changed are re-read. Rows changed within ``OVERLAP`` of the newest change seen are read again
next time, because a transaction that started earlier may commit later with an earlier
timestamp. The whole index is rebuilt every ``line_binding_rebuild_seconds`` to shed expired
entries (lookups already ignore them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from parental.kit.clock import Clock
from parental.kit.db import transaction
from parental.kit.notices import Notices, Subscription
from parental.lines import repository
from parental.lines.addresses import from_canonical
from parental.lines.bindings import CHANNEL
from parental.lines.index import Binding, BindingIndex, BoundLine

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=5)
_CHUNK = 500  # networks per IN (...) list


async def announce_change(notices: Notices | None) -> None:
    """Tell every process that bindings changed (after the change is committed)."""
    if notices is None:
        return
    try:
        await notices.publish(CHANNEL, "changed")
    except Exception as exc:  # each process's poll still picks the change up
        log.warning("binding notice not sent (%s); processes will poll", exc)


def _bindings(rows: Iterable[repository.LiveRow]) -> list[Binding]:
    return [
        Binding(from_canonical(network), BoundLine(line_id, expires.timestamp()))
        for network, line_id, expires in rows
    ]


class BindingIndexStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        rebuild_seconds: float = 3600.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.poll_seconds = poll_seconds
        self.rebuild_seconds = rebuild_seconds
        self._index = BindingIndex({})
        self._since: datetime | None = None  # newest updated_at applied
        self._seen: set[tuple[object, ...]] = set()  # rows within OVERLAP of it, as applied
        self._rebuilt_at = 0.0

    @property
    def current(self) -> BindingIndex:
        return self._index

    async def rebuild(self) -> None:
        """Load every live binding afresh and swap to it."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            # Changes first: one committed between the two reads is then applied again later.
            latest = await repository.changed_since(session, now - OVERLAP - OVERLAP)
            rows = await repository.live_rows(session, now)
        # Built in a thread so a large index does not stall the process's event loop.
        index = await asyncio.to_thread(lambda: BindingIndex.build(_bindings(rows)))
        self._since = max((r[4] for r in latest), default=now - OVERLAP)
        self._seen = {r for r in latest if r[4] > self._since - OVERLAP}
        self._index = index
        self._rebuilt_at = time.monotonic()
        log.info("line binding index rebuilt: %d bindings", len(index))

    async def refresh(self) -> bool:
        """Apply what changed since the last look; true if this process swapped its index."""
        if self._since is None or time.monotonic() - self._rebuilt_at >= self.rebuild_seconds:
            await self.rebuild()
            return True
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            changes = await repository.changed_since(session, self._since - OVERLAP)
            fresh = [row for row in changes if row not in self._seen]
            if not fresh:
                return False
            networks = sorted({row[1] for row in fresh})
            live: list[repository.LiveRow] = []
            for start in range(0, len(networks), _CHUNK):
                chunk = networks[start : start + _CHUNK]
                live += await repository.live_rows(session, now, chunk)
        ended = [from_canonical(n) for n in networks]
        self._index = await asyncio.to_thread(self._index.with_changes, _bindings(live), ended)
        self._since = max(self._since, *(row[4] for row in fresh))
        self._seen = {row for row in changes if row[4] > self._since - OVERLAP}
        return True

    async def open_notices(self, notices: Notices | None) -> Subscription | None:
        """Subscribe to change notices; None (polling only) when that is not possible now."""
        if notices is None:
            return None
        try:
            return await notices.open(CHANNEL)
        except Exception as exc:
            log.warning("binding notices unavailable (%s); polling every interval", exc)
            return None

    async def watch(self, subscription: Subscription | None) -> None:
        """Keep this process's index current until cancelled (see the module docstring)."""
        while True:
            if subscription is None:
                await asyncio.sleep(self.poll_seconds)
            else:
                try:
                    await subscription.next(self.poll_seconds)
                except Exception as exc:  # Redis went away: poll until this process restarts
                    log.warning("binding notices lost (%s); polling every interval", exc)
                    subscription = None
            try:
                await self.refresh()
            except Exception:  # the database is away: keep answering from what we have
                log.exception("binding index not refreshed; keeping the one in force")
