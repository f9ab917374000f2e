"""The UDP fast path: repeated questions answered in C, every decision still made in Python.

A phone asks for the same few hundred names all day, and a carrier's phones for the same few
thousand. The front end (``frontend.FrontEnd``) decides a question the first time: whose line
it is, what the profile says, what the upstream answered. It then tells the ``Memo`` what it
did, and the native ``FastPath`` (``csrc/fastpath.c``) answers the same question from the same
line again, byte for byte what the front end would have sent, until one of these ends it:

- the line's identity is older than ``subject_seconds`` (the same bound as the subject cache:
  a profile edit or a new binding reaches the line within it; a different profile gets a new
  slot, so the old answers are simply no longer found). The line's next query is still
  answered from it while the front end identifies the line again (``refresh``), so a busy line
  never falls back to the slow path all at once; an identity not refreshed for
  ``STALE_SECONDS`` more (the database is down) is not used at all;
- the answer's own lifetime (its TTL, or the SOA minimum of a negative answer);
- the profile's verdicts could change (``Profile.steady_until``: a schedule's next minute, a
  guardian's temporary entry expiring);
- a new snapshot is published (``follow`` forgets everything).

Hits are counted per (child, verdict) in C and handed to the activity recorder by
``count_hits`` every few hundred milliseconds, so the child's report and the self-harm alert
see every query, as on the slow path.

Without the extension (no compiler, or ``FILTERS_NATIVE=0``) ``native_fast_path`` is None and
every query takes the Python path.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from filters.activity.recorder import ActivityRecorder
from filters.check.router import Subject
from filters.check.schemas import CheckResult
from filters.dns.build import Ede, ede_option
from filters.dns.cache import Answer
from filters.dns.wire import Query
from filters.engine.profile import Profile
from filters.engine.snapshot import Snapshot

if TYPE_CHECKING:
    from filters.dns._fastpath import FastPath

NEVER = float("inf")
STALE_SECONDS = 30.0


def native_fast_path() -> type[FastPath] | None:
    """The extension's class, or None when it is not built or ``FILTERS_NATIVE=0``."""
    if os.environ.get("FILTERS_NATIVE", "1") == "0":
        return None
    try:
        from filters.dns._fastpath import FastPath
    except ImportError:
        return None
    return FastPath


@dataclass(frozen=True, slots=True)
class Reusable:
    """An answer the front end may give again to the same profile's same question."""

    answer: Answer  # the records; TTLs as read at ``stored_at``
    stored_at: float  # monotonic seconds
    ede: Ede | None
    result: CheckResult | None  # counted for the child at each hit (None: nothing to count)
    expires: float  # monotonic seconds after which the question is decided again


def profile_key(profile: Profile) -> Hashable:
    """Equal for profiles that decide every question alike."""
    return (
        profile.timezone,
        tuple(sorted(profile.categories.items())),
        profile.entries,
        profile.safesearch,
    )


def _verdict_key(result: CheckResult) -> Hashable:
    rule = result.rule
    return (
        result.input,
        result.normalized,
        result.action,
        tuple(result.categories),
        None if rule is None else (rule.source_id, rule.host, rule.scope, rule.path, rule.action),
    )


def steady_until(profile: Profile, now: datetime, clock_now: float) -> float:
    """``Profile.steady_until`` on the monotonic clock (``NEVER`` when nothing is due)."""
    until = profile.steady_until(now)
    if until is None:
        return NEVER
    return clock_now + max(0.0, (until - now).total_seconds())


class Memo:
    """What the front end decided, held by the native fast path, and the slots naming the
    profiles, children and verdicts its tables refer to."""

    def __init__(
        self,
        native: FastPath,
        *,
        subject_seconds: float,
        max_ttl: int,
        clock: Callable[[], float] = time.monotonic,
        max_slots: int = 200_000,
    ) -> None:
        self.native = native
        self.subject_seconds = subject_seconds
        self.max_ttl = max_ttl
        self.clock = clock
        self.max_slots = max_slots
        self._snapshot: Snapshot | None = None
        self._reset_slots()

    def _reset_slots(self) -> None:
        self._profiles: dict[Hashable, int] = {}
        self._children: dict[tuple[uuid.UUID, str], int] = {}
        self._child_list: list[tuple[uuid.UUID, str]] = []
        self._verdicts: dict[Hashable, int] = {}
        self._verdict_list: list[CheckResult] = []

    def follow(self, snapshot: Snapshot | None) -> None:
        """Forget every answer when the snapshot in force is not the one they came from."""
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self.native.clear()

    def remember(self, identity: bytes, subject: Subject, query: Query, reply: Reusable) -> None:
        """The front end answered ``query`` from the line ``identity`` (the fast path's key
        for it) with ``reply``; until it expires, the fast path gives it again."""
        if self.subject_seconds <= 0 or reply.answer.truncated:
            return
        now = self.clock()
        expires = min(reply.expires, reply.stored_at + min(reply.answer.lifetime, self.max_ttl))
        if expires <= now:
            return
        if self._full():
            return  # until ``take_counts`` starts the slots again
        profile = self._source(identity, subject, now)
        verdict = -1
        if reply.result is not None:
            vkey = _verdict_key(reply.result)
            verdict = self._verdicts.get(vkey, -1)
            if verdict < 0:
                verdict = self._verdicts[vkey] = len(self._verdict_list)
                self._verdict_list.append(reply.result)
        answer = reply.answer
        self.native.remember(
            profile=profile,
            name=query.key[0],
            qtype=query.qtype,
            do=query.edns is not None and query.edns.do,
            rcode=answer.rcode,
            counts=answer.counts,
            body=answer.body,
            ttl_offsets=answer.ttl_offsets,
            ttls=answer.ttls,
            stored_at=reply.stored_at,
            expires=expires,
            ede=ede_option(reply.ede),
            verdict=verdict,
        )

    def refresh(self, identity: bytes, subject: Subject | None) -> None:
        """The line ``identity`` identified again: its subject now (None: refused)."""
        if self.subject_seconds <= 0 or self._full():
            return
        now = self.clock()
        if subject is None:
            fresh = now + self.subject_seconds
            self.native.set_source(identity, -1, -1, fresh, fresh)
        else:
            self._source(identity, subject, now)

    def _full(self) -> bool:
        return len(self._verdicts) >= self.max_slots or len(self._profiles) >= self.max_slots

    def _source(self, identity: bytes, subject: Subject, now: float) -> int:
        """Tell the fast path who ``identity`` is; the profile's slot."""
        profile = self._profiles.setdefault(profile_key(subject.profile), len(self._profiles))
        child = -1
        if subject.child_id is not None:
            key = (subject.child_id, subject.profile.timezone)
            child = self._children.get(key, -1)
            if child < 0:
                child = self._children[key] = len(self._child_list)
                self._child_list.append(key)
        fresh = now + self.subject_seconds
        self.native.set_source(identity, profile, child, fresh, fresh + STALE_SECONDS)
        return profile

    def take_counts(self) -> list[tuple[uuid.UUID, str, CheckResult, int]]:
        """(child, the child's time zone, verdict, hits) since the last call."""
        taken = []
        for child, verdict, hits in self.native.take_counts():
            child_id, timezone = self._child_list[child]
            taken.append((child_id, timezone, self._verdict_list[verdict], hits))
        if self._full():
            self.native.clear()  # counts are taken: the slots can start again
            self._reset_slots()
        return taken


async def count_hits(
    memo: Memo,
    activity: ActivityRecorder,
    now: datetime,
    tally: Callable[[CheckResult, int], None] | None = None,
) -> int:
    """Give the fast path's hits to the activity recorder (and to ``tally``, the metrics'
    verdict counts); how many there were."""
    total = 0
    for child_id, timezone, result, hits in memo.take_counts():
        if tally is not None:
            tally(result, hits)
        await activity.record(child_id, timezone, [result] * hits, now)
        total += hits
    return total
