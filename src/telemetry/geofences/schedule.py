"""When a place's rules apply, in the child's own time zone. Pure: no I/O, time is passed in.

A schedule is a set of weekly windows (``parental.kit.weekly.Window``, shared with screen-time
downtime; filter profiles mean the same by theirs). A window starting on a given day may run
past midnight (``21:00-07:00``); the hours after midnight belong to the window of the day
before. A place without windows applies all the time.

An arrival rule says "at school by 08:30 on weekdays, counting from 07:00": on each of its
days, the child must have been seen inside the place between ``since`` and ``by``, local time.
``since`` is part of the rule because "home by 21:00" must not count the morning at home.

Local times are turned into instants with the zone's rules for that date, so a deadline stays
08:30 on the wall clock across daylight-saving changes. A time the clocks skip (02:30 when they
jump from 02:00 to 03:00) is read with the offset before the jump and so falls at 03:30 in the
new time, just after the clocks have passed it; a time they repeat (fall back) is the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from parental.kit.weekly import WEEK, Window, check_days, local_instant

__all__ = ["WEEK", "ArrivalRule", "Schedule", "Window", "check_days", "local_instant"]


@dataclass(frozen=True, slots=True)
class Schedule:
    windows: tuple[Window, ...] = ()

    def applies(self, at: datetime, zone: ZoneInfo) -> bool:
        """Whether the place's enter and exit events apply at instant ``at``."""
        if not self.windows:
            return True
        local = at.astimezone(zone)
        return any(window.contains(local) for window in self.windows)


@dataclass(frozen=True, slots=True)
class ArrivalRule:
    """Seen inside between ``since`` and ``by`` (local, same day) on each of ``days``."""

    days: frozenset[int]
    since: time
    by: time

    def __post_init__(self) -> None:
        check_days(self.days)
        if not self.since < self.by:
            raise ValueError("since must be earlier than by, on the same day")

    def deadline_after(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first deadline (``by`` on one of the rule's days) strictly later than ``after``."""
        first = after.astimezone(zone).date()
        for offset in range(8):
            day = first + timedelta(days=offset)
            if day.weekday() in self.days:
                deadline = local_instant(day, self.by, zone)
                if deadline > after:
                    return deadline
        raise AssertionError("a rule with a day in every week has a deadline within 8 days")

    def since_for(self, deadline: datetime, zone: ZoneInfo) -> datetime:
        """When the wait for the arrival due at ``deadline`` began."""
        day = deadline.astimezone(zone).date()
        return local_instant(day, self.since, zone)
