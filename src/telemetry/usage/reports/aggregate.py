"""A child's usage over several local days against the days before: the aggregation behind the
guardian's report and the weekly summary. Pure: no I/O, no clock; the sessions, the dates and
the zone are passed in.

- A period is ``days`` consecutive local dates of the child's zone ending with ``last_day``,
  which it includes; the previous period is the ``days`` dates just before it. (The report's
  period ends with the child's local today, which has not ended: its minutes so far count.)
- Minutes are counted as ``telemetry.usage.sessions.daily_usage`` counts one date, for every
  date of both periods at once: each app's sessions merged (``merge_by_app``), a category the
  union of its apps', the total (screen-on time) the union of every app and screen session,
  each union cut at the start of every local date (``cut_by_local_day``), so a 23 or 25 hour
  date when the clocks change counts what it holds and a session across midnight counts on
  both dates. A period's minutes are its dates' added up; dates are disjoint, so that is the
  union's length over the period. Sessions off both periods are ignored.
- ``daily`` holds every date of a period in order, those without use too: the trend.
- A change is the period's minutes minus the previous period's, and as a percentage of the
  previous period's (None when that had none).
- Top apps: the ``top`` apps with the most minutes in the period (ties by app id), each with
  its share of the period's app time, which is the apps' minutes added up: shares add up to 1
  over all apps (two apps in front at once, split screen, count for each).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from telemetry.usage.policy import Category
from telemetry.usage.sessions import (
    ForegroundSession,
    Interval,
    ScreenSession,
    cut_by_local_day,
    day_bounds,
    merge,
    merge_by_app,
)

TOP_APPS = 10
_ONE_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_NONE = timedelta()


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Minutes on one local date: in total and per category used."""

    day: date
    total: float
    categories: Mapping[Category, float]


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """Minutes over the dates ``first_day`` to ``last_day`` (both included)."""

    first_day: date
    last_day: date
    total: float
    apps: Mapping[str, float]  # those used only
    categories: Mapping[Category, float]  # those used only
    daily: tuple[DayTotals, ...]  # every date of the period, in order


@dataclass(frozen=True, slots=True)
class TopApp:
    app: str
    minutes: float
    share: float  # of the period's app time (module doc), 0 to 1


@dataclass(frozen=True, slots=True)
class Report:
    current: PeriodUsage
    previous: PeriodUsage
    top_apps: tuple[TopApp, ...]


def period_days(last_day: date, days: int) -> tuple[date, date]:
    """The first date of the period of ``days`` dates ending with ``last_day``, and the first
    of the previous period."""
    if days < 1:
        raise ValueError("a period has at least one date")
    first = last_day - (days - 1) * _ONE_DAY
    return first, first - days * _ONE_DAY


def span(last_day: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (UTC) from the start of the previous period to the end of the period."""
    _, previous_first = period_days(last_day, days)
    return day_bounds(previous_first, zone)[0], day_bounds(last_day, zone)[1]


def change_percent(minutes: float, previous: float) -> float | None:
    """The change from ``previous`` to ``minutes`` in percent of ``previous``; None if 0."""
    if previous <= 0:
        return None
    return (minutes - previous) / previous * 100


def _by_day(
    disjoint: Iterable[Interval], zone: ZoneInfo, dates: frozenset[date]
) -> dict[date, timedelta]:
    """The length of ``disjoint`` (merged) intervals on each local date of ``dates``."""
    return {
        day: sum((piece.length for piece in pieces), _NONE)
        for day, pieces in cut_by_local_day(disjoint, zone).items()
        if day in dates
    }


@dataclass
class _Days:
    """Lengths per local date, per app, per category and in total."""

    apps: dict[str, dict[date, timedelta]]
    categories: dict[Category, dict[date, timedelta]]
    total: dict[date, timedelta]

    def period(self, first: date, last: date) -> PeriodUsage:
        dates = [first + n * _ONE_DAY for n in range((last - first).days + 1)]

        def length(by_day: Mapping[date, timedelta]) -> timedelta:
            return sum((by_day.get(day, _NONE) for day in dates), _NONE)

        apps = {app: length(by_day) for app, by_day in self.apps.items()}
        categories = {c: length(by_day) for c, by_day in self.categories.items()}
        return PeriodUsage(
            first_day=first,
            last_day=last,
            total=length(self.total) / _MINUTE,
            apps={app: spent / _MINUTE for app, spent in sorted(apps.items()) if spent},
            categories={c: spent / _MINUTE for c, spent in sorted(categories.items()) if spent},
            daily=tuple(
                DayTotals(
                    day=day,
                    total=self.total.get(day, _NONE) / _MINUTE,
                    categories={
                        c: by_day[day] / _MINUTE
                        for c, by_day in sorted(self.categories.items())
                        if by_day.get(day)
                    },
                )
                for day in dates
            ),
        )


def top_apps(usage: PeriodUsage, top: int = TOP_APPS) -> tuple[TopApp, ...]:
    """The ``top`` most used apps of ``usage`` with their shares of its app time."""
    app_time = sum(usage.apps.values())
    ranked = sorted(usage.apps.items(), key=lambda pair: (-pair[1], pair[0]))[:top]
    return tuple(TopApp(app, minutes, minutes / app_time) for app, minutes in ranked)


def report(
    foreground: Iterable[ForegroundSession],
    screen: Iterable[ScreenSession],
    *,
    last_day: date,
    days: int,
    zone: ZoneInfo,
    categories: Mapping[str, Category],
    default: Category = Category.OTHER,
    top: int = TOP_APPS,
) -> Report:
    """The period of ``days`` local dates ending with ``last_day`` against the one before,
    from the sessions reported (module doc)."""
    first, previous_first = period_days(last_day, days)
    dates = frozenset(previous_first + n * _ONE_DAY for n in range(2 * days))
    by_app = merge_by_app(foreground)
    of_category: dict[Category, list[Interval]] = {}
    for app, intervals in by_app.items():
        of_category.setdefault(Category(categories.get(app, default)), []).extend(intervals)
    everything = [i for intervals in by_app.values() for i in intervals]
    everything += (session.interval for session in screen)
    lengths = _Days(
        apps={app: _by_day(intervals, zone, dates) for app, intervals in by_app.items()},
        categories={c: _by_day(merge(i), zone, dates) for c, i in of_category.items()},
        total=_by_day(merge(everything), zone, dates),
    )
    current = lengths.period(first, last_day)
    return Report(
        current=current,
        previous=lengths.period(previous_first, first - _ONE_DAY),
        top_apps=top_apps(current, top),
    )
