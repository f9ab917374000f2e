"""When an alarm is due: the battery and silence rules as pure state machines, no I/O.

Low battery is raised once per crossing: a fresh reading below the threshold while not charging
notes the crossing, and only charging or a level back above ``threshold + REARM_MARGIN_PCT``
re-arms it, so a level wobbling around the threshold does not raise it again. Readings are
applied in reading-time order; one older than the last applied is history and changes nothing
(one as old is applied: two reports stamped alike are taken in the order they arrived),
and one older than ``FRESH_READING`` (a batch of fixes collected offline) may re-arm but does
not raise: "the phone is about to die" is about now.

A device is silent once no sign of life (a heartbeat, a fix, an SOS) came for longer than the
child's threshold; each silence is raised once, and the next sign of life re-arms it. The
deadline is kept with the state (``due_at``) so a worker finds due devices with one indexed
comparison; ``None`` means nothing is pending (already noted, or the alarm is off).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

REARM_MARGIN_PCT = 5
FRESH_READING = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class BatteryReading:
    level_pct: int
    charging: bool | None  # unknown counts as not charging: a missed alarm costs more
    read_at: datetime


@dataclass(frozen=True, slots=True)
class BatteryState:
    level_pct: int | None = None
    charging: bool | None = None
    read_at: datetime | None = None
    low_noted: bool = False  # this crossing has been raised already


@dataclass(frozen=True, slots=True)
class BatteryStep:
    state: BatteryState
    crossed: bool  # a new crossing: raise LowBattery, or call ``unnoted`` if it must not be


def read_battery(
    state: BatteryState, reading: BatteryReading, threshold_pct: int, *, now: datetime
) -> BatteryStep:
    """Apply one reading; whether it is a new crossing below ``threshold_pct``."""
    if state.read_at is not None and reading.read_at < state.read_at:
        return BatteryStep(state, crossed=False)
    charging = bool(reading.charging)
    noted = state.low_noted
    if charging or reading.level_pct > threshold_pct + REARM_MARGIN_PCT:
        noted = False
    crossed = (
        not noted
        and not charging
        and reading.level_pct < threshold_pct
        and now - reading.read_at <= FRESH_READING
    )
    new = BatteryState(
        level_pct=reading.level_pct,
        charging=reading.charging,
        read_at=reading.read_at,
        low_noted=noted or crossed,
    )
    return BatteryStep(new, crossed)


def unnoted(state: BatteryState) -> BatteryState:
    """The state after a crossing nobody was told of (alarm off, monitoring inactive): the next
    low reading may raise it once the guardian turns it on."""
    return replace(state, low_noted=False)


@dataclass(frozen=True, slots=True)
class Silence:
    last_seen_at: datetime
    due_at: datetime | None = None
    noted_at: datetime | None = None


def seen(previous: Silence | None, at: datetime, after: timedelta | None) -> Silence:
    """A sign of life at ``at``; ``after`` is the child's threshold, None when the alarm is off."""
    if previous is not None and at < previous.last_seen_at:
        return previous
    return Silence(last_seen_at=at, due_at=at + after if after is not None else None)


def rescheduled(state: Silence, after: timedelta | None) -> Silence:
    """The guardian changed the threshold or switched the alarm: a silence already noted stays
    noted, a pending one is due by the new rule."""
    if state.noted_at is not None:
        return state
    return replace(state, due_at=state.last_seen_at + after if after is not None else None)


def is_due(state: Silence, now: datetime) -> bool:
    """Silent for longer than the threshold, and not yet noted."""
    return state.noted_at is None and state.due_at is not None and now > state.due_at


def noted(state: Silence, now: datetime) -> Silence:
    """This silence has been dealt with (raised, or suppressed): nothing more until a sign of
    life."""
    return replace(state, due_at=None, noted_at=now)
