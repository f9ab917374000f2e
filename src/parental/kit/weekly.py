"""Weekly windows on the wall clock of an IANA zone, and the instants they open and close.
Pure: no I/O, time is passed in.

A window runs from ``start`` on each of its ``days`` (0 = Monday) to ``end``. When ``end`` is
not later than ``start`` the window is overnight: it runs past midnight into the next day, and
the hours after midnight belong to the window of the day before (``21:00-07:00`` on Sunday to
Thursday covers Monday to Friday mornings). ``start == end`` is a full 24 hours. Containment is
read from the wall clock alone: the local date's weekday and the local time. Filter profiles,
geofence schedules and screen-time downtime all mean the same thing by a window.

Instants and the wall clock, across daylight-saving changes:

- ``local_instant`` turns a wall-clock time on a date into an instant with the zone's rules for
  that date. A time the clocks skip (02:30 when they jump from 02:00 to 03:00) is read with the
  offset before the jump, and so falls at 03:30 in the new time; a time they repeat (when they
  fall back) is the first of the two.
- ``next_change`` answers when ``contains`` will next give another answer, and follows the wall
  clock exactly: a boundary the clocks skip is passed at the jump itself (a window from 02:30
  opens at the instant the clocks go from 02:00 to 03:00, because 03:00 is past 02:30), and a
  boundary in an hour the clocks repeat is crossed on both passes (a window ending at 02:30
  closes at the first 02:30, opens again when the clocks fall back to 02:00 and closes at the
  second 02:30). Where the clocks do not change, both readings agree.
- ``day_start`` is the first instant of a local date: a day lasts 23 or 25 hours when the clocks
  change during it.

``WindowSet`` is the union of some windows prepared for repeated questions: the points of the
week where containment flips, so that ``contains`` is a binary search and ``next_change`` one
zone conversion when no clock change lies before the answer (a week-long search for the change
of offset only when one does).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = range(7)
_US_PER_DAY = 86_400 * 1_000_000
_US_PER_WEEK = 7 * _US_PER_DAY
_DAY = timedelta(days=1)
_EPSILON = timedelta(microseconds=1)


def check_days(days: frozenset[int]) -> None:
    """Raise ValueError unless ``days`` is a non-empty set of weekdays 0 (Monday) to 6."""
    if not days or not days <= set(WEEK):
        raise ValueError("days must be a non-empty set of 0 (Monday) to 6 (Sunday)")


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock ``at`` on ``day`` in ``zone``, as an aware UTC instant."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date in ``zone`` is ``day``.

    That is local midnight, except where the clocks jump over midnight: then the day begins at
    the jump.
    """
    start = local_instant(day, time(0), zone)
    local = start.astimezone(zone)
    if local.date() == day and local.time() == time(0):
        return start
    # Midnight was skipped. Read with the offset after the jump it falls before the jump.
    before = datetime.combine(day, time(0), tzinfo=zone).replace(fold=1).astimezone(UTC)
    return _first_with_offset(before, start, zone)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _first_with_offset(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """The instant in ``(lo, hi]`` where the offset changes, given that it changes once there."""
    low_offset = _offset(lo, zone)
    while hi - lo > _EPSILON:
        mid = lo + (hi - lo) // 2
        if _offset(mid, zone) == low_offset:
            lo = mid
        else:
            hi = mid
    return hi


def _next_transition(after: datetime, until: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant in ``(after, until]`` where the zone's offset changes, if any.

    Offsets are compared a day apart: no zone changes its offset twice within a day.
    """
    offset = _offset(after, zone)
    lo = after
    while lo < until:
        hi = min(lo + _DAY, until)
        if _offset(hi, zone) != offset:
            return _first_with_offset(lo, hi, zone)
        lo = hi
    return None


def _week_us(local: datetime) -> int:
    """Microseconds since Monday 00:00 on the wall clock of ``local``."""
    return (
        local.weekday() * _US_PER_DAY
        + ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
        + local.microsecond
    )


def _time_us(at: time) -> int:
    return ((at.hour * 60 + at.minute) * 60 + at.second) * 1_000_000 + at.microsecond


@dataclass(frozen=True, slots=True)
class Window:
    """From ``start`` on each of ``days`` (0 = Monday) to ``end``, next day if end <= start."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        check_days(self.days)

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def contains(self, local: datetime) -> bool:
        """Whether the wall-clock time ``local`` (in the child's zone) is inside the window."""
        day, at = local.weekday(), local.time().replace(tzinfo=None)
        if not self.overnight:
            return day in self.days and self.start <= at < self.end
        return (day in self.days and at >= self.start) or (
            (day - 1) % 7 in self.days and at < self.end
        )

    def next_change(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first instant (UTC) later than ``after`` at which ``contains`` answers otherwise
        than at ``after``, read on the wall clock of ``zone``; None if it never does."""
        return WindowSet.of((self,)).next_change(after, zone)

    def spans(self) -> Iterable[tuple[int, int]]:
        """The window as intervals of microseconds since Monday 00:00 (the last may pass the
        week's end)."""
        start = _time_us(self.start)
        length = _time_us(self.end) - start
        if self.overnight:
            length += _US_PER_DAY
        for day in sorted(self.days):
            begin = day * _US_PER_DAY + start
            yield begin, begin + length


@dataclass(frozen=True, slots=True)
class WindowSet:
    """The union of some windows, as the points of the week where its containment flips.

    ``flips`` are microseconds since Monday 00:00, sorted, cyclic over the week; ``opens[i]``
    says whether containment becomes true at ``flips[i]``. With no flips containment is
    ``always``, whatever the time.
    """

    flips: tuple[int, ...] = ()
    opens: tuple[bool, ...] = ()
    always: bool = False

    @classmethod
    def of(cls, windows: Iterable[Window]) -> WindowSet:
        """The windows' union; an empty union is never inside."""
        pieces: list[tuple[int, int]] = []
        for window in windows:
            for begin, end in window.spans():
                if end > _US_PER_WEEK:
                    pieces += [(begin, _US_PER_WEEK), (0, end - _US_PER_WEEK)]
                else:
                    pieces.append((begin, end))
        merged: list[list[int]] = []
        for begin, end in sorted(pieces):
            if merged and begin <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([begin, end])
        if not merged:
            return cls()
        if merged[0] == [0, _US_PER_WEEK]:
            return cls(always=True)
        if len(merged) > 1 and merged[0][0] == 0 and merged[-1][1] == _US_PER_WEEK:
            # The last interval runs on into the first across Monday 00:00: no flip there.
            merged[0][0] = merged.pop()[0]
        points = sorted(
            [(begin % _US_PER_WEEK, True) for begin, _ in merged]
            + [(end % _US_PER_WEEK, False) for _, end in merged]
        )
        return cls(tuple(p for p, _ in points), tuple(o for _, o in points))

    def contains(self, local: datetime) -> bool:
        """Whether some window of the set contains the wall-clock time ``local``."""
        if not self.flips:
            return self.always
        # Before the week's first flip, the state is the one the last flip left (cyclic).
        return self.opens[bisect_right(self.flips, _week_us(local)) - 1]

    def next_change(
        self, after: datetime, zone: ZoneInfo, local: datetime | None = None
    ) -> datetime | None:
        """The first instant (UTC) later than ``after`` at which ``contains`` answers otherwise,
        on the wall clock of ``zone``; None if it never does. ``local`` is ``after`` in
        ``zone`` when the caller has it already."""
        if after.tzinfo is None:
            raise ValueError("after must be timezone-aware")
        if not self.flips:
            return None
        if local is None:
            local = after.astimezone(zone)
        after = after.astimezone(UTC)
        candidate = after + self._wall_delta(local)
        if _offset(candidate, zone) == local.utcoffset():
            # No change of offset between (none twice in a week): the wall clock ran evenly.
            return candidate
        return self._next_change_across_transitions(after, zone, self.contains(local))

    def _wall_delta(self, local: datetime) -> timedelta:
        """Wall-clock time from ``local`` to the set's next flip strictly after it."""
        now = _week_us(local)
        i = bisect_right(self.flips, now)
        flip = self.flips[i] if i < len(self.flips) else self.flips[0] + _US_PER_WEEK
        return timedelta(microseconds=flip - now)

    def _next_change_across_transitions(
        self, after: datetime, zone: ZoneInfo, state: bool
    ) -> datetime:
        # Walk the stretches of constant offset: inside one, the wall clock runs evenly and the
        # next flip is found by arithmetic; at the border of two, the wall clock jumps, and the
        # answer may change at the jump itself.
        start = after
        while True:
            local = start.astimezone(zone)
            candidate = start + self._wall_delta(local)
            transition = _next_transition(start, candidate, zone)
            if transition is None or candidate < transition:
                return candidate
            if self.contains(transition.astimezone(zone)) != state:
                return transition
            start = transition
