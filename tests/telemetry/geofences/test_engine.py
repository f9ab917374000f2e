"""The transition rules: hysteresis, fix-time order when fixes arrive late, no duplicates, and
which transitions a place tells (wanted kinds, inside its schedule)."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from telemetry.geofences.engine import (
    Kind,
    PlaceRules,
    PlaceState,
    Transition,
    advance,
    announced,
    arrived,
    track,
)
from telemetry.geofences.geometry import Circle, Containment
from telemetry.geofences.schedule import Schedule, Window
from tests.telemetry.geofences.helpers import ALMATY, T0, destination, fix

INSIDE, OUTSIDE, UNKNOWN = Containment.INSIDE, Containment.OUTSIDE, Containment.UNKNOWN
Seen = tuple[datetime, Containment]

observations = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from([INSIDE, OUTSIDE, UNKNOWN])),
    max_size=60,
    unique_by=lambda o: o[0],
).map(lambda xs: sorted((T0 + timedelta(seconds=s), c) for s, c in xs))


def run(state: PlaceState, seen: list[Seen]) -> tuple[PlaceState, list[tuple[Kind, datetime]]]:
    told = []
    for at, where in seen:
        state, kind = advance(state, at, where)
        if kind is not None:
            told.append((kind, at))
    return state, told


def decisive(seen: list[Seen]) -> list[Seen]:
    return [(at, c) for at, c in seen if c is not UNKNOWN]


@given(observations)
def test_in_order_a_transition_is_each_change_between_decisive_fixes(seen: list[Seen]) -> None:
    state, told = run(PlaceState(), seen)
    sure = decisive(seen)
    expected = [
        (Kind.ENTER if now is INSIDE else Kind.EXIT, at)
        for (_, before), (at, now) in itertools.pairwise(sure)
        if before is not now
    ]
    assert told == expected
    assert state.status is (sure[-1][1] if sure else UNKNOWN)
    assert state.as_of == (sure[-1][0] if sure else None)


@given(observations, st.data())
def test_batches_in_any_order_tell_in_fix_time_order_and_alternate(
    seen: list[Seen], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(seen)), max_size=6)))
    batches = [seen[a:b] for a, b in zip([0, *cuts], [*cuts, len(seen)], strict=True)]
    random.Random(data.draw(st.integers())).shuffle(batches)

    state, told = PlaceState(), []
    for batch in batches:
        state, more = run(state, batch)
        told += more

    times = [at for _, at in told]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert all(a != b for (a, _), (b, _) in itertools.pairwise(told))
    where = dict(seen)
    assert all(where[at] is (INSIDE if kind is Kind.ENTER else OUTSIDE) for kind, at in told)
    sure = decisive(seen)
    assert state.status is (sure[-1][1] if sure else UNKNOWN)  # the latest decisive fix wins
    inside = [at for at, c in seen if c is INSIDE]
    assert state.inside_seen_at == (max(inside) if inside else None)


@given(observations, observations)
def test_replaying_fixes_already_seen_changes_nothing(seen: list[Seen], more: list[Seen]) -> None:
    state, _ = run(PlaceState(), seen + [o for o in more if seen and o[0] > seen[-1][0]])
    replay = [o for o in seen if state.as_of is not None and o[0] <= state.as_of]
    again, told = run(state, replay)
    assert told == []
    assert (again.status, again.as_of) == (state.status, state.as_of)


@given(st.sampled_from([INSIDE, OUTSIDE]), observations)
def test_unknown_fixes_never_change_the_state(start: Containment, seen: list[Seen]) -> None:
    state = PlaceState(start, T0 - timedelta(seconds=1))
    after, told = run(state, [(at, UNKNOWN) for at, _ in seen])
    assert told == []
    assert after == state


def test_the_first_decisive_fix_only_sets_the_state() -> None:
    state, told = run(PlaceState(), [(T0, INSIDE)])
    assert told == []
    assert state == PlaceState(INSIDE, T0, T0)


def test_a_late_fix_counts_as_seen_inside_but_tells_nothing() -> None:
    state = PlaceState(OUTSIDE, T0)
    late, told = run(state, [(T0 - timedelta(minutes=5), INSIDE)])
    assert told == []
    assert late == PlaceState(OUTSIDE, T0, T0 - timedelta(minutes=5))


def test_fixes_straddling_the_boundary_do_not_flap() -> None:
    school = Circle(ALMATY, 300)
    walk = [
        fix(ALMATY, seconds=0),  # well inside
        fix(destination(ALMATY, 90, 290), seconds=60, accuracy_m=15),  # near the edge: unknown
        fix(destination(ALMATY, 90, 310), seconds=120, accuracy_m=15),  # just over: unknown
        fix(destination(ALMATY, 90, 280), seconds=180, accuracy_m=15),  # back: unknown
        fix(destination(ALMATY, 90, 400), seconds=240, accuracy_m=15),  # clearly out: exit
        fix(destination(ALMATY, 90, 320), seconds=300, accuracy_m=15),  # near: unknown
        fix(destination(ALMATY, 90, 200), seconds=360, accuracy_m=15),  # clearly in: enter
    ]
    state, transitions = track(school, PlaceState(), walk, margin_m=25)
    assert [(t.kind, t.fix.fixed_at) for t in transitions] == [
        (Kind.EXIT, walk[4].fixed_at),
        (Kind.ENTER, walk[6].fixed_at),
    ]
    assert state.status is INSIDE


def test_a_poor_fix_far_from_a_place_is_still_outside() -> None:
    home = Circle(ALMATY, 100)
    cell = fix(destination(ALMATY, 0, 20_000), accuracy_m=3000)
    state, _ = track(home, PlaceState(), [cell], margin_m=25)
    assert state.status is OUTSIDE


ALMATY_ZONE = ZoneInfo("Asia/Almaty")  # UTC+5
SCHOOL_HOURS = Schedule((Window(frozenset(range(5)), time(8), time(14)),))


def transition(kind: Kind, local_hour: int, day: int = 25) -> Transition:
    at = ALMATY
    moment = datetime(2026, 11, day, local_hour, tzinfo=ALMATY_ZONE)
    return Transition(kind, fix(at, seconds=(moment - T0).total_seconds()))


def test_a_place_tells_only_wanted_kinds_inside_its_schedule() -> None:
    rules = PlaceRules(Circle(ALMATY, 300), SCHOOL_HOURS, enter=False, exit=True)
    candidates = [
        transition(Kind.EXIT, 7),  # Wednesday before school
        transition(Kind.ENTER, 9),  # not wanted
        transition(Kind.EXIT, 11),  # during school: told
        transition(Kind.EXIT, 15),  # after school
        transition(Kind.EXIT, 11, day=28),  # Saturday
    ]
    assert announced(rules, candidates, ALMATY_ZONE) == [candidates[2]]
    always = PlaceRules(Circle(ALMATY, 300))
    assert announced(always, candidates, ALMATY_ZONE) == candidates


def test_arrival_counts_a_visit_since_the_start_or_being_there() -> None:
    since = T0
    assert not arrived(PlaceState(), since)
    assert arrived(PlaceState(OUTSIDE, T0, T0 + timedelta(minutes=1)), since)  # came and went
    assert not arrived(PlaceState(OUTSIDE, T0, T0 - timedelta(minutes=1)), since)  # before
    assert arrived(PlaceState(INSIDE, T0 - timedelta(hours=3), None), since)  # there all along
