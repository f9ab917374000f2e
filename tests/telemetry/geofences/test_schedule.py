"""Schedules and arrival deadlines in the child's zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry.geofences.schedule import ArrivalRule, Schedule, Window, local_instant

BERLIN = ZoneInfo("Europe/Berlin")
ALMATY = ZoneInfo("Asia/Almaty")
ZONES = [ALMATY, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]
WEEKDAYS = frozenset(range(5))
SCHOOL = ArrivalRule(WEEKDAYS, since=time(7), by=time(8, 30))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("after", "deadline"),
    [
        # Almaty is UTC+5 all year.
        (utc(2026, 3, 27, 3, 0), utc(2026, 3, 27, 3, 30)),  # Friday before 08:30 local
        (utc(2026, 3, 27, 3, 30), utc(2026, 3, 30, 3, 30)),  # at it: next is Monday
    ],
)
def test_deadlines_in_almaty(after: datetime, deadline: datetime) -> None:
    assert SCHOOL.deadline_after(after, ALMATY) == deadline


def test_deadlines_keep_the_wall_clock_across_berlins_changes() -> None:
    # Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    friday = SCHOOL.deadline_after(utc(2026, 3, 27, 0, 0), BERLIN)
    monday = SCHOOL.deadline_after(friday, BERLIN)
    assert (friday, monday) == (utc(2026, 3, 27, 7, 30), utc(2026, 3, 30, 6, 30))
    assert SCHOOL.since_for(monday, BERLIN) == utc(2026, 3, 30, 5, 0)
    friday = SCHOOL.deadline_after(utc(2026, 10, 23, 0, 0), BERLIN)
    monday = SCHOOL.deadline_after(friday, BERLIN)
    assert (friday, monday) == (utc(2026, 10, 23, 6, 30), utc(2026, 10, 26, 7, 30))


def test_skipped_and_repeated_local_times() -> None:
    night = ArrivalRule(frozenset({6}), since=time(1), by=time(2, 30))
    # 02:30 does not exist on 29 March in Berlin: it falls at 03:30 CEST, once clocks passed it.
    assert night.deadline_after(utc(2026, 3, 28, 12), BERLIN) == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 25 October: the first.
    assert night.deadline_after(utc(2026, 10, 24, 12), BERLIN) == utc(2026, 10, 25, 0, 30)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
rules = (
    st.tuples(st.sets(st.integers(0, 6), min_size=1), st.times(), st.times())
    .filter(lambda t: t[1] != t[2])
    .map(lambda t: ArrivalRule(frozenset(t[0]), min(t[1], t[2]), max(t[1], t[2])))
)


@given(rules, instants, st.sampled_from(ZONES))
def test_the_next_deadline_is_the_first_after(
    rule: ArrivalRule, after: datetime, zone: ZoneInfo
) -> None:
    deadline = rule.deadline_after(after, zone)
    assert after < deadline <= after + timedelta(days=8)
    day = deadline.astimezone(zone).date()
    assert day.weekday() in rule.days
    assert deadline == local_instant(day, rule.by, zone)
    wall = deadline.astimezone(zone).replace(tzinfo=None)
    if wall.time() != rule.by:  # only a time the clocks skipped moves, by the skip
        assert timedelta(0) < wall - datetime.combine(day, rule.by) <= timedelta(hours=1)
    # No deadline of the rule lies between: each day's is at least a day minus an hour apart.
    previous = day - timedelta(days=1)
    while previous.weekday() not in rule.days:
        previous -= timedelta(days=1)
    assert local_instant(previous, rule.by, zone) <= after
    since = rule.since_for(deadline, zone)
    assert since < deadline
    assert since.astimezone(zone).date() == day


def test_overnight_windows_belong_to_the_day_they_start() -> None:
    nights = Schedule((Window(frozenset({4}), time(21), time(7)),))  # Friday night
    assert nights.applies(datetime(2026, 11, 27, 22, tzinfo=ALMATY), ALMATY)  # Friday 22:00
    assert nights.applies(datetime(2026, 11, 28, 6, 59, tzinfo=ALMATY), ALMATY)  # Sat 06:59
    assert not nights.applies(datetime(2026, 11, 28, 7, tzinfo=ALMATY), ALMATY)
    assert not nights.applies(datetime(2026, 11, 27, 6, tzinfo=ALMATY), ALMATY)  # Fri morning
    assert Schedule().applies(datetime(2026, 11, 27, 6, tzinfo=ALMATY), ALMATY)


def test_a_window_follows_the_local_clock_across_dst() -> None:
    school = Schedule((Window(WEEKDAYS, time(8), time(14)),))
    # 07:30 UTC is 08:30 in Berlin in winter (inside) and 09:30 in summer (inside);
    # 06:30 UTC is 07:30 in winter (outside) and 08:30 in summer (inside).
    assert not school.applies(utc(2026, 3, 27, 6, 30), BERLIN)
    assert school.applies(utc(2026, 3, 30, 6, 30), BERLIN)


@pytest.mark.parametrize(
    ("days", "since", "by"),
    [
        (frozenset(), time(7), time(8)),
        (frozenset({7}), time(7), time(8)),
        (WEEKDAYS, time(9), time(8)),
    ],
)
def test_rules_that_cannot_be(days: frozenset[int], since: time, by: time) -> None:
    with pytest.raises(ValueError, match=r"days|since"):
        ArrivalRule(days, since, by)
