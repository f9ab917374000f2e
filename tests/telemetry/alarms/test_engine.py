"""The alarm rules alone: low battery once per crossing with its re-arming, silence once per
silence, and late or stale reports. No database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from telemetry.alarms import engine
from telemetry.alarms.engine import (
    FRESH_READING,
    REARM_MARGIN_PCT,
    BatteryReading,
    BatteryState,
    Silence,
)
from telemetry.alarms.imei import is_valid_imei, luhn_valid

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
THRESHOLD = 15


def run(levels: Sequence[tuple[int, bool | None]], threshold: int = THRESHOLD) -> list[bool]:
    """Feed one reading a minute, each read as it is sent; which of them raised an alarm."""
    state = BatteryState()
    raised = []
    for i, (level, charging) in enumerate(levels):
        at = T0 + i * MINUTE
        step = engine.read_battery(state, BatteryReading(level, charging, at), threshold, now=at)
        state = step.state
        raised.append(step.crossed)
    return raised


def test_a_crossing_below_the_threshold_raises_once() -> None:
    assert run([(40, False), (16, False), (15, False), (14, False), (9, False), (3, False)]) == [
        False,
        False,
        False,  # at the threshold is not below it
        True,
        False,
        False,
    ]


def test_wobbling_around_the_threshold_does_not_raise_again() -> None:
    margin = THRESHOLD + REARM_MARGIN_PCT
    assert run([(14, False), (16, False), (14, False), (margin, False), (13, False)]) == [
        True,
        False,
        False,
        False,  # exactly threshold + margin is not above it
        False,
    ]


def test_going_back_above_the_margin_re_arms() -> None:
    above = THRESHOLD + REARM_MARGIN_PCT + 1
    assert run([(14, False), (above, False), (14, False)]) == [True, False, True]


def test_charging_re_arms_and_never_raises() -> None:
    assert run([(14, False), (12, True), (5, True), (11, False)]) == [True, False, False, True]


def test_unknown_charging_counts_as_not_charging() -> None:
    assert run([(10, None)]) == [True]


def test_a_first_reading_already_below_raises() -> None:
    assert run([(5, False)]) == [True]


def test_an_older_reading_than_the_last_one_changes_nothing() -> None:
    state = engine.read_battery(
        BatteryState(), BatteryReading(80, False, T0 + MINUTE), THRESHOLD, now=T0 + MINUTE
    ).state
    late = engine.read_battery(state, BatteryReading(5, False, T0), THRESHOLD, now=T0 + MINUTE)
    assert late == engine.BatteryStep(state, crossed=False)


def test_a_stale_reading_re_arms_but_does_not_raise() -> None:
    now = T0 + FRESH_READING + 2 * MINUTE  # both readings below are older than fresh
    state = BatteryState(level_pct=10, charging=False, read_at=T0 - MINUTE, low_noted=True)
    charged = engine.read_battery(state, BatteryReading(8, True, T0), THRESHOLD, now=now)
    assert charged.state.low_noted is False
    low = engine.read_battery(
        charged.state, BatteryReading(8, False, T0 + MINUTE), THRESHOLD, now=now
    )
    assert low.crossed is False
    fresh = engine.read_battery(low.state, BatteryReading(7, False, now), THRESHOLD, now=now)
    assert fresh.crossed is True


def test_a_crossing_nobody_was_told_of_is_raised_by_the_next_low_reading() -> None:
    step = engine.read_battery(BatteryState(), BatteryReading(10, False, T0), THRESHOLD, now=T0)
    assert step.crossed
    state = engine.unnoted(step.state)
    again = engine.read_battery(state, BatteryReading(9, False, T0 + MINUTE), THRESHOLD, now=T0)
    assert again.crossed


readings = st.lists(st.tuples(st.integers(0, 100), st.booleans()), max_size=60)


@given(readings, st.integers(1, 90))
def test_alarms_follow_the_crossings_of_a_simple_model(
    levels: list[tuple[int, bool]], threshold: int
) -> None:
    """Armed at first; raising disarms; charging or a level above the margin re-arms."""
    expected = []
    armed = True
    for level, charging in levels:
        armed = armed or charging or level > threshold + REARM_MARGIN_PCT
        fire = armed and not charging and level < threshold
        armed = armed and not fire
        expected.append(fire)
    assert run(levels, threshold) == expected


AFTER = timedelta(minutes=60)


def test_silence_is_due_only_after_longer_than_the_threshold() -> None:
    state = engine.seen(None, T0, AFTER)
    assert state == Silence(last_seen_at=T0, due_at=T0 + AFTER)
    assert not engine.is_due(state, T0 + AFTER)
    assert engine.is_due(state, T0 + AFTER + timedelta(seconds=1))


def test_a_silence_is_raised_once_and_re_armed_by_the_next_sign_of_life() -> None:
    now = T0 + 2 * AFTER
    state = engine.noted(engine.seen(None, T0, AFTER), now)
    assert not engine.is_due(state, now + 10 * AFTER)
    back = engine.seen(state, now + MINUTE, AFTER)
    assert back == Silence(last_seen_at=now + MINUTE, due_at=now + MINUTE + AFTER)
    assert engine.is_due(back, now + MINUTE + AFTER + MINUTE)


def test_an_older_sign_of_life_changes_nothing() -> None:
    state = engine.noted(engine.seen(None, T0, AFTER), T0 + 2 * AFTER)
    assert engine.seen(state, T0 - MINUTE, AFTER) is state


def test_with_the_alarm_off_nothing_is_ever_due() -> None:
    state = engine.seen(None, T0, None)
    assert state.due_at is None
    assert not engine.is_due(state, T0 + 1000 * AFTER)


def test_new_rules_move_a_pending_silence_but_not_a_noted_one() -> None:
    pending = engine.seen(None, T0, AFTER)
    assert engine.rescheduled(pending, 2 * AFTER).due_at == T0 + 2 * AFTER
    assert engine.rescheduled(pending, None).due_at is None
    off = engine.seen(None, T0, None)
    assert engine.rescheduled(off, AFTER).due_at == T0 + AFTER
    noted = engine.noted(pending, T0 + 2 * AFTER)
    assert engine.rescheduled(noted, 3 * AFTER) is noted


def test_imei_check_digit() -> None:
    assert is_valid_imei("490154203237518")
    assert is_valid_imei("356938035643809")
    assert not is_valid_imei("490154203237519")  # check digit off by one
    assert not is_valid_imei("49015420323751")  # 14 digits
    assert not is_valid_imei("4901542032375180")  # 16 digits
    assert not is_valid_imei("49015420323751x")
    assert not is_valid_imei("４９０１５４２０３２３７５１８")  # non-ASCII digits
    assert luhn_valid("79927398713")  # the textbook example


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_exactly_one_check_digit_completes_any_14_digits(body: str) -> None:
    assert sum(is_valid_imei(body + d) for d in "0123456789") == 1
