"""Properties of the screen-time evaluator for random policies, usages, instants and zones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parental.kit.weekly import Window, day_start
from telemetry.usage.evaluate import Decision, Reason, compile_policy, evaluate
from telemetry.usage.policy import Category, DailyLimit, ExtraTime, Policy, Usage
from telemetry.usage.reports.limit_watch import TOTAL_LIMIT, LimitKey, limits_left

ZONES = [
    ZoneInfo("Asia/Almaty"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),
]
NAMES = [f"app{i}" for i in range(8)]
# Clock changes of ZONES (UTC), to draw instants near them.
CLOCK_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
]
SETTINGS = settings(max_examples=120, deadline=None)


@dataclass(frozen=True)
class Case:
    policy: Policy
    usage: Usage
    at: datetime
    zone: ZoneInfo
    apps: dict[str, Category]

    def evaluate(self, at: datetime | None = None, usage: Usage | None = None) -> Decision:
        return evaluate(
            self.policy,
            self.usage if usage is None else usage,
            at=self.at if at is None else at,
            zone=self.zone,
            apps=self.apps,
        )

    @property
    def today(self) -> date:
        return self.at.astimezone(self.zone).date()


limits = st.builds(
    DailyLimit, st.tuples(*[st.none() | st.integers(0, 240) for _ in range(7)])
) | st.builds(DailyLimit.every_day, st.integers(0, 240))
times = st.times() | st.times(max_value=datetime.min.time().replace(hour=3))
windows = st.builds(Window, st.frozensets(st.integers(0, 6), min_size=1), times, times)
minutes = st.integers(0, 300) | st.floats(0, 300, allow_nan=False)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
) | st.builds(
    lambda change, delta: change + delta,
    st.sampled_from(CLOCK_CHANGES),
    st.timedeltas(-timedelta(days=2), timedelta(days=1)),
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    at = draw(instants)
    today = at.astimezone(zone).date()
    apps = draw(st.fixed_dictionaries({name: st.sampled_from(Category) for name in NAMES}))
    some_names = st.frozensets(st.sampled_from(NAMES), max_size=3)
    days = st.sampled_from([today - timedelta(days=1), today, today, today + timedelta(days=1)])
    grants = (
        st.builds(ExtraTime, days, st.integers(1, 60), app=st.sampled_from(NAMES))
        | st.builds(ExtraTime, days, st.integers(1, 60), category=st.sampled_from(Category))
        | st.builds(ExtraTime, days, st.integers(1, 60), total=st.just(True))  # a task's reward
    )
    policy = Policy(
        app_limits=draw(st.dictionaries(st.sampled_from(NAMES), limits, max_size=5)),
        category_limits=draw(st.dictionaries(st.sampled_from(Category), limits, max_size=4)),
        total_limit=draw(st.none() | limits),
        downtime=tuple(draw(st.lists(windows, max_size=3))),
        always_allowed=draw(some_names),
        blocked=draw(some_names),
        extra_time=tuple(draw(st.lists(grants, max_size=4))),
        paused_until=draw(
            st.none() | st.timedeltas(-timedelta(hours=3), timedelta(hours=3)).map(lambda d: at + d)
        ),
    )
    used_apps = draw(st.dictionaries(st.sampled_from(NAMES), minutes, max_size=8))
    used_categories: dict[Category, float] = {}
    for app, used in used_apps.items():
        used_categories[apps[app]] = used_categories.get(apps[app], 0) + used
    total = sum(used_apps.values()) + draw(minutes)
    usage = Usage(draw(days), used_apps, used_categories, total)
    return Case(policy, usage, at, zone, apps)


@SETTINGS
@given(cases())
def test_always_allowed_apps_are_always_allowed(case: Case) -> None:
    decision = case.evaluate()
    for app in case.policy.always_allowed & case.apps.keys():
        assert decision.apps[app].allowed
        assert decision.apps[app].reason is Reason.ALWAYS_ALLOWED


@SETTINGS
@given(cases())
def test_nothing_else_is_allowed_in_a_pause_or_downtime(case: Case) -> None:
    decision = case.evaluate()
    paused = case.policy.paused_until is not None and case.at < case.policy.paused_until
    local = case.at.astimezone(case.zone)
    downtime = any(window.contains(local) for window in case.policy.downtime)
    if paused or downtime:
        assert decision.allowed <= case.policy.always_allowed
    for app, answer in decision.apps.items():
        assert answer.allowed == (answer.reason in (Reason.ALLOWED, Reason.ALWAYS_ALLOWED))
        if app in case.policy.blocked and app not in case.policy.always_allowed:
            assert answer.reason is Reason.BLOCKED


@SETTINGS
@given(cases())
def test_minutes_left_are_never_negative(case: Case) -> None:
    decision = case.evaluate()
    left = [d.minutes_left for d in decision.apps.values()]
    left += [*decision.categories.values(), decision.total]
    assert all(m is None or m >= 0 for m in left)
    for answer in decision.apps.values():
        if answer.reason is Reason.ALLOWED:
            assert answer.minutes_left is None or answer.minutes_left > 0


@SETTINGS
@given(cases(), st.lists(st.floats(0, 1, exclude_min=True, exclude_max=True), max_size=4))
def test_the_allowed_set_holds_until_next_change(case: Case, fractions: list[float]) -> None:
    decision = case.evaluate()
    assert decision == evaluate(
        compile_policy(case.policy), case.usage, at=case.at, zone=case.zone, apps=case.apps
    )
    change = decision.next_change
    assert change is not None  # the next local date always comes
    assert change > case.at
    assert change <= day_start(case.today + timedelta(days=1), case.zone)
    span = change - case.at
    between = [case.at + span * f for f in fractions] + [change - timedelta(microseconds=1)]
    for at in between:
        if case.at < at < change:
            assert case.evaluate(at=at).allowed == decision.allowed, at


@SETTINGS
@given(cases(), st.timedeltas(timedelta(0), timedelta(hours=22)))
def test_local_midnight_resets_the_daily_usage(case: Case, delta: timedelta) -> None:
    usage = Usage(case.today, case.usage.apps, case.usage.categories, case.usage.total)
    tomorrow = case.today + timedelta(days=1)
    at = day_start(tomorrow, case.zone) + delta
    assert at.astimezone(case.zone).date() == tomorrow
    assert case.evaluate(at=at, usage=usage) == case.evaluate(at=at, usage=Usage(tomorrow))


@SETTINGS
@given(cases())
def test_the_limit_watch_counts_the_total_as_the_evaluator_does(case: Case) -> None:
    """What ``limit_watch`` finds left of the total limit (grants to the total included) is
    what the device's policy says is left, so a limit it calls used up is one the device
    enforces."""
    usage = Usage(case.today, case.usage.apps, case.usage.categories, case.usage.total)
    decision = case.evaluate(usage=usage)
    total = limits_left(case.policy, usage).get(LimitKey(TOTAL_LIMIT, ""))
    if total is None:
        assert decision.total is None
    else:
        assert decision.total == pytest.approx(max(total.left, 0.0), abs=1e-9)
