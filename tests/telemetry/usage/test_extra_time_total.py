"""Extra time for the total screen time (an approved task's reward): it lifts the total limit
and nothing below it, adds up with the other grants and counts only on its own day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telemetry.usage.evaluate import AppDecision, Reason
from telemetry.usage.policy import Category, DailyLimit, ExtraTime, Policy
from telemetry.usage.rules.compiled import to_policy
from telemetry.usage.rules.schemas import ExtraTimeGrant, ExtraTimeTarget, ScreenTimeRules
from tests.telemetry.usage.test_evaluate import FRIDAY, FRIDAY_NOON, NO_USAGE, run, used


def test_a_total_grant_lifts_a_spent_total_limit() -> None:
    policy = Policy(
        total_limit=DailyLimit.every_day(60),
        extra_time=(ExtraTime(FRIDAY, 15, total=True), ExtraTime(FRIDAY, 10, total=True)),
    )
    decision = run(policy, used(tiktok=40, youtube=20))
    assert decision.total == 25.0  # grants add up
    assert decision.apps["tiktok"] == AppDecision(True, Reason.ALLOWED, 25.0)
    assert decision.categories[Category.SOCIAL] == 25.0
    assert decision.next_change == FRIDAY_NOON + timedelta(minutes=25)
    spent = run(policy, used(tiktok=60, youtube=25))
    assert spent.apps["wikipedia"] == AppDecision(False, Reason.TOTAL_LIMIT, 0.0)


def test_a_total_grant_does_not_lift_an_app_or_a_category_limit() -> None:
    policy = Policy(
        app_limits={"roblox": DailyLimit.every_day(20)},
        category_limits={Category.SOCIAL: DailyLimit.every_day(30)},
        total_limit=DailyLimit.every_day(60),
        extra_time=(ExtraTime(FRIDAY, 30, total=True),),
    )
    decision = run(policy, used(roblox=20, tiktok=30, youtube=10))
    assert decision.apps["roblox"] == AppDecision(False, Reason.APP_LIMIT, 0.0)
    assert decision.apps["tiktok"] == AppDecision(False, Reason.CATEGORY_LIMIT, 0.0)
    assert decision.apps["youtube"] == AppDecision(True, Reason.ALLOWED, 30.0)  # 60 - 60 + 30
    assert decision.categories[Category.SOCIAL] == 0.0


def test_a_total_grant_adds_to_the_app_and_category_grants_on_the_total_row() -> None:
    policy = Policy(
        total_limit=DailyLimit.every_day(60),
        extra_time=(
            ExtraTime(FRIDAY, 10, total=True),
            ExtraTime(FRIDAY, 5, category=Category.GAMES),
            ExtraTime(FRIDAY, 3, app="minecraft"),
        ),
    )
    decision = run(policy, used(youtube=60))
    assert decision.apps["minecraft"].minutes_left == 18.0
    assert decision.apps["roblox"].minutes_left == 15.0
    assert decision.apps["youtube"].minutes_left == 10.0


def test_a_total_grant_changes_nothing_without_a_total_limit_or_on_another_day() -> None:
    assert run(Policy(extra_time=(ExtraTime(FRIDAY, 10, total=True),))).total is None
    other_day = Policy(
        total_limit=DailyLimit.every_day(60),
        extra_time=(ExtraTime(FRIDAY - timedelta(days=1), 30, total=True),),
    )
    assert run(other_day, used(youtube=60)).total == 0.0
    assert run(other_day, NO_USAGE).total == 60.0


@pytest.mark.parametrize(
    "build",
    [
        lambda: ExtraTime(FRIDAY, 10, app="tiktok", total=True),
        lambda: ExtraTime(FRIDAY, 10, category=Category.SOCIAL, total=True),
        lambda: ExtraTime(FRIDAY, 0, total=True),
    ],
)
def test_a_total_grant_is_for_the_total_only(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=r"."):
        build()


def test_a_stored_grant_naming_neither_an_app_nor_a_category_is_for_the_total() -> None:
    stamp = FRIDAY_NOON
    grants = [
        ExtraTimeGrant(
            day=FRIDAY, app=None, category=None, minutes=20, granted_at=stamp, granted_by="g"
        ),
        ExtraTimeGrant(
            day=FRIDAY, app="tiktok", category=None, minutes=5, granted_at=stamp, granted_by="g"
        ),
    ]
    policy = to_policy(ScreenTimeRules(), extra_time=grants)
    assert policy.extra_time == (
        ExtraTime(FRIDAY, 20, total=True),
        ExtraTime(FRIDAY, 5, app="tiktok"),
    )


def test_a_target_names_at_most_one_of_an_app_and_a_category() -> None:
    assert ExtraTimeTarget(minutes=5).app is None
    with pytest.raises(ValueError, match="not two"):
        ExtraTimeTarget(app="tiktok", category=Category.SOCIAL, minutes=5)
