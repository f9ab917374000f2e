"""Screen-time rules a guardian sets for a child, and the usage they are checked against.
Pure: no I/O. Every type checks itself on construction and raises ValueError when it cannot be.

- Limits are whole minutes a day, per app, per category and in total, and may differ by weekday
  (``DailyLimit``: one entry per weekday, None for no limit that day). Days are local calendar
  days in the child's zone, however long (23 or 25 hours when the clocks change).
- Downtime is a set of weekly windows (bedtime, school), overnight ones allowed.
- Always-allowed apps (phone, SMS, the parents' messenger, maps, emergency) are never stopped.
  Blocked apps are never allowed, unless they are also always allowed.
- Extra time is granted for one local date, to an app, a category or the total, in minutes.
- A pause blocks everything but the always-allowed apps until an instant.

``Usage`` is what the caller counted for one local date from the device's sessions, cut at local
midnight: minutes per app, per category and in total (the total is screen-on time, not a sum).
How these rules combine is the evaluator's (``telemetry.usage.evaluate``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from parental.kit.weekly import WEEK, Window


class Category(StrEnum):
    SOCIAL = "social"
    GAMES = "games"
    VIDEO = "video"
    MESSAGING = "messaging"
    EDUCATION = "education"
    BROWSER = "browser"
    OTHER = "other"


_CATEGORIES = frozenset(Category)  # a member or its value, "games" == Category.GAMES


@dataclass(frozen=True, slots=True)
class DailyLimit:
    """Minutes allowed a day, for each weekday (index 0 = Monday); None: no limit that day."""

    minutes: tuple[int | None, ...]

    def __post_init__(self) -> None:
        if len(self.minutes) != len(WEEK):
            raise ValueError("a daily limit has one entry per weekday, Monday first")
        for m in self.minutes:
            if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 0):
                raise ValueError("a daily limit is a whole number of minutes, zero or more")

    @classmethod
    def every_day(cls, minutes: int) -> DailyLimit:
        return cls((minutes,) * len(WEEK))

    @classmethod
    def by_weekday(cls, minutes: Mapping[int, int], otherwise: int | None = None) -> DailyLimit:
        """``minutes`` for the weekdays it names (0 = Monday), ``otherwise`` for the others."""
        if not set(minutes) <= set(WEEK):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return cls(tuple(minutes.get(day, otherwise) for day in WEEK))

    def on(self, weekday: int) -> int | None:
        return self.minutes[weekday]


@dataclass(frozen=True, slots=True)
class ExtraTime:
    """``minutes`` more for ``app``, for ``category`` or for the ``total`` screen time (exactly
    one), on the local date ``day``."""

    day: date
    minutes: int
    app: str | None = None
    category: Category | None = None
    total: bool = False

    def __post_init__(self) -> None:
        if (self.app is not None) + (self.category is not None) + (self.total is True) != 1:
            raise ValueError(
                "extra time is for an app, a category or the total: exactly one of them"
            )
        if self.category is not None and self.category not in _CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")
        if isinstance(self.minutes, bool) or not isinstance(self.minutes, int):
            raise ValueError("extra time is a whole number of minutes")
        if self.minutes <= 0:
            raise ValueError("extra time is at least one minute")


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the guardian set for one child's screen time."""

    app_limits: Mapping[str, DailyLimit] = field(default_factory=dict)
    category_limits: Mapping[Category, DailyLimit] = field(default_factory=dict)
    total_limit: DailyLimit | None = None
    downtime: tuple[Window, ...] = ()
    always_allowed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    extra_time: tuple[ExtraTime, ...] = ()
    paused_until: datetime | None = None

    def __post_init__(self) -> None:
        for category in self.category_limits:
            if category not in _CATEGORIES:
                raise ValueError(f"unknown category {category!r}")
        limits = [*self.app_limits.values(), *self.category_limits.values(), self.total_limit]
        if not all(limit is None or isinstance(limit, DailyLimit) for limit in limits):
            raise ValueError("limits are DailyLimit values")
        if not all(isinstance(window, Window) for window in self.downtime):
            raise ValueError("downtime is a tuple of weekly windows")
        if not all(isinstance(grant, ExtraTime) for grant in self.extra_time):
            raise ValueError("extra time is a tuple of ExtraTime grants")
        if any(not app for app in (*self.app_limits, *self.always_allowed, *self.blocked)):
            raise ValueError("an app is named by a non-empty package or bundle id")
        if self.paused_until is not None and self.paused_until.tzinfo is None:
            raise ValueError("paused_until must be timezone-aware")


def _check_minutes(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("minutes used are a number")
    if not math.isfinite(value) or value < 0:
        raise ValueError("minutes used are finite and zero or more")


@dataclass(frozen=True, slots=True)
class Usage:
    """Minutes used on the local date ``day``; an app or category not named used none."""

    day: date
    apps: Mapping[str, float] = field(default_factory=dict)
    categories: Mapping[Category, float] = field(default_factory=dict)
    total: float = 0.0

    def __post_init__(self) -> None:
        for category in self.categories:
            if category not in _CATEGORIES:
                raise ValueError(f"unknown category {category!r}")
        for value in (*self.apps.values(), *self.categories.values(), self.total):
            _check_minutes(value)
