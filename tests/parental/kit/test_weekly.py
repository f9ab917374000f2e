"""Weekly windows on the wall clock, and when they open and close across clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parental.kit.weekly import Window, WindowSet, check_days, day_start, local_instant

BERLIN = ZoneInfo("Europe/Berlin")
ALMATY = ZoneInfo("Asia/Almaty")  # UTC+6 until 29 February 2024, UTC+5 since, no DST
ZONES = [
    BERLIN,
    ALMATY,
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # moves by 30 minutes
    ZoneInfo("America/Havana"),  # jumps over midnight
]
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
NIGHTS = Window(EVERY_DAY, time(21), time(7))
US = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_a_window_on_the_same_day() -> None:
    school = Window(WEEKDAYS, time(8), time(14))
    assert not school.overnight
    assert school.contains(datetime(2026, 11, 27, 8, tzinfo=ALMATY))  # Friday 08:00
    assert school.contains(datetime(2026, 11, 27, 13, 59, 59, tzinfo=ALMATY))
    assert not school.contains(datetime(2026, 11, 27, 14, tzinfo=ALMATY))
    assert not school.contains(datetime(2026, 11, 28, 9, tzinfo=ALMATY))  # Saturday


def test_an_overnight_window_belongs_to_the_day_it_starts() -> None:
    friday_night = Window(frozenset({4}), time(21), time(7))
    assert friday_night.overnight
    assert friday_night.contains(datetime(2026, 11, 27, 21, tzinfo=ALMATY))  # Friday 21:00
    assert friday_night.contains(datetime(2026, 11, 28, 6, 59, tzinfo=ALMATY))  # Saturday morning
    assert not friday_night.contains(datetime(2026, 11, 28, 7, tzinfo=ALMATY))
    assert not friday_night.contains(
        datetime(2026, 11, 27, 6, tzinfo=ALMATY)
    )  # Friday morning: Thursday's
    assert not friday_night.contains(datetime(2026, 11, 28, 21, tzinfo=ALMATY))  # Saturday night


def test_a_window_whose_start_is_its_end_lasts_a_day() -> None:
    sunday = Window(frozenset({6}), time(0), time(0))
    assert sunday.contains(datetime(2026, 11, 29, 0, tzinfo=ALMATY))
    assert sunday.contains(datetime(2026, 11, 29, 23, 59, tzinfo=ALMATY))
    assert not sunday.contains(datetime(2026, 11, 30, 0, tzinfo=ALMATY))


@pytest.mark.parametrize("days", [frozenset(), frozenset({7}), frozenset({-1, 2})])
def test_days_are_weekdays(days: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="days"):
        check_days(days)
    with pytest.raises(ValueError, match="days"):
        Window(days, time(1), time(2))


def test_next_change_in_almaty() -> None:
    school = Window(WEEKDAYS, time(8), time(14))
    # Friday 27 November 2026, 12:00 local (UTC+5): school ends at 14:00, starts Monday 08:00.
    friday_noon = datetime(2026, 11, 27, 12, tzinfo=ALMATY)
    assert school.next_change(friday_noon, ALMATY) == utc(2026, 11, 27, 9)
    assert school.next_change(utc(2026, 11, 27, 9), ALMATY) == utc(2026, 11, 30, 3)
    # Overnight: Friday 21:00 opens, Saturday 07:00 closes.
    assert NIGHTS.next_change(friday_noon, ALMATY) == utc(2026, 11, 27, 16)
    assert NIGHTS.next_change(utc(2026, 11, 27, 16), ALMATY) == utc(2026, 11, 28, 2)


def test_a_window_that_never_changes_has_no_next_change() -> None:
    always = Window(EVERY_DAY, time(6), time(6))
    at = utc(2026, 11, 27, 12)
    assert always.contains(at.astimezone(ALMATY))
    assert always.next_change(at, ALMATY) is None
    assert WindowSet.of(()).next_change(at, ALMATY) is None
    assert not WindowSet.of(()).contains(at)


def test_next_change_wants_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        NIGHTS.next_change(datetime(2026, 11, 27, 12), ALMATY)  # noqa: DTZ001


def test_a_set_of_windows_is_their_union() -> None:
    windows = (
        Window(frozenset({6, 0, 1, 2, 3}), time(21), time(7)),  # school nights
        Window(frozenset({4, 5}), time(23), time(9)),  # weekend nights
        Window(WEEKDAYS, time(7), time(8)),  # joins the school nights to the morning
    )
    union = WindowSet.of(windows)
    monday_evening = datetime(2026, 11, 30, 20, tzinfo=ALMATY)
    # Monday 21:00 to Tuesday 08:00 is one stretch: 07:00 is no change.
    assert union.next_change(monday_evening, ALMATY) == utc(2026, 11, 30, 16)
    assert union.next_change(utc(2026, 11, 30, 16), ALMATY) == utc(2026, 12, 1, 3)
    # Across the week's end: Sunday 21:00 runs on into Monday 08:00.
    sunday = datetime(2026, 11, 29, 21, tzinfo=ALMATY)
    assert union.next_change(sunday, ALMATY) == utc(2026, 11, 30, 3)
    for hour in range(24 * 7):
        local = datetime(2026, 11, 30, tzinfo=ALMATY) + timedelta(hours=hour, minutes=30)
        assert union.contains(local) == any(w.contains(local) for w in windows)


def test_a_bedtime_across_berlins_spring_change() -> None:
    # Clocks go from 02:00 to 03:00 on Sunday 29 March 2026: that night lasts an hour less.
    saturday_evening = utc(2026, 3, 28, 18)
    assert NIGHTS.next_change(saturday_evening, BERLIN) == utc(2026, 3, 28, 20)  # 21:00 CET
    assert NIGHTS.next_change(utc(2026, 3, 28, 20), BERLIN) == utc(2026, 3, 29, 5)  # 07:00 CEST


def test_a_bedtime_across_berlins_autumn_change() -> None:
    # Clocks go from 03:00 back to 02:00 on Sunday 25 October 2026: that night lasts an hour more.
    assert NIGHTS.next_change(utc(2026, 10, 24, 19), BERLIN) == utc(2026, 10, 25, 6)  # 07:00 CET


def test_a_start_the_clocks_skip_opens_at_the_jump() -> None:
    early = Window(frozenset({6}), time(2, 30), time(4))
    # At 01:00 UTC the clocks go from 02:00 to 03:00, past 02:30: the window is open from then.
    opens = early.next_change(utc(2026, 3, 28, 12), BERLIN)
    assert opens == utc(2026, 3, 29, 1)
    assert early.contains(opens.astimezone(BERLIN))
    assert not early.contains((opens - US).astimezone(BERLIN))
    # local_instant reads the skipped 02:30 with the winter offset: 03:30 summer time.
    assert local_instant(date(2026, 3, 29), time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 30)
    assert early.next_change(opens, BERLIN) == utc(2026, 3, 29, 2)  # 04:00 CEST


def test_an_end_in_the_repeated_hour_is_crossed_twice() -> None:
    late = Window(frozenset({5}), time(22), time(2, 30))  # Saturday night to 02:30
    first = late.next_change(utc(2026, 10, 24, 20), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    again = late.next_change(first, BERLIN)
    assert again == utc(2026, 10, 25, 1)  # the clocks fall back to 02:00 CET
    assert late.next_change(again, BERLIN) == utc(2026, 10, 25, 1, 30)  # 02:30 CET


def test_almaty_changed_its_offset_once_in_2024_and_keeps_it() -> None:
    # On 1 March 2024 at 00:00 (UTC+6) the clocks went back to 23:00 (UTC+5): the last half
    # hour of Thursday 29 February happened twice.
    late = Window(frozenset({3}), time(23, 15), time(23, 45))
    changes = [utc(2024, 2, 29, 17)]
    for _ in range(4):
        following = late.next_change(changes[-1], ALMATY)
        assert following is not None
        changes.append(following)
    assert changes[1:] == [
        utc(2024, 2, 29, 17, 15),
        utc(2024, 2, 29, 17, 45),
        utc(2024, 2, 29, 18, 15),
        utc(2024, 2, 29, 18, 45),
    ]
    # Since then every day of the year is 24 hours of UTC+5.
    school = Window(WEEKDAYS, time(8), time(14))
    at = utc(2026, 3, 27, 10)  # a Friday, after school in Almaty
    assert school.next_change(at, ALMATY) == utc(2026, 3, 30, 3)  # Monday 08:00 UTC+5
    assert day_start(date(2026, 3, 30), ALMATY) - day_start(date(2026, 3, 29), ALMATY) == (
        timedelta(days=1)
    )


@pytest.mark.parametrize(
    ("day", "zone", "start", "hours"),
    [
        (date(2026, 3, 29), BERLIN, utc(2026, 3, 28, 23), 23),
        (date(2026, 10, 25), BERLIN, utc(2026, 10, 24, 22), 25),
        (date(2026, 11, 27), BERLIN, utc(2026, 11, 26, 23), 24),
        (date(2024, 2, 29), ALMATY, utc(2024, 2, 28, 18), 25),
        (date(2026, 3, 29), ALMATY, utc(2026, 3, 28, 19), 24),
        # Havana jumps from 00:00 to 01:00: the day begins at the jump, 23 hours long.
        (date(2024, 3, 10), ZoneInfo("America/Havana"), utc(2024, 3, 10, 5), 23),
    ],
)
def test_day_start_and_the_length_of_a_day(
    day: date, zone: ZoneInfo, start: datetime, hours: int
) -> None:
    assert day_start(day, zone) == start
    assert day_start(day + timedelta(days=1), zone) - start == timedelta(hours=hours)
    assert start.astimezone(zone).date() == day
    assert (start - US).astimezone(zone).date() == day - timedelta(days=1)


def _checkpoints(
    windows: tuple[Window, ...], lo: datetime, hi: datetime, zone: ZoneInfo
) -> list[datetime]:
    """Instants in ``(lo, hi)`` where containment could change, each with its neighbours: every
    wall-clock boundary of the windows read with both folds, and every half hour of UTC (where
    the zones' clocks change)."""
    points: set[datetime] = set()
    boundaries = {time(0)} | {w.start for w in windows} | {w.end for w in windows}
    first = lo.astimezone(zone).date() - timedelta(days=1)
    for offset in range((hi - lo).days + 3):
        for at in boundaries:
            for fold in (0, 1):
                local = datetime.combine(first + timedelta(days=offset), at, tzinfo=zone)
                points.add(local.replace(fold=fold).astimezone(UTC))
    grid = lo.replace(minute=0, second=0, microsecond=0)
    while grid < hi:
        points.add(grid)
        grid += timedelta(minutes=30)
    return sorted(p + d for p in points for d in (-US, timedelta(0)) if lo < p + d < hi)


# Times near the clock changes of ZONES, to make windows that meet them.
clock_times = st.one_of(
    st.times(),
    st.sampled_from([time(0), time(0, 30), time(1, 30), time(2), time(2, 30), time(3)]),
)
windows_st = st.builds(
    Window, st.frozensets(st.integers(0, 6), min_size=1), clock_times, clock_times
)
# Clock changes of ZONES (UTC): Berlin, New York, Lord Howe, Havana, Almaty's last.
CLOCK_CHANGES = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15, 30),
    utc(2024, 3, 10, 5),
    utc(2024, 11, 3, 5),
    utc(2024, 2, 29, 18),
]
instants = st.one_of(
    st.datetimes(
        min_value=datetime(2023, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.builds(
        lambda change, delta: change + delta,
        st.sampled_from(CLOCK_CHANGES),
        st.timedeltas(-timedelta(days=8), timedelta(days=1)),
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(windows_st, min_size=1, max_size=3).map(tuple), instants, st.sampled_from(ZONES))
def test_next_change_is_the_first_change(
    windows: tuple[Window, ...], after: datetime, zone: ZoneInfo
) -> None:
    union = WindowSet.of(windows)

    def inside(at: datetime) -> bool:
        local = at.astimezone(zone)
        answer = any(w.contains(local) for w in windows)
        assert union.contains(local) == answer
        return answer

    state = inside(after)
    change = union.next_change(after, zone)
    if len(windows) == 1:
        assert windows[0].next_change(after, zone) == change
    if change is None:
        assert all(
            inside(p) == state
            for p in _checkpoints(windows, after, after + timedelta(days=8), zone)
        )
        return
    assert after < change <= after + timedelta(days=7, hours=3)
    assert inside(change) != state
    assert all(inside(p) == state for p in _checkpoints(windows, after, change, zone))
