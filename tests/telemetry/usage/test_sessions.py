"""Counting minutes of use from reported sessions, rule by rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from telemetry.usage.evaluate import Reason, evaluate
from telemetry.usage.policy import Category, DailyLimit, Policy, Usage
from telemetry.usage.sessions import (
    MAX_SESSION,
    ForegroundSession,
    Interval,
    ScreenSession,
    cut_by_local_day,
    daily_usage,
    day_bounds,
    merge,
    merge_by_app,
)

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5, no clock changes
BERLIN = ZoneInfo("Europe/Berlin")  # 2026: forward on 29 March, back on 25 October
SANTIAGO = ZoneInfo("America/Santiago")  # 2026: midnight skipped on 6 September
APIA = ZoneInfo("Pacific/Apia")  # 2011-12-30 skipped entirely
FRIDAY = date(2026, 11, 27)
CATEGORIES = {
    "com.zhiliaoapp.musically": Category.SOCIAL,
    "com.instagram.android": Category.SOCIAL,
    "com.mojang.minecraftpe": Category.GAMES,
}
TIKTOK, INSTAGRAM, MINECRAFT = CATEGORIES
UNKNOWN = "org.example.unknown"


def almaty(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant on the wall clock of Almaty, in November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ALMATY)


def fg(app: str, start: datetime, end: datetime) -> ForegroundSession:
    return ForegroundSession(app, start, end)


def usage(
    foreground: list[ForegroundSession],
    screen: list[ScreenSession] = [],  # noqa: B006 - never mutated
    day: date = FRIDAY,
    zone: ZoneInfo = ALMATY,
) -> Usage:
    return daily_usage(foreground, screen, day=day, zone=zone, categories=CATEGORIES)


def minutes(pieces: dict[date, list[Interval]]) -> dict[date, float]:
    return {
        day: sum((p.length for p in parts), timedelta()) / timedelta(minutes=1)
        for day, parts in pieces.items()
    }


# Validation


def test_instants_are_kept_in_utc() -> None:
    interval = Interval(almaty(27, 10), almaty(27, 11))
    assert interval.start == datetime(2026, 11, 27, 5, tzinfo=UTC)
    assert interval.start.tzinfo is UTC
    assert interval.end.tzinfo is UTC
    assert fg(TIKTOK, almaty(27, 10), almaty(27, 11)).start.tzinfo is UTC
    assert ScreenSession(almaty(27, 10), almaty(27, 11)).end.tzinfo is UTC
    assert interval.length == timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 11, 27, 10), almaty(27, 11), "start must be timezone-aware"),  # noqa: DTZ001
        (almaty(27, 10), datetime(2026, 11, 27, 11), "end must be timezone-aware"),  # noqa: DTZ001
        (almaty(27, 11), almaty(27, 10), "start must be before end"),
        (almaty(27, 10), almaty(27, 10), "start must be before end"),
        (date(2026, 11, 27), almaty(27, 10), "start must be a datetime"),
    ],
)
def test_spans_are_aware_and_start_first(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Interval(start, end)
    with pytest.raises(ValueError, match=message):
        ScreenSession(start, end)
    with pytest.raises(ValueError, match=message):
        fg(TIKTOK, start, end)


def test_a_session_lasts_at_most_a_day() -> None:
    start = almaty(27, 10)
    assert ScreenSession(start, start + MAX_SESSION).interval.length == timedelta(hours=24)
    assert fg(TIKTOK, start, start + MAX_SESSION).interval.length == timedelta(hours=24)
    too_long = start + MAX_SESSION + timedelta(microseconds=1)
    with pytest.raises(ValueError, match="at most 24 hours"):
        ScreenSession(start, too_long)
    with pytest.raises(ValueError, match="at most 24 hours"):
        fg(TIKTOK, start, too_long)
    assert Interval(start, too_long).length > MAX_SESSION  # a union may be longer


@pytest.mark.parametrize("app", ["", "a" * 256, " ", "com.example app", "com.example\n", "\x00"])
def test_an_app_is_a_package_or_bundle_id(app: str) -> None:
    with pytest.raises(ValueError, match="package or bundle id"):
        fg(app, almaty(27, 10), almaty(27, 11))


def test_app_ids_up_to_255_characters() -> None:
    assert fg("a" * 255, almaty(27, 10), almaty(27, 11)).app == "a" * 255
    assert fg("com.apple.MobileSMS", almaty(27, 10), almaty(27, 11)).app == "com.apple.MobileSMS"


# Merging


def test_merge_of_nothing_is_nothing() -> None:
    assert merge([]) == []


def test_merge_counts_duplicates_once() -> None:
    one = Interval(almaty(27, 10), almaty(27, 11))
    assert merge([one, one, Interval(almaty(27, 10), almaty(27, 11))]) == [one]


def test_merge_joins_overlapping_contained_and_touching_intervals() -> None:
    merged = merge(
        [
            Interval(almaty(27, 10), almaty(27, 11)),
            Interval(almaty(27, 10, 30), almaty(27, 12)),  # overlaps
            Interval(almaty(27, 10, 40), almaty(27, 10, 50)),  # inside
            Interval(almaty(27, 12), almaty(27, 13)),  # touches
        ]
    )
    assert merged == [Interval(almaty(27, 10), almaty(27, 13))]


def test_merge_sorts_and_keeps_gaps() -> None:
    late = Interval(almaty(27, 15), almaty(27, 16))
    early = Interval(almaty(27, 9), almaty(27, 10))
    middle = Interval(almaty(27, 10, 1), almaty(27, 11))
    assert merge([late, middle, early]) == [early, middle, late]


def test_merge_by_app_keeps_apps_apart() -> None:
    merged = merge_by_app(
        [
            fg(TIKTOK, almaty(27, 10), almaty(27, 11)),
            fg(INSTAGRAM, almaty(27, 10), almaty(27, 11)),
            fg(TIKTOK, almaty(27, 10, 30), almaty(27, 11, 30)),
            fg(TIKTOK, almaty(27, 10), almaty(27, 11)),
        ]
    )
    assert merged == {
        TIKTOK: [Interval(almaty(27, 10), almaty(27, 11, 30))],
        INSTAGRAM: [Interval(almaty(27, 10), almaty(27, 11))],
    }


# Cutting at local midnight


def test_a_session_across_midnight_counts_on_both_dates() -> None:
    pieces = cut_by_local_day([Interval(almaty(27, 23, 30), almaty(28, 0, 30))], ALMATY)
    assert pieces == {
        date(2026, 11, 27): [Interval(almaty(27, 23, 30), almaty(28, 0))],
        date(2026, 11, 28): [Interval(almaty(28, 0), almaty(28, 0, 30))],
    }


def test_a_session_ending_at_midnight_adds_nothing_to_the_next_date() -> None:
    pieces = cut_by_local_day([Interval(almaty(27, 23), almaty(28, 0))], ALMATY)
    assert minutes(pieces) == {date(2026, 11, 27): 60.0}


def test_a_long_interval_is_cut_on_every_date_it_crosses() -> None:
    pieces = cut_by_local_day([Interval(almaty(26, 22), almaty(29, 1))], ALMATY)
    assert minutes(pieces) == {
        date(2026, 11, 26): 120.0,
        date(2026, 11, 27): 1440.0,
        date(2026, 11, 28): 1440.0,
        date(2026, 11, 29): 60.0,
    }


def test_pieces_are_grouped_by_date_in_order() -> None:
    later = Interval(almaty(28, 9), almaty(28, 10))
    earlier = Interval(almaty(27, 9), almaty(27, 10))
    same_day = Interval(almaty(27, 8), almaty(27, 8, 30))
    pieces = cut_by_local_day([later, earlier, same_day], ALMATY)
    assert list(pieces) == [date(2026, 11, 27), date(2026, 11, 28)]
    assert pieces[date(2026, 11, 27)] == [same_day, earlier]


def test_the_spring_forward_date_lasts_23_hours() -> None:
    start, end = day_bounds(date(2026, 3, 29), BERLIN)
    assert end - start == timedelta(hours=23)
    # 23:00 on Saturday to 04:00 on Sunday by the wall clock: four hours, not five.
    session = Interval(
        datetime(2026, 3, 28, 23, tzinfo=BERLIN), datetime(2026, 3, 29, 4, tzinfo=BERLIN)
    )
    assert session.length == timedelta(hours=4)
    assert minutes(cut_by_local_day([session], BERLIN)) == {
        date(2026, 3, 28): 60.0,
        date(2026, 3, 29): 180.0,
    }


def test_the_fall_back_date_lasts_25_hours() -> None:
    start, end = day_bounds(date(2026, 10, 25), BERLIN)
    assert end - start == timedelta(hours=25)
    # 22:00 on Saturday to 04:00 on Sunday by the wall clock: seven hours, not six.
    session = Interval(
        datetime(2026, 10, 24, 22, tzinfo=BERLIN), datetime(2026, 10, 25, 4, tzinfo=BERLIN)
    )
    assert session.length == timedelta(hours=7)
    assert minutes(cut_by_local_day([session], BERLIN)) == {
        date(2026, 10, 24): 120.0,
        date(2026, 10, 25): 300.0,
    }


def test_a_date_whose_midnight_is_skipped_starts_at_the_jump() -> None:
    # Santiago, 6 September 2026: at midnight the clocks go from -04 to -03, to 01:00.
    start, end = day_bounds(date(2026, 9, 6), SANTIAGO)
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
    assert start.astimezone(SANTIAGO).hour == 1
    session = Interval(datetime(2026, 9, 6, 3, tzinfo=UTC), datetime(2026, 9, 6, 5, tzinfo=UTC))
    assert minutes(cut_by_local_day([session], SANTIAGO)) == {
        date(2026, 9, 5): 60.0,
        date(2026, 9, 6): 60.0,
    }


def test_a_date_the_zone_skipped_gets_nothing() -> None:
    # Samoa went from 29 December 2011 straight to the 31st.
    start, end = day_bounds(date(2011, 12, 30), APIA)
    assert start == end
    session = Interval(
        datetime(2011, 12, 30, 9, tzinfo=UTC), datetime(2011, 12, 30, 11, tzinfo=UTC)
    )
    assert minutes(cut_by_local_day([session], APIA)) == {
        date(2011, 12, 29): 60.0,
        date(2011, 12, 31): 60.0,
    }


# Daily usage


def test_minutes_per_app_category_and_in_total() -> None:
    counted = usage(
        [
            fg(TIKTOK, almaty(27, 10), almaty(27, 10, 30)),
            fg(MINECRAFT, almaty(27, 11), almaty(27, 11, 45)),
        ],
        [ScreenSession(almaty(27, 9, 55), almaty(27, 11, 50))],
    )
    assert counted == Usage(
        FRIDAY,
        apps={TIKTOK: 30.0, MINECRAFT: 45.0},
        categories={Category.SOCIAL: 30.0, Category.GAMES: 45.0},
        total=115.0,
    )


def test_minutes_are_not_rounded() -> None:
    start = almaty(27, 10)
    counted = usage([fg(TIKTOK, start, start + timedelta(seconds=90, microseconds=6))])
    assert counted.apps[TIKTOK] == 90.000006 / 60


def test_a_batch_sent_twice_counts_once() -> None:
    batch = [
        fg(TIKTOK, almaty(27, 10), almaty(27, 10, 30)),
        fg(MINECRAFT, almaty(27, 11), almaty(27, 11, 45)),
    ]
    screen = [ScreenSession(almaty(27, 9, 55), almaty(27, 11, 50))]
    assert usage(batch + batch, screen + screen) == usage(batch, screen)


def test_overlapping_sessions_of_an_app_count_once() -> None:
    counted = usage(
        [
            fg(TIKTOK, almaty(27, 10), almaty(27, 10, 30)),
            fg(TIKTOK, almaty(27, 10, 20), almaty(27, 10, 40)),
        ]
    )
    assert counted.apps == {TIKTOK: 40.0}
    assert counted.total == 40.0


def test_the_order_sessions_arrive_in_does_not_matter() -> None:
    sessions = [
        fg(TIKTOK, almaty(27, 10), almaty(27, 10, 30)),
        fg(TIKTOK, almaty(27, 10, 20), almaty(27, 10, 40)),
        fg(MINECRAFT, almaty(27, 8), almaty(27, 9)),
    ]
    assert usage(sessions[::-1]) == usage(sessions)


def test_a_late_session_counts_on_the_date_it_happened() -> None:
    thursday = [fg(TIKTOK, almaty(26, 20), almaty(26, 21))]
    friday = [fg(TIKTOK, almaty(27, 10), almaty(27, 10, 30))]
    # Thursday's session arrives on Friday: Friday's count is unchanged, Thursday's gets it.
    assert usage(friday + thursday) == usage(friday)
    assert usage(friday + thursday, day=date(2026, 11, 26)).apps == {TIKTOK: 60.0}


def test_two_apps_of_a_category_at_once_count_once_for_the_category() -> None:
    counted = usage(
        [
            fg(TIKTOK, almaty(27, 10), almaty(27, 11)),
            fg(INSTAGRAM, almaty(27, 10, 30), almaty(27, 11, 30)),  # split screen
        ]
    )
    assert counted.apps == {TIKTOK: 60.0, INSTAGRAM: 60.0}
    assert counted.categories == {Category.SOCIAL: 90.0}
    assert counted.total == 90.0


def test_apps_of_different_categories_at_once_count_once_in_total() -> None:
    counted = usage(
        [
            fg(TIKTOK, almaty(27, 10), almaty(27, 11)),
            fg(MINECRAFT, almaty(27, 10, 30), almaty(27, 11, 30)),
        ]
    )
    assert counted.categories == {Category.SOCIAL: 60.0, Category.GAMES: 60.0}
    assert counted.total == 90.0


def test_an_unknown_app_counts_as_other() -> None:
    counted = usage([fg(UNKNOWN, almaty(27, 10), almaty(27, 10, 30))])
    assert counted.categories == {Category.OTHER: 30.0}
    chosen = daily_usage(
        [fg(UNKNOWN, almaty(27, 10), almaty(27, 10, 30))],
        [],
        day=FRIDAY,
        zone=ALMATY,
        categories={},
        default=Category.GAMES,
    )
    assert chosen.categories == {Category.GAMES: 30.0}


def test_screen_on_time_without_an_app_counts_in_total() -> None:
    counted = usage([], [ScreenSession(almaty(27, 10), almaty(27, 10, 5))])
    assert counted == Usage(FRIDAY, total=5.0)


def test_an_app_counts_in_total_without_its_screen_session() -> None:
    counted = usage(
        [fg(TIKTOK, almaty(27, 10), almaty(27, 11))],
        [ScreenSession(almaty(27, 10, 30), almaty(27, 12))],
    )
    assert counted.total == 120.0


def test_daily_usage_cuts_at_local_midnight() -> None:
    sessions = [fg(TIKTOK, almaty(26, 23, 30), almaty(27, 0, 30))]
    screen = [ScreenSession(almaty(27, 23, 50), almaty(28, 0, 10))]
    assert usage(sessions, screen) == Usage(
        FRIDAY, apps={TIKTOK: 30.0}, categories={Category.SOCIAL: 30.0}, total=40.0
    )
    assert usage(sessions, screen, day=date(2026, 11, 26)).total == 30.0
    assert usage(sessions, screen, day=date(2026, 11, 28)).total == 10.0


def test_no_sessions_on_the_date_is_no_use() -> None:
    assert usage([fg(TIKTOK, almaty(25, 10), almaty(25, 11))]) == Usage(FRIDAY)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_the_screen_on_all_day_long_on_a_clock_change(day: date, hours: int) -> None:
    start, end = day_bounds(day, BERLIN)
    screen = [ScreenSession(start - timedelta(hours=1), start + timedelta(hours=20))]
    screen.append(ScreenSession(start + timedelta(hours=20), end + timedelta(hours=3)))
    middle = start + timedelta(hours=12)  # a 25-hour date is longer than a session may be
    apps = [fg(TIKTOK, start, middle), fg(TIKTOK, middle, end)]
    counted = usage(apps, screen, day=day, zone=BERLIN)
    assert counted.total == counted.apps[TIKTOK] == hours * 60.0


def test_the_counted_usage_feeds_the_evaluator() -> None:
    policy = Policy(category_limits={Category.SOCIAL: DailyLimit.every_day(60)})
    counted = usage(
        [
            fg(TIKTOK, almaty(27, 10), almaty(27, 10, 45)),
            fg(INSTAGRAM, almaty(27, 10, 30), almaty(27, 11)),
            fg(INSTAGRAM, almaty(27, 10, 30), almaty(27, 11)),  # sent again
        ]
    )
    decision = evaluate(policy, counted, at=almaty(27, 11), zone=ALMATY, apps=CATEGORIES)
    assert decision.apps[TIKTOK].reason is Reason.CATEGORY_LIMIT
    assert decision.apps[MINECRAFT].allowed
