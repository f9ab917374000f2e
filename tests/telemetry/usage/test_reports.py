"""The pure aggregation of a period of local dates against the one before: unions per app,
category and total, cut at each local midnight (23 and 25 hour dates included), the daily
series, the changes and the most used apps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from telemetry.usage.policy import Category
from telemetry.usage.reports.aggregate import (
    DayTotals,
    TopApp,
    change_percent,
    period_days,
    report,
    span,
    top_apps,
)
from telemetry.usage.sessions import ForegroundSession, ScreenSession

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5, no daylight saving
BERLIN = ZoneInfo("Europe/Berlin")
GAME, CHAT, VIDEO = "com.example.game", "org.example.chat", "org.example.video"
CATEGORIES = {GAME: Category.GAMES, CHAT: Category.MESSAGING, VIDEO: Category.VIDEO}
SUNDAY = date(2026, 11, 29)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = ALMATY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def fg(app: str, start: datetime, minutes: float) -> ForegroundSession:
    return ForegroundSession(app, start, start + timedelta(minutes=minutes))


def on(start: datetime, minutes: float) -> ScreenSession:
    return ScreenSession(start, start + timedelta(minutes=minutes))


def test_periods_are_the_last_days_ending_with_the_last_day_and_as_many_before() -> None:
    assert period_days(SUNDAY, 7) == (date(2026, 11, 23), date(2026, 11, 16))
    assert period_days(SUNDAY, 1) == (SUNDAY, date(2026, 11, 28))
    assert span(SUNDAY, 7, ALMATY) == (
        datetime(2026, 11, 15, 19, tzinfo=UTC),  # Monday the 16th, 00:00 in Almaty
        datetime(2026, 11, 29, 19, tzinfo=UTC),  # Monday the 30th
    )
    with pytest.raises(ValueError, match="at least one date"):
        period_days(SUNDAY, 0)


def test_minutes_per_app_category_and_total_against_the_previous_period() -> None:
    monday, last_week = date(2026, 11, 23), date(2026, 11, 18)
    result = report(
        [
            fg(GAME, at(monday, 10), 30),
            fg(GAME, at(monday, 10, 20), 30),  # overlaps the first: 50 minutes in all
            fg(CHAT, at(SUNDAY, 20), 15),
            fg(GAME, at(last_week, 9), 100),
            fg(VIDEO, at(last_week, 12), 20),
        ],
        [on(at(monday, 9, 50), 30), on(at(last_week, 8), 10)],
        last_day=SUNDAY,
        days=7,
        zone=ALMATY,
        categories=CATEGORIES,
    )
    now, before = result.current, result.previous
    assert (now.first_day, now.last_day) == (monday, SUNDAY)
    assert (before.first_day, before.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    assert now.apps == {GAME: 50.0, CHAT: 15.0}
    assert now.categories == {Category.GAMES: 50.0, Category.MESSAGING: 15.0}
    assert now.total == 60.0 + 15.0  # 09:50 to 10:50 on the screen or in the game, the chat
    assert before.apps == {GAME: 100.0, VIDEO: 20.0}
    assert before.total == 130.0
    assert [d.total for d in now.daily] == [60.0, 0.0, 0.0, 0.0, 0.0, 0.0, 15.0]
    assert now.daily[0] == DayTotals(monday, 60.0, {Category.GAMES: 50.0})
    assert [d.day for d in before.daily] == [date(2026, 11, 16) + timedelta(n) for n in range(7)]
    assert before.daily[2] == DayTotals(
        last_week, 130.0, {Category.GAMES: 100.0, Category.VIDEO: 20.0}
    )
    assert change_percent(now.total, before.total) == pytest.approx((75 - 130) / 130 * 100)


def test_two_apps_of_a_category_at_once_count_once_for_it_and_fully_for_each() -> None:
    result = report(
        [fg(GAME, at(SUNDAY, 10), 60), fg("com.example.puzzle", at(SUNDAY, 10, 30), 60)],
        [],
        last_day=SUNDAY,
        days=1,
        zone=ALMATY,
        categories={GAME: Category.GAMES, "com.example.puzzle": Category.GAMES},
    )
    assert result.current.apps == {GAME: 60.0, "com.example.puzzle": 60.0}
    assert result.current.categories == {Category.GAMES: 90.0}
    assert result.current.total == 90.0
    assert [t.share for t in result.top_apps] == [0.5, 0.5]


def test_an_app_the_categories_do_not_name_is_other() -> None:
    result = report(
        [fg("com.unknown", at(SUNDAY, 10), 5)],
        [],
        last_day=SUNDAY,
        days=7,
        zone=ALMATY,
        categories={},
    )
    assert result.current.categories == {Category.OTHER: 5.0}


def test_sessions_across_midnight_and_across_the_periods_are_cut_where_the_dates_change() -> None:
    first_monday = date(2026, 11, 23)
    result = report(
        [
            fg(GAME, at(first_monday, 0) - timedelta(minutes=20), 50),  # 20 before, 30 in
            fg(CHAT, at(SUNDAY, 23, 40), 45),  # 20 on Sunday, 25 on a Monday out of both
            fg(VIDEO, at(date(2026, 11, 16), 0) - timedelta(minutes=5), 10),  # 5 in, 5 before
        ],
        [],
        last_day=SUNDAY,
        days=7,
        zone=ALMATY,
        categories=CATEGORIES,
    )
    assert result.current.apps == {GAME: 30.0, CHAT: 20.0}
    assert result.previous.apps == {GAME: 20.0, VIDEO: 5.0}
    assert result.current.daily[0].total == 30.0
    assert result.previous.daily[-1].total == 20.0
    assert result.current.daily[-1].total == 20.0
    assert result.previous.daily[0].total == 5.0


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 10, 24), 24)],
)
def test_a_date_the_clocks_change_on_in_berlin_holds_what_it_lasts(day: date, hours: int) -> None:
    midnight = at(day, 0, zone=BERLIN)
    next_midnight = at(day + timedelta(days=1), 0, zone=BERLIN)
    noon = midnight + timedelta(hours=12)
    screen = [
        ScreenSession(midnight - timedelta(hours=1), noon),  # an hour of the day before
        ScreenSession(noon, next_midnight + timedelta(minutes=30)),  # 30 minutes of the next
    ]
    result = report([], screen, last_day=day, days=1, zone=BERLIN, categories={})
    assert result.current.total == hours * 60
    assert result.previous.total == 60.0
    assert [d.total for d in result.current.daily] == [hours * 60]


def test_a_week_across_the_autumn_change_in_berlin() -> None:
    sunday = date(2026, 10, 25)  # the clocks go back from 03:00 to 02:00: 25 hours
    screen = [on(at(sunday - timedelta(days=n), 0, zone=BERLIN), 20 * 60) for n in range(7)]
    result = report([], screen, last_day=sunday, days=7, zone=BERLIN, categories={})
    assert [d.total for d in result.current.daily] == [20 * 60.0] * 7
    # 20 hours from midnight end at 19:00 on the Sunday; 19:00 to 01:00 adds 5 hours to it.
    screen.append(on(at(sunday, 19, zone=BERLIN), 6 * 60))
    result = report([], screen, last_day=sunday, days=7, zone=BERLIN, categories={})
    assert result.current.daily[-1].total == 25 * 60.0
    assert result.current.total == (6 * 20 + 25) * 60.0


def test_empty_periods() -> None:
    result = report([], [], last_day=SUNDAY, days=30, zone=ALMATY, categories={})
    for period in (result.current, result.previous):
        assert (period.total, dict(period.apps), dict(period.categories)) == (0.0, {}, {})
        assert len(period.daily) == 30
        assert all(d.total == 0.0 and not d.categories for d in period.daily)
    assert result.top_apps == ()
    assert change_percent(0.0, 0.0) is None
    assert change_percent(30.0, 0.0) is None


def test_sessions_off_both_periods_are_ignored() -> None:
    result = report(
        [fg(GAME, at(date(2026, 11, 15), 12), 30), fg(GAME, at(date(2026, 11, 30), 12), 30)],
        [on(at(date(2026, 11, 1), 12), 30)],
        last_day=SUNDAY,
        days=7,
        zone=ALMATY,
        categories=CATEGORIES,
    )
    assert (result.current.total, result.previous.total) == (0.0, 0.0)
    assert result.current.apps == {} == result.previous.apps


def test_the_top_ten_apps_with_their_share_of_app_time() -> None:
    apps = [f"com.example.app{n:02}" for n in range(12)]
    sessions = [
        fg(app, at(SUNDAY, 0) + timedelta(hours=n), 10 + 5 * n) for n, app in enumerate(apps)
    ]
    sessions.append(fg("com.example.tie", at(SUNDAY, 23) - timedelta(minutes=5), 10))
    result = report(sessions, [], last_day=SUNDAY, days=7, zone=ALMATY, categories={})
    app_time = sum(10 + 5 * n for n in range(12)) + 10
    assert result.top_apps == tuple(
        TopApp(apps[n], 10 + 5 * n, (10 + 5 * n) / app_time) for n in range(11, 1, -1)
    )
    ranked = top_apps(result.current, top=13)
    assert [t.app for t in ranked[-3:]] == [apps[1], apps[0], "com.example.tie"]  # ties by id
    assert sum(t.share for t in ranked) == pytest.approx(1.0)


def test_the_previous_period_counts_its_own_apps() -> None:
    result = report(
        [fg(VIDEO, at(date(2026, 11, 20), 12), 45)],
        [],
        last_day=SUNDAY,
        days=7,
        zone=ALMATY,
        categories=CATEGORIES,
    )
    assert result.current.apps == {}
    assert result.previous.apps == {VIDEO: 45.0}
    assert result.top_apps == ()  # of the period only
