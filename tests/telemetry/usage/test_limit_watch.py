"""The minutes left of each limit and which ran out between two counts (pure)."""

from __future__ import annotations

from datetime import date

from telemetry.usage.policy import Category, DailyLimit, ExtraTime, Policy, Usage
from telemetry.usage.reports.limit_watch import Left, LimitKey, limits_left, ran_out

WEDNESDAY = date(2026, 11, 25)
GAME, CHAT, PHONE = "com.example.game", "org.example.chat", "com.android.dialer"
APP_GAME = LimitKey("app", GAME)
GAMES = LimitKey("category", "games")
TOTAL = LimitKey("total", "")

POLICY = Policy(
    app_limits={
        GAME: DailyLimit.every_day(30),
        CHAT: DailyLimit.by_weekday({2: None}, otherwise=20),  # none on Wednesdays
        PHONE: DailyLimit.every_day(0),  # always allowed: no limit governs it
    },
    category_limits={Category.GAMES: DailyLimit.every_day(60)},
    total_limit=DailyLimit.by_weekday({2: 120}),
    always_allowed=frozenset({PHONE}),
    extra_time=(
        ExtraTime(day=WEDNESDAY, minutes=10, app=GAME),
        ExtraTime(day=WEDNESDAY, minutes=15, category=Category.GAMES),
        ExtraTime(day=date(2026, 11, 24), minutes=99, app=GAME),  # another day's
    ),
)


def usage(game: float = 0.0, games: float = 0.0, total: float = 0.0) -> Usage:
    return Usage(day=WEDNESDAY, apps={GAME: game}, categories={Category.GAMES: games}, total=total)


def test_each_limit_of_the_day_with_its_grants() -> None:
    assert limits_left(POLICY, usage(25, 50, 100)) == {
        APP_GAME: Left(40, 15.0),
        GAMES: Left(75, 25.0),
        TOTAL: Left(120, 20.0),
    }


def test_a_day_without_the_total_limit() -> None:
    thursday = Usage(day=date(2026, 11, 26), apps={CHAT: 5.0}, total=500.0)
    assert limits_left(POLICY, thursday) == {
        APP_GAME: Left(30, 30.0),
        LimitKey("app", CHAT): Left(20, 15.0),
        GAMES: Left(60, 60.0),
    }


def test_only_limits_going_from_some_left_to_none_ran_out() -> None:
    before = limits_left(POLICY, usage(39, 74, 100))
    after = limits_left(POLICY, usage(41, 75, 119))
    assert ran_out(before, after) == [APP_GAME, GAMES]
    assert ran_out(after, limits_left(POLICY, usage(50, 80, 130))) == [TOTAL]  # the others: out
    assert ran_out(before, before) == []


def test_a_grant_to_the_total_lifts_the_total_limit() -> None:
    """A task's reward for the total: 60 + 30 minutes, 65 used, 25 left (as the evaluator says)."""
    policy = Policy(
        total_limit=DailyLimit.every_day(60),
        extra_time=(
            ExtraTime(day=WEDNESDAY, minutes=30, total=True),
            ExtraTime(day=date(2026, 11, 24), minutes=99, total=True),  # another day's
        ),
    )
    assert limits_left(policy, usage(total=65)) == {TOTAL: Left(90, 25.0)}
    assert ran_out(limits_left(policy, usage(total=55)), limits_left(policy, usage(total=65))) == []
    assert ran_out(limits_left(policy, usage(total=85)), limits_left(policy, usage(total=90))) == [
        TOTAL
    ]
