"""The screen-time evaluator, rule by rule, and the order in which the rules win."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from parental.kit.weekly import Window
from telemetry.usage.evaluate import (
    AppDecision,
    Decision,
    Reason,
    compile_policy,
    evaluate,
)
from telemetry.usage.policy import Category, DailyLimit, ExtraTime, Policy, Usage

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5, no clock changes
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY = date(2026, 11, 27)
SATURDAY = date(2026, 11, 28)
FRIDAY_NOON = datetime(2026, 11, 27, 12, tzinfo=ALMATY)  # 07:00 UTC
FRIDAY_MIDNIGHT = datetime(2026, 11, 28, tzinfo=ALMATY).astimezone(UTC)  # 19:00 UTC
APPS = {
    "phone": Category.OTHER,
    "tiktok": Category.SOCIAL,
    "instagram": Category.SOCIAL,
    "minecraft": Category.GAMES,
    "roblox": Category.GAMES,
    "youtube": Category.VIDEO,
    "wikipedia": Category.EDUCATION,
}
NO_USAGE = Usage(FRIDAY)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def run(
    policy: Policy,
    usage: Usage = NO_USAGE,
    at: datetime = FRIDAY_NOON,
    zone: ZoneInfo = ALMATY,
) -> Decision:
    decision = evaluate(policy, usage, at=at, zone=zone, apps=APPS)
    assert evaluate(compile_policy(policy), usage, at=at, zone=zone, apps=APPS) == decision
    return decision


def used(day: date = FRIDAY, total: float = 0, **apps: float) -> Usage:
    """Usage of ``apps`` (minutes each), their categories' sums and ``total`` (at least the sum)."""
    categories: dict[Category, float] = {}
    for app, minutes in apps.items():
        categories[APPS[app]] = categories.get(APPS[app], 0) + minutes
    return Usage(day, apps, categories, max(total, sum(apps.values())))


def reasons(decision: Decision) -> dict[str, Reason]:
    return {app: d.reason for app, d in decision.apps.items()}


def test_without_rules_everything_is_allowed_until_midnight() -> None:
    decision = run(Policy())
    assert decision.day == FRIDAY
    assert decision.allowed == set(APPS)
    assert all(d == AppDecision(True, Reason.ALLOWED, None) for d in decision.apps.values())
    assert decision.categories == dict.fromkeys(Category)
    assert decision.total is None
    assert decision.next_change == FRIDAY_MIDNIGHT


def test_minutes_left_are_the_least_of_app_category_and_total() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30), "minecraft": DailyLimit.every_day(100)},
        category_limits={Category.SOCIAL: DailyLimit.every_day(45)},
        total_limit=DailyLimit.every_day(120),
    )
    decision = run(policy, used(tiktok=10, instagram=20, minecraft=30, total=70))
    left = {app: d.minutes_left for app, d in decision.apps.items()}
    assert left["tiktok"] == 15  # social: 45 - 30; its own 20 is more
    assert left["instagram"] == 15  # social
    assert left["minecraft"] == 50  # total: 120 - 70; its own 70 is more
    assert left["phone"] == 50  # every app counts against the total
    assert decision.categories[Category.SOCIAL] == 15
    assert decision.categories[Category.GAMES] == 50
    assert decision.total == 50
    assert decision.allowed == set(APPS)


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        (used(tiktok=30), Reason.APP_LIMIT),
        (used(tiktok=30, instagram=15), Reason.APP_LIMIT),  # app first, when all are spent
        (used(tiktok=20, instagram=25), Reason.CATEGORY_LIMIT),
        (used(tiktok=20, instagram=25, total=90), Reason.CATEGORY_LIMIT),
        (used(tiktok=10, total=90), Reason.TOTAL_LIMIT),
    ],
)
def test_a_spent_limit_stops_the_app(usage: Usage, reason: Reason) -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30)},
        category_limits={Category.SOCIAL: DailyLimit.every_day(45)},
        total_limit=DailyLimit.every_day(90),
    )
    decision = run(policy, usage)
    assert decision.apps["tiktok"] == AppDecision(False, reason, 0.0)


def test_usage_past_a_limit_leaves_zero_not_less() -> None:
    policy = Policy(total_limit=DailyLimit.every_day(60))
    decision = run(policy, used(youtube=75))
    assert decision.total == 0
    assert decision.apps["youtube"] == AppDecision(False, Reason.TOTAL_LIMIT, 0.0)
    assert decision.categories[Category.GAMES] == 0


def test_limits_differ_by_weekday() -> None:
    games = DailyLimit.by_weekday({4: 60, 5: 120, 6: 120}, otherwise=30)
    assert games.minutes == (30, 30, 30, 30, 60, 120, 120)
    policy = Policy(category_limits={Category.GAMES: games})
    friday = run(policy, used(minecraft=60))
    assert friday.apps["minecraft"].reason is Reason.CATEGORY_LIMIT
    saturday = run(policy, used(SATURDAY, minecraft=60), at=FRIDAY_NOON + timedelta(days=1))
    assert saturday.apps["minecraft"] == AppDecision(True, Reason.ALLOWED, 60.0)
    thursday = run(policy, used(FRIDAY - timedelta(days=1)), at=FRIDAY_NOON - timedelta(days=1))
    assert thursday.categories[Category.GAMES] == 30
    # No limit on a weekday: None that day.
    weekends_only = Policy(app_limits={"roblox": DailyLimit.by_weekday({5: 60, 6: 60})})
    assert run(weekends_only).apps["roblox"] == AppDecision(True, Reason.ALLOWED, None)


def test_a_zero_limit_stops_the_app_all_day() -> None:
    policy = Policy(app_limits={"roblox": DailyLimit.every_day(0)})
    assert run(policy).apps["roblox"] == AppDecision(False, Reason.APP_LIMIT, 0.0)


def test_blocked_apps_are_never_allowed() -> None:
    decision = run(Policy(blocked=frozenset({"roblox"})))
    assert decision.apps["roblox"] == AppDecision(False, Reason.BLOCKED, 0.0)
    assert decision.allowed == set(APPS) - {"roblox"}


def test_always_allowed_apps_beat_every_other_rule() -> None:
    policy = Policy(
        app_limits={"phone": DailyLimit.every_day(0)},
        category_limits={Category.OTHER: DailyLimit.every_day(0)},
        total_limit=DailyLimit.every_day(0),
        downtime=(Window(frozenset(range(7)), time(0), time(0)),),
        always_allowed=frozenset({"phone"}),
        blocked=frozenset({"phone"}),
        paused_until=FRIDAY_NOON + timedelta(hours=1),
    )
    decision = run(policy, used(phone=600))
    assert decision.apps["phone"] == AppDecision(True, Reason.ALWAYS_ALLOWED, None)
    assert decision.allowed == {"phone"}


def test_blocked_beats_pause_downtime_and_limits() -> None:
    policy = Policy(
        app_limits={"roblox": DailyLimit.every_day(0)},
        downtime=(Window(frozenset(range(7)), time(0), time(0)),),
        blocked=frozenset({"roblox"}),
        paused_until=FRIDAY_NOON + timedelta(hours=1),
    )
    assert run(policy).apps["roblox"].reason is Reason.BLOCKED


def test_pause_stops_everything_but_the_always_allowed_until_it_ends() -> None:
    until = FRIDAY_NOON + timedelta(minutes=40)
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30)},
        always_allowed=frozenset({"phone"}),
        paused_until=until,
    )
    decision = run(policy, used(tiktok=10))
    assert decision.allowed == {"phone"}
    # Pause does not touch minutes: tiktok will have its 20 when the pause ends.
    assert decision.apps["tiktok"] == AppDecision(False, Reason.PAUSED, 20.0)
    assert decision.apps["youtube"] == AppDecision(False, Reason.PAUSED, None)
    assert decision.next_change == until
    after = run(policy, used(tiktok=10), at=until)  # the pause is over at its instant
    assert after.allowed == set(APPS)


def test_pause_beats_downtime_and_limits() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(0)},
        downtime=(Window(frozenset(range(7)), time(0), time(0)),),
        paused_until=FRIDAY_NOON + timedelta(hours=1),
    )
    assert run(policy).apps["tiktok"].reason is Reason.PAUSED


def test_downtime_beats_limits() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(0), "youtube": DailyLimit.every_day(60)},
        downtime=(Window(frozenset({4}), time(11), time(13)),),
    )
    decision = run(policy, used(youtube=15))
    assert decision.apps["tiktok"] == AppDecision(False, Reason.DOWNTIME, 0.0)
    assert decision.apps["youtube"] == AppDecision(False, Reason.DOWNTIME, 45.0)
    assert decision.allowed == set()
    assert decision.next_change == datetime(2026, 11, 27, 13, tzinfo=ALMATY)


def test_overnight_downtime() -> None:
    bedtime = Policy(
        downtime=(Window(frozenset({4}), time(21, 30), time(7)),),  # Friday night
        always_allowed=frozenset({"phone"}),
    )
    evening = datetime(2026, 11, 27, 21, tzinfo=ALMATY)
    assert run(bedtime, at=evening).allowed == set(APPS)
    assert run(bedtime, at=evening).next_change == datetime(2026, 11, 27, 21, 30, tzinfo=ALMATY)
    night = run(bedtime, at=datetime(2026, 11, 27, 23, tzinfo=ALMATY))
    assert night.allowed == {"phone"}
    assert reasons(night)["youtube"] is Reason.DOWNTIME
    assert night.next_change == FRIDAY_MIDNIGHT  # the date changes before bedtime ends
    morning = run(bedtime, Usage(SATURDAY), at=datetime(2026, 11, 28, 6, 59, tzinfo=ALMATY))
    assert morning.allowed == {"phone"}  # Saturday morning is Friday's night
    assert morning.next_change == datetime(2026, 11, 28, 7, tzinfo=ALMATY)
    assert run(bedtime, Usage(SATURDAY), at=morning.next_change).allowed == set(APPS)
    # Thursday's night has no window: Friday morning is free.
    assert run(bedtime, at=datetime(2026, 11, 27, 6, tzinfo=ALMATY)).allowed == set(APPS)


def test_extra_time_for_an_app_lifts_every_limit_for_that_app_only() -> None:
    policy = Policy(
        category_limits={Category.SOCIAL: DailyLimit.every_day(60)},
        total_limit=DailyLimit.every_day(60),
        extra_time=(ExtraTime(FRIDAY, 15, app="instagram"),),
    )
    decision = run(policy, used(tiktok=60))
    assert decision.apps["instagram"] == AppDecision(True, Reason.ALLOWED, 15.0)
    assert decision.apps["tiktok"].reason is Reason.CATEGORY_LIMIT
    assert decision.apps["youtube"].reason is Reason.TOTAL_LIMIT
    assert decision.categories[Category.SOCIAL] == 0  # the grant is the app's, not the category's
    # Minutes used under the grant count against every limit: once spent, it is spent.
    spent = run(policy, used(tiktok=60, instagram=15))
    assert spent.apps["instagram"] == AppDecision(False, Reason.CATEGORY_LIMIT, 0.0)


def test_extra_time_for_a_category_lifts_its_limit_and_the_total_for_its_apps() -> None:
    policy = Policy(
        app_limits={"roblox": DailyLimit.every_day(20)},
        category_limits={Category.GAMES: DailyLimit.every_day(30)},
        total_limit=DailyLimit.every_day(60),
        extra_time=(
            ExtraTime(FRIDAY, 20, category=Category.GAMES),
            ExtraTime(FRIDAY, 10, category=Category.GAMES),  # grants add up
        ),
    )
    decision = run(policy, used(minecraft=30, youtube=30))
    assert decision.apps["minecraft"] == AppDecision(True, Reason.ALLOWED, 30.0)
    assert decision.apps["roblox"] == AppDecision(True, Reason.ALLOWED, 20.0)  # its own limit
    assert decision.categories[Category.GAMES] == 30
    assert decision.apps["youtube"].reason is Reason.TOTAL_LIMIT
    assert decision.total == 0


def test_extra_time_counts_only_on_its_day() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30)},
        extra_time=(
            ExtraTime(FRIDAY - timedelta(days=1), 15, app="tiktok"),
            ExtraTime(SATURDAY, 15, app="tiktok"),
        ),
    )
    assert run(policy, used(tiktok=30)).apps["tiktok"].reason is Reason.APP_LIMIT


def test_extra_time_never_lifts_a_block_a_pause_or_downtime() -> None:
    grants = tuple(ExtraTime(FRIDAY, 30, app=app) for app in APPS)
    blocked = run(Policy(blocked=frozenset({"roblox"}), extra_time=grants))
    assert blocked.apps["roblox"].reason is Reason.BLOCKED
    paused = run(Policy(paused_until=FRIDAY_NOON + timedelta(hours=1), extra_time=grants))
    assert paused.allowed == set()
    downtime = Window(frozenset({4}), time(11), time(13))
    assert run(Policy(downtime=(downtime,), extra_time=grants)).allowed == set()


def test_next_change_when_an_allowed_app_runs_out() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30), "youtube": DailyLimit.every_day(60)},
        blocked=frozenset({"roblox"}),
    )
    decision = run(policy, used(tiktok=12.5, youtube=10))
    assert decision.next_change == FRIDAY_NOON + timedelta(minutes=17.5)
    # A stopped app does not run out: the next to run out is youtube, in 50 minutes.
    decision = run(policy, used(tiktok=30, youtube=10))
    assert decision.next_change == FRIDAY_NOON + timedelta(minutes=50)


def test_next_change_is_the_earliest_of_every_cause() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30)},
        downtime=(Window(frozenset({4}), time(12, 20), time(13)),),
        paused_until=FRIDAY_NOON + timedelta(minutes=10),
    )
    assert run(policy).next_change == FRIDAY_NOON + timedelta(minutes=10)  # the pause ends
    at = FRIDAY_NOON + timedelta(minutes=10)
    assert run(policy, at=at).next_change == FRIDAY_NOON + timedelta(minutes=20)  # downtime
    at = FRIDAY_NOON + timedelta(minutes=60)
    assert run(policy, used(tiktok=5), at=at).next_change == at + timedelta(minutes=25)
    late = datetime(2026, 11, 27, 23, 50, tzinfo=ALMATY)
    assert run(policy, used(tiktok=5), at=late).next_change == FRIDAY_MIDNIGHT


def test_usage_of_another_day_counts_as_none() -> None:
    policy = Policy(total_limit=DailyLimit.every_day(60))
    yesterday = used(FRIDAY - timedelta(days=1), youtube=60)
    assert run(policy, yesterday).total == 60
    # Just after local midnight the counters start again.
    spent = used(youtube=60)
    assert run(policy, spent, at=FRIDAY_MIDNIGHT - timedelta(seconds=1)).allowed == set()
    after = run(policy, spent, at=FRIDAY_MIDNIGHT)
    assert after.day == SATURDAY
    assert after.allowed == set(APPS)


def test_a_day_of_23_hours() -> None:
    # Berlin, Sunday 29 March 2026: clocks go from 02:00 to 03:00.
    policy = Policy(total_limit=DailyLimit.every_day(60))
    saturday_evening = utc(2026, 3, 28, 19)  # 20:00 CET
    spent = Usage(date(2026, 3, 28), total=60)
    decision = run(policy, spent, at=saturday_evening, zone=BERLIN)
    assert decision.allowed == set()
    sunday_start = utc(2026, 3, 28, 23)  # 00:00 CET
    assert decision.next_change == sunday_start
    sunday = run(policy, Usage(date(2026, 3, 29)), at=sunday_start, zone=BERLIN)
    assert sunday.day == date(2026, 3, 29)
    assert sunday.next_change == sunday_start + timedelta(minutes=60)  # the total runs out
    noon = run(policy, Usage(date(2026, 3, 29), total=60), at=utc(2026, 3, 29, 10), zone=BERLIN)
    assert noon.next_change == utc(2026, 3, 29, 22)  # Monday 00:00 CEST
    assert noon.next_change - sunday_start == timedelta(hours=23)


def test_a_day_of_25_hours() -> None:
    # Berlin, Sunday 25 October 2026: clocks go from 03:00 back to 02:00.
    bedtime = Policy(downtime=(Window(frozenset({5}), time(22), time(7)),))  # Saturday night
    start = utc(2026, 10, 24, 22)  # Sunday 00:00 CEST
    night = run(bedtime, Usage(date(2026, 10, 25)), at=start, zone=BERLIN)
    assert night.allowed == set()
    assert night.next_change == utc(2026, 10, 25, 6)  # 07:00 CET, 9 hours after midnight
    day = run(bedtime, Usage(date(2026, 10, 25)), at=night.next_change, zone=BERLIN)
    assert day.allowed == set(APPS)
    assert day.next_change == utc(2026, 10, 25, 23)  # Monday 00:00 CET
    assert day.next_change - start == timedelta(hours=25)


def test_the_compiled_policy_answers_like_the_policy() -> None:
    policy = Policy(
        app_limits={"tiktok": DailyLimit.every_day(30)},
        category_limits={Category.GAMES: DailyLimit.by_weekday({5: 120}, otherwise=45)},
        total_limit=DailyLimit.every_day(150),
        downtime=(Window(frozenset(range(7)), time(21), time(7)),),
        always_allowed=frozenset({"phone"}),
        blocked=frozenset({"roblox"}),
        extra_time=(ExtraTime(FRIDAY, 10, category=Category.GAMES),),
    )
    compiled = compile_policy(policy)
    usage = used(tiktok=20, minecraft=40, youtube=30)
    for hour in range(0, 48, 3):
        at = FRIDAY_NOON + timedelta(hours=hour)
        decision = evaluate(compiled, usage, at=at, zone=ALMATY, apps=APPS)
        assert decision == evaluate(policy, usage, at=at, zone=ALMATY, apps=APPS)


@pytest.mark.parametrize(
    "build",
    [
        lambda: DailyLimit((60,) * 6),
        lambda: DailyLimit((60, 60, 60, 60, 60, 60, -1)),
        lambda: DailyLimit.every_day(-5),
        lambda: DailyLimit.by_weekday({7: 60}),
        lambda: ExtraTime(FRIDAY, 10),
        lambda: ExtraTime(FRIDAY, 10, app="tiktok", category=Category.SOCIAL),
        lambda: ExtraTime(FRIDAY, 0, app="tiktok"),
        lambda: ExtraTime(FRIDAY, -10, category=Category.SOCIAL),
        lambda: Usage(FRIDAY, {"tiktok": -1}),
        lambda: Usage(FRIDAY, categories={Category.GAMES: math.nan}),
        lambda: Usage(FRIDAY, total=-0.5),
        lambda: Policy(paused_until=datetime(2026, 11, 27, 12)),  # noqa: DTZ001
        lambda: Policy(app_limits={"": DailyLimit.every_day(5)}),
    ],
)
def test_rules_that_cannot_be(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=r"."):
        build()


def test_the_instant_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(Policy(), NO_USAGE, at=datetime(2026, 11, 27, 12), zone=ALMATY, apps=APPS)  # noqa: DTZ001
