"""A child's rules as the evaluator takes them, compiled once per change and kept per process.

``to_policy`` turns the rules, the pause and today's grants (with the declined installs and the
catalogue's always-allowed apps, ``telemetry.usage.rules.service`` says how they combine) into
a ``Policy``. ``telemetry.usage.evaluate.compile_policy`` costs more than an evaluation with
the compiled policy (``docs/benchmarks.md``), and a child's policy is evaluated many times
between two changes: each fetch of the device's policy and each upload of a child with limits.
So ``compiled_policy`` compiles it once and keeps it (``COMPILED``), under ``policy_key``: a
key naming everything the ``Policy`` is built from. A change of any of it is a new key, so an
entry is never stale, only unused; the least recently used go once ``MAX_ENTRIES`` are kept.
Each process has its own: nothing is shared or needs invalidating. The device's policy and the
limit watch of uploads look up the catalogue's marks for different sets of apps, so their keys
may differ: each compiles at most once per change.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from parental.kit.weekly import WEEK, Window
from telemetry.usage.evaluate import CompiledPolicy, compile_policy
from telemetry.usage.policy import DailyLimit, ExtraTime, Policy
from telemetry.usage.rules.schemas import (
    WEEKDAYS,
    DowntimeWindow,
    EveryDayLimit,
    ExtraTimeGrant,
    Limit,
    ScreenTimeRules,
    ScreenTimeRulesRead,
)

MAX_ENTRIES = 2048


class CompiledPolicies:
    """A least-recently-used map of policy keys to compiled policies."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, CompiledPolicy] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, build: Callable[[], Policy]) -> CompiledPolicy:
        """The policy compiled for ``key``; ``build()`` compiled and kept on a miss."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        compiled = compile_policy(build())
        self._entries[key] = compiled
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return compiled

    def clear(self) -> None:
        self._entries.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


COMPILED = CompiledPolicies()


@dataclass(frozen=True, slots=True)
class Current:
    """A child's rules at an instant: as ``read_rules`` answers them for the child's local
    ``today`` (its grants only), the rules alone, and when the stored row last changed (None:
    no row)."""

    read: ScreenTimeRulesRead
    rules: ScreenTimeRules
    today: date
    updated_at: datetime | None


def daily_limit(limit: Limit) -> DailyLimit:
    if isinstance(limit, EveryDayLimit):
        return DailyLimit.every_day(limit.minutes)
    return DailyLimit(tuple(limit.by_weekday.get(WEEKDAYS[day], limit.otherwise) for day in WEEK))


def window(downtime: DowntimeWindow) -> Window:
    return Window(
        frozenset(WEEKDAYS.index(day) for day in downtime.days),
        time.fromisoformat(downtime.start),
        time.fromisoformat(downtime.end),
    )


def to_policy(
    rules: ScreenTimeRules,
    *,
    paused_until: datetime | None = None,
    extra_time: Iterable[ExtraTimeGrant] = (),
    declined: Iterable[str] = (),
    catalogue_always_allowed: Iterable[str] = (),
) -> Policy:
    """The rules, pause and grants as the evaluator takes them, with the apps whose install
    was declined blocked and the catalogue's always-allowed apps always allowed, whatever the
    guardian blocked (module doc)."""
    always = frozenset(catalogue_always_allowed)
    return Policy(
        app_limits={app: daily_limit(limit) for app, limit in rules.app_limits.items()},
        category_limits={c: daily_limit(limit) for c, limit in rules.category_limits.items()},
        total_limit=None if rules.total_limit is None else daily_limit(rules.total_limit),
        downtime=tuple(window(w) for w in rules.downtime),
        always_allowed=frozenset(rules.always_allowed) | always,
        blocked=(frozenset(rules.blocked) | frozenset(declined)) - always,
        extra_time=tuple(
            ExtraTime(
                day=g.day,
                minutes=g.minutes,
                app=g.app,
                category=g.category,
                total=g.app is None and g.category is None,
            )
            for g in extra_time
        ),
        paused_until=paused_until,
    )


def named_apps(rules: ScreenTimeRules) -> Sequence[str]:
    """The apps the rules name: limited, always allowed or blocked."""
    return [*rules.app_limits, *rules.always_allowed, *rules.blocked]


def policy_key(
    child_id: uuid.UUID,
    current: Current,
    *,
    declined: frozenset[str],
    always_allowed: frozenset[str],
) -> Hashable:
    """Everything the child's ``Policy`` is built from, as ``compiled_policy`` keeps it: the
    stored row by revision and last change (every change of the rules, the pause or the grants
    raises the revision; the instant tells a row erased and made again apart), the pause as
    read now (one that has ended reads as none, at the same revision), the local today (only
    its grants count), the declined installs and the catalogue's always-allowed apps."""
    read = current.read
    return (
        child_id,
        read.revision,
        current.updated_at,
        read.paused_until,
        current.today,
        declined,
        always_allowed,
    )


def compiled_policy(
    child_id: uuid.UUID,
    current: Current,
    *,
    declined: frozenset[str] = frozenset(),
    always_allowed: frozenset[str] = frozenset(),
) -> CompiledPolicy:
    """The child's policy compiled for the evaluator, compiled only when ``policy_key``
    names one this process has not compiled lately."""
    key = policy_key(child_id, current, declined=declined, always_allowed=always_allowed)
    return COMPILED.get(
        key,
        lambda: to_policy(
            current.rules,
            paused_until=current.read.paused_until,
            extra_time=current.read.extra_time,
            declined=declined,
            catalogue_always_allowed=always_allowed,
        ),
    )
