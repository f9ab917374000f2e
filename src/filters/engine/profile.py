"""A child's filter profile, evaluated at an instant: which categories apply and what the
guardian listed personally. Pure: no I/O, time is passed in.

Schedules are weekly windows (``parental.kit.weekly.Window``) in the child's own time zone.
A window starting on a given day may run past midnight (``21:00-07:00`` on Sunday to Thursday
is "school nights"): the hours after midnight belong to the window of the day before. A
category is ``off``, ``always`` on, or on only inside its windows.

The guardian's own entries come before the lists: the most specific entry wins, an allow
beating a block on the same name. A temporary unblock is an allow entry with an expiry; once
it has passed the entry is ignored and the lists decide again, with nothing to clean up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from filters.engine.rules import Action, Scope
from parental.kit.weekly import Window

__all__ = ["CategorySetting", "Mode", "PersonalEntry", "Profile", "Window"]


class Mode(StrEnum):
    OFF = "off"
    ALWAYS = "always"
    SCHEDULED = "scheduled"


@dataclass(frozen=True, slots=True)
class CategorySetting:
    mode: Mode
    windows: tuple[Window, ...] = ()

    def active(self, local: datetime) -> bool:
        if self.mode is Mode.OFF:
            return False
        if self.mode is Mode.ALWAYS:
            return True
        return any(w.contains(local) for w in self.windows)


@dataclass(frozen=True, slots=True)
class PersonalEntry:
    host: str
    scope: Scope  # EXACT or SUBTREE
    action: Action
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Profile:
    timezone: str
    categories: dict[str, CategorySetting]
    entries: tuple[PersonalEntry, ...] = ()
    safesearch: bool = True
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    def active_categories(self, now: datetime) -> frozenset[str]:
        """The categories in force at ``now`` (timezone-aware), in the child's local time."""
        local = now.astimezone(self._zone)
        return frozenset(key for key, setting in self.categories.items() if setting.active(local))

    def enabled_mask(self, now: datetime, categories: Sequence[str]) -> int:
        """``active_categories`` as a bit mask over a snapshot's category list."""
        active = self.active_categories(now)
        return sum(1 << i for i, key in enumerate(categories) if key in active)

    def steady_until(self, now: datetime) -> datetime | None:
        """No verdict of this profile can change before the instant returned (None: none
        ever will, until the profile itself is edited): the next expiry of a guardian's entry
        or, when a category follows a schedule, the next whole minute (zone offsets are whole
        minutes, and so are window times, except that a window given to the second makes it
        one second)."""
        until = min(
            (e.expires_at for e in self.entries if e.expires_at and e.expires_at > now),
            default=None,
        )
        times = [
            t
            for setting in self.categories.values()
            if setting.mode is Mode.SCHEDULED
            for w in setting.windows
            for t in (w.start, w.end)
        ]
        if times:
            if any(t.second or t.microsecond for t in times):
                step = now + timedelta(seconds=1)
            else:
                step = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            until = step if until is None else min(until, step)
        return until

    def personal_decision(self, host: str, now: datetime) -> PersonalEntry | None:
        """The guardian's own entry that decides ``host``, if any is in force."""
        return most_specific(host, (e for e in self.entries if _in_force(e, now)))


def _in_force(entry: PersonalEntry, now: datetime) -> bool:
    return entry.expires_at is None or now < entry.expires_at


def most_specific(host: str, entries: Iterable[PersonalEntry]) -> PersonalEntry | None:
    best: PersonalEntry | None = None
    best_len = -1
    for entry in entries:
        covers = entry.host == host or (
            entry.scope is Scope.SUBTREE and host.endswith("." + entry.host)
        )
        if not covers:
            continue
        length = len(entry.host)
        if length > best_len or (
            length == best_len and entry.action is Action.ALLOW and best is not None
        ):
            best, best_len = entry, length
    return best
