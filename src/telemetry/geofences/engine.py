"""Enter and exit transitions of one child at one place, from fixes. Pure: no I/O.

The state of a (child, place) pair is what the latest *decisive* fix said (INSIDE or OUTSIDE;
UNKNOWN until one has), and that fix's time. Fixes are taken in fix-time order:

- an UNKNOWN fix (its uncertainty straddles the boundary) never changes the state;
- a decisive fix newer than the state's time replaces it; when it says the opposite of a known
  state, that is a transition (enter or exit) at the fix's time;
- the first decisive fix only sets the state: a place drawn around where the child already
  is does not announce an arrival;
- a fix no newer than the state's time arrives late (the phone was offline). It can no longer
  produce a transition, because one at a later time may already have been told: transitions
  of a pair are told in fix-time order, never out of it, and enter and exit alternate. A
  late fix only counts as evidence that the child was inside (``inside_seen_at``), which the
  arrival check reads. So a short visit that only late fixes reveal is not announced, and an
  exit learnt late is announced at the first fix that showed it.

Whether a transition is announced is a separate question (``announced``): the place must want
that kind of event and its schedule must apply at the fix's time. The state follows the child
all the time, so a child already at school when the window opens does not "enter" it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from telemetry.geofences.geometry import Containment, Point, Shape, containment
from telemetry.geofences.schedule import Schedule
from telemetry.locations.fix import Fix


class Kind(StrEnum):
    ENTER = "enter"
    EXIT = "exit"
    NOT_ARRIVED = "not_arrived"


@dataclass(frozen=True, slots=True)
class PlaceState:
    status: Containment = Containment.UNKNOWN
    as_of: datetime | None = None  # fix time of the fix that decided ``status``
    inside_seen_at: datetime | None = None  # latest fix, in any order, that was inside


@dataclass(frozen=True, slots=True)
class Transition:
    kind: Kind
    fix: Fix


@dataclass(frozen=True)
class PlaceRules:
    """What a place wants told: its shape, its schedule and which transitions."""

    shape: Shape
    schedule: Schedule = field(default_factory=Schedule)
    enter: bool = True
    exit: bool = True


def classify(shape: Shape, fix: Fix, margin_m: float) -> Containment:
    return containment(shape, Point(fix.latitude, fix.longitude), fix.accuracy_m + margin_m)


def advance(
    state: PlaceState, fixed_at: datetime, seen: Containment
) -> tuple[PlaceState, Kind | None]:
    """The state after one fix that was ``seen`` at ``fixed_at``, and the transition, if any."""
    # Called for every fix and place of an upload: a new state only when something changed,
    # built directly (``dataclasses.replace`` costs several times as much).
    inside_seen_at = state.inside_seen_at
    if seen is Containment.INSIDE and (inside_seen_at is None or fixed_at > inside_seen_at):
        inside_seen_at = fixed_at
        state = PlaceState(state.status, state.as_of, inside_seen_at)
    if seen is Containment.UNKNOWN or (state.as_of is not None and fixed_at <= state.as_of):
        return state, None
    status = state.status
    kind = None
    if status is not Containment.UNKNOWN and seen is not status:
        kind = Kind.ENTER if seen is Containment.INSIDE else Kind.EXIT
    return PlaceState(seen, fixed_at, inside_seen_at), kind


def track(
    shape: Shape, state: PlaceState, fixes: Iterable[Fix], margin_m: float
) -> tuple[PlaceState, list[Transition]]:
    """Run ``fixes`` (sorted by fix time) through the state; the transitions they made."""
    transitions: list[Transition] = []
    for fix in fixes:
        state, kind = advance(state, fix.fixed_at, classify(shape, fix, margin_m))
        if kind is not None:
            transitions.append(Transition(kind, fix))
    return state, transitions


def announced(
    rules: PlaceRules, transitions: Sequence[Transition], zone: ZoneInfo
) -> list[Transition]:
    """The transitions the place wants told: of a wanted kind, while its schedule applies."""
    wanted = {Kind.ENTER: rules.enter, Kind.EXIT: rules.exit}
    return [
        t
        for t in transitions
        if wanted.get(t.kind, False) and rules.schedule.applies(t.fix.fixed_at, zone)
    ]


def arrived(state: PlaceState, since: datetime) -> bool:
    """Whether the child counts as arrived for a wait that began at ``since``: seen inside
    since then (even if gone again), or inside and not seen leaving."""
    seen = state.inside_seen_at is not None and state.inside_seen_at >= since
    return seen or state.status is Containment.INSIDE
