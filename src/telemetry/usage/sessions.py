"""Minutes of use on a local date, counted from the sessions a child's device reports.
Pure: no I/O, no clock; the sessions, the date and the zone are passed in.

The device reports foreground sessions (an app, identified by its Android package or iOS bundle
id, in front from ``start`` to ``end``) and screen-on sessions. ``daily_usage`` turns all the
sessions known so far into the ``Usage`` of one local date that ``telemetry.usage.evaluate``
checks the limits against. The rules:

- Instants are timezone-aware datetimes, kept in UTC; a naive one is refused. A session or
  interval covers ``[start, end)``: its end is not in it, so a session that ends at midnight
  adds nothing to the next date, and two sessions where one ends as the next starts are one
  stretch of use. Lengths are exact (microseconds) until the end, where they become minutes as
  seconds / 60, a float, not rounded.
- A session starts before it ends and lasts at most ``MAX_SESSION`` (24 hours; a longer one is a
  broken clock or agent, refused rather than counted). An app id is 1 to 255 characters
  without whitespace or control characters.
- Duplicates and overlaps count once: the time counted is the length of the union of the
  intervals, never a sum. A batch sent twice, a session reported again after a retry, or two
  sessions of one app that overlap (the agent restarted and reported the same stretch twice)
  add nothing. So the result depends only on the set of instants covered, not on how many
  times, in what order or in which batches the sessions came (``merge``).
- Late reports: a session counts on the local dates it happened on, whenever it arrives. The
  caller recounts each date a batch touches from every stored session that overlaps that date;
  recounting is idempotent, so it may recount as often as it likes.
- Days are the child's local dates in ``zone``: date ``d`` runs from ``day_start(d)`` to
  ``day_start(d + 1)`` (``parental.kit.weekly``), that is from local midnight, or from the
  jump where the clocks skip midnight (America/Santiago in September). A date the clocks
  change on is that much shorter or longer (23 or 25 hours in Europe/Berlin in March and
  October); a date a zone skipped
  entirely (Pacific/Apia, 2011-12-30) lasts nothing and gets no use. An interval is cut at
  the start of each date it crosses, and each piece belongs to the date that contains it:
  23:30 to 00:30 counts 30 minutes on each date. The dates follow one another without gap or
  overlap, so cutting neither loses nor doubles a microsecond. (Where a zone once set its
  clock back across midnight, Antarctica/Casey in 2010, the stretch that read as the earlier
  date again belongs to the later one, which had begun.)
- Per app: the union of the app's foreground sessions, on the date.
- Per category: the union of the sessions of all the category's apps, so two apps of one
  category in front at once (split screen, picture in picture) count once for the category
  and fully for each app. An app's category is the one ``categories`` gives it, and
  ``default`` (``Category.OTHER``) for an app it does not name.
- In total: the union of every foreground and every screen-on session, on the date. That is
  time with the screen on, including the lock screen or the launcher with no app in front;
  a foreground session counts even when its screen-on session is missing (lost, or not sent
  yet), since an app cannot be in front with the screen off. It is not the sum of the apps.
- So on any date, an app's minutes <= its category's <= the total <= the date's length. Apps
  and categories with no use on the date are left out of ``Usage`` (which reads them as 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from parental.kit.weekly import day_start
from telemetry.usage.policy import Category, Usage

MAX_SESSION = timedelta(hours=24)
MAX_APP_ID = 255
_ONE_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)

# A batch of sessions crosses few dates, and a date whose midnight the clocks skip costs a
# search for the jump; the answer never changes.
_day_start = lru_cache(maxsize=4096)(day_start)


def _span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``start`` and ``end`` in UTC, checked: aware datetimes, the start first."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime):
            raise ValueError(f"{name} must be a datetime")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start >= end:
        raise ValueError("start must be before end")
    return start, end


def _session_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _span(start, end)
    if end - start > MAX_SESSION:
        hours = MAX_SESSION / timedelta(hours=1)
        raise ValueError(f"a session lasts at most {hours:g} hours, not {end - start}")
    return start, end


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """The instants from ``start`` to just before ``end``; both aware, kept in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = _span(self.start, self.end)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class ForegroundSession:
    """``app`` (package or bundle id) in front from ``start`` to ``end``."""

    app: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if (
            not isinstance(self.app, str)
            or not 1 <= len(self.app) <= MAX_APP_ID
            or not self.app.isprintable()
            or any(c.isspace() for c in self.app)
        ):
            raise ValueError(
                f"an app is a package or bundle id of 1 to {MAX_APP_ID} characters, "
                "without whitespace or control characters"
            )
        start, end = _session_span(self.start, self.end)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


@dataclass(frozen=True, slots=True)
class ScreenSession:
    """The screen on from ``start`` to ``end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = _session_span(self.start, self.end)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals``: sorted, disjoint, and apart (touching ones are joined)."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def merge_by_app(sessions: Iterable[ForegroundSession]) -> dict[str, list[Interval]]:
    """For each app of ``sessions``, the union of its sessions (``merge``)."""
    by_app: dict[str, list[Interval]] = {}
    for session in sessions:
        by_app.setdefault(session.app, []).append(session.interval)
    return {app: merge(intervals) for app, intervals in by_app.items()}


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of the local date ``day`` in ``zone`` and the first of the next (UTC);
    equal for a date the zone skipped."""
    return _day_start(day, zone), _day_start(day + _ONE_DAY, zone)


def _day_of(instant: datetime, zone: ZoneInfo) -> date:
    """The date ``d`` with ``day_start(d) <= instant < day_start(d + 1)``."""
    day = instant.astimezone(zone).date()
    # Only differs from the wall clock's date where the clocks went back across midnight.
    while _day_start(day + _ONE_DAY, zone) <= instant:
        day += _ONE_DAY
    return day


def cut_by_local_day(intervals: Iterable[Interval], zone: ZoneInfo) -> dict[date, list[Interval]]:
    """Each interval cut at the start of every local date of ``zone`` it crosses, the pieces
    grouped by date: dates in order, pieces sorted. Pieces of disjoint intervals are
    disjoint; ``merge`` first to count overlapping ones once."""
    pieces: dict[date, list[Interval]] = {}
    for interval in intervals:
        start, end = interval.start, interval.end
        day = _day_of(start, zone)
        while True:
            next_start = _day_start(day + _ONE_DAY, zone)
            if next_start >= end:
                pieces.setdefault(day, []).append(Interval(start, end))
                break
            if next_start > start:  # else ``day`` is a date the zone skipped
                pieces.setdefault(day, []).append(Interval(start, next_start))
                start = next_start
            day += _ONE_DAY
    return {day: sorted(pieces[day]) for day in sorted(pieces)}


def _clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of ``intervals`` from ``start`` to ``end``."""
    clipped: list[Interval] = []
    for interval in intervals:
        lo, hi = max(interval.start, start), min(interval.end, end)
        if lo < hi:
            clipped.append(Interval(lo, hi))
    return clipped


def _minutes(disjoint: Iterable[Interval]) -> float:
    return sum((interval.length for interval in disjoint), timedelta()) / _MINUTE


def daily_usage(
    foreground: Iterable[ForegroundSession],
    screen: Iterable[ScreenSession],
    *,
    day: date,
    zone: ZoneInfo,
    categories: Mapping[str, Category],
    default: Category = Category.OTHER,
) -> Usage:
    """Minutes used on the local date ``day`` in ``zone``, per app, per category and in total,
    from the sessions reported (module doc). Sessions off that date are ignored."""
    start, end = day_bounds(day, zone)
    apps: dict[str, float] = {}
    by_category: dict[Category, list[Interval]] = {}
    everything: list[Interval] = []
    for app, intervals in merge_by_app(foreground).items():
        today = _clip(intervals, start, end)
        if today:
            apps[app] = _minutes(today)
            by_category.setdefault(Category(categories.get(app, default)), []).extend(today)
            everything += today
    everything += _clip((session.interval for session in screen), start, end)
    return Usage(
        day=day,
        apps=apps,
        categories={
            category: _minutes(merge(intervals)) for category, intervals in by_category.items()
        },
        total=_minutes(merge(everything)),
    )
