"""Which subject (profile, counted child) a caller of the filter gets, remembered per process.

A carrier's resolver asks about the same few hundred thousand lines all day, and reading who a
caller is and their child's profile takes several database round trips, many times the verdict
itself. A process therefore keeps each subject it read until what it was read from changes:

- a change to a child (their filter profile or its entries, their line, their guardians, a
  device of theirs, their removal: ``Runtime.forget_subjects``) forgets that child's subjects
  in the process that made it when its transaction commits, and in every other process when
  the notice on ``CHANNEL`` arrives (``listen``); a change to who may ask at all (a carrier
  key revoked) forgets every subject (``ALL``);
- a subject also goes at ``until``, a moment its reader knew the clock alone would change it
  (a guardian's entry expires, the child turns 18, a staff token expires);
- and ``ttl`` seconds after it was read whatever happens: the bound on how long a change goes
  unseen in a process that missed its notice (Redis unreachable when it was sent). A subject
  still in use is read again in the background before that (``renewing``), so the checks of a
  busy caller do not wait for the database every ``ttl``.

A subject read while a change was being made may be the old one: readers take the
cache's ``epoch()`` before reading, and ``put`` refuses what they read when a child it concerns
(or everyone) was forgotten since.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from filters.check.router import Subject
from parental.kit.notices import Notices, Subscription

log = logging.getLogger(__name__)

CHANNEL = "filter.subjects"
ALL = "*"  # forgets every subject; otherwise child ids, comma-separated (after the origin)
# How long to remember a subject where changes cannot be heard: a process without shared
# notices, or a line no child is on yet (adding one voids nothing remembered).
UNHEARD_SECONDS = 1.0
# A subject in use is read again in the background once this share of its ``ttl`` has passed,
# so a busy caller never waits for the database when it would otherwise expire.
RENEW_AFTER = 0.5

Key = tuple[str, str | None]


@dataclass(slots=True)
class _Entry:
    subject: Subject
    child_id: uuid.UUID | None  # whose changes void it
    expires: float  # monotonic: ``ttl`` after it was read
    until: datetime | None  # by the runtime's clock
    renew: float  # monotonic: from then on, ``renewing`` asks for it to be read again once


class SubjectCache:
    """Subjects by key (a caller's token hash and the profile asked for, or a line), at most
    ``size`` of them; ``ttl`` 0 caches nothing."""

    def __init__(
        self,
        ttl: float,
        *,
        size: int = 10_000,
        remember: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._size = size
        self._clock = clock
        self._items: OrderedDict[Key, _Entry] = OrderedDict()
        self._keys_of: dict[uuid.UUID, set[Key]] = {}
        # When each child was last forgotten (an epoch), for ``put``: the most recent
        # ``remember`` children; one forgotten longer ago counts as forgotten at ``_floor``.
        self._epoch = 0
        self._forgotten: OrderedDict[uuid.UUID, int] = OrderedDict()
        self._remember = remember
        self._floor = 0
        self._cleared = 0
        self.origin = secrets.token_hex(8)  # of notices this cache has acted on already

    def epoch(self) -> int:
        """Take before reading a subject; give to ``put``."""
        return self._epoch

    def get(self, key: Key, now: datetime) -> Subject | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock() or (entry.until is not None and entry.until <= now):
            self._drop(key)
            return None
        return entry.subject

    def put(
        self,
        key: Key,
        subject: Subject,
        *,
        child_id: uuid.UUID | None,
        epoch: int,
        until: datetime | None = None,
        ttl: float | None = None,
    ) -> None:
        """Keep ``subject``, read from epoch ``epoch`` on, unless a change it may have missed
        came since: of ``child_id`` (the child whose profile or line it was read from), or of
        everyone. ``ttl``: a shorter bound than the cache's for this one."""
        seconds = self.ttl if ttl is None else min(ttl, self.ttl)
        if seconds <= 0 or self._cleared > epoch:
            return
        if child_id is not None and max(self._forgotten.get(child_id, 0), self._floor) > epoch:
            return
        self._drop(key)
        read_at = self._clock()
        self._items[key] = _Entry(
            subject, child_id, read_at + seconds, until, read_at + seconds * RENEW_AFTER
        )
        if child_id is not None:
            self._keys_of.setdefault(child_id, set()).add(key)
        while len(self._items) > self._size:
            self._drop(next(iter(self._items)))

    def renewing(self, key: Key) -> bool:
        """Whether the caller should read ``key``'s subject again now (in the background, still
        answering from this one): it is past ``RENEW_AFTER`` of its life. True once per entry,
        so a busy key is read again once, not by every check."""
        entry = self._items.get(key)
        if entry is None or entry.renew > self._clock():
            return False
        entry.renew = entry.expires  # claimed
        return True

    def discard(self, key: Key) -> None:
        """Drop one subject (its caller turned out to be no longer valid)."""
        self._drop(key)

    def forget(self, child_ids: Iterable[uuid.UUID]) -> None:
        """Drop the subjects of these children, and refuse those being read now."""
        for child_id in child_ids:
            self._epoch += 1
            self._forgotten[child_id] = self._epoch
            self._forgotten.move_to_end(child_id)
            while len(self._forgotten) > self._remember:
                _, at = self._forgotten.popitem(last=False)
                self._floor = max(self._floor, at)
            for key in list(self._keys_of.get(child_id, ())):
                self._drop(key)

    def clear(self) -> None:
        """Drop every subject, and refuse those being read now."""
        self._epoch += 1
        self._cleared = self._epoch
        self._items.clear()
        self._keys_of.clear()

    def hear(self, notice: str) -> None:
        """Act on a notice of ``CHANNEL`` (``message``), unless this cache sent it."""
        origin, _, body = notice.partition(" ")
        if origin == self.origin:
            return  # forgotten when it was sent: forgetting again would refuse reads for nothing
        if body == ALL:
            self.clear()
            return
        ids: list[uuid.UUID] = []
        for part in body.split(","):
            try:
                ids.append(uuid.UUID(part))
            except ValueError:
                log.warning("a filter subject notice held something other than a child id")
                self.clear()  # whatever it meant, nothing kept can be stale now
                return
        self.forget(ids)

    async def listen(self, notices: Notices) -> Following:
        """Forget what other processes' changes void until the answer's ``stop``. The
        subscription is made here, before the task that reads it starts, so stopping that task
        never interrupts a connection half made (``kit.notices``). When the notices cannot be
        heard now (Redis down as the process starts), subjects are kept ``UNHEARD_SECONDS``."""
        try:
            subscription = await notices.open(CHANNEL)
        except Exception:
            log.warning("filter subject notices unavailable; kept a second", exc_info=True)
            self.ttl = min(self.ttl, UNHEARD_SECONDS)
            return Following(None, None)
        follower = self._follow(subscription, notices, notices.gaps)
        return Following(asyncio.create_task(follower), subscription)

    async def _follow(self, subscription: Subscription, notices: Notices, gaps: int) -> None:
        while True:
            message = await subscription.next(1.0)
            if notices.gaps != gaps:  # Redis was away: the notices sent meanwhile are lost
                gaps = notices.gaps
                self.clear()
            if message is not None:
                self.hear(message)

    def _drop(self, key: Key) -> None:
        entry = self._items.pop(key, None)
        if entry is not None and entry.child_id is not None:
            keys = self._keys_of.get(entry.child_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_of[entry.child_id]

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Following:
    """A cache following its notices (``SubjectCache.listen``)."""

    task: asyncio.Task[None] | None
    subscription: Subscription | None

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.subscription is not None:
            await self.subscription.close()


def message(child_ids: Iterable[uuid.UUID] | None, *, origin: str = "-") -> str:
    """The notice of ``CHANNEL`` that forgets these children's subjects (None: everyone's),
    from the cache ``origin`` (which has forgotten them already)."""
    body = ALL if child_ids is None else ",".join(str(child_id) for child_id in child_ids)
    return f"{origin} {body}"
