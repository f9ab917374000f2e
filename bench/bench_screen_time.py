"""Screen-time evaluation benchmark: one ``evaluate`` of a 50-rule policy for 50 apps.

Run: .venv/bin/python bench/bench_screen_time.py [--iterations N] [--repeats N]

The policy has 50 rules: app limits (some different at the weekend), category limits, a total
limit, downtime windows (school nights, weekend nights, school hours), blocked and always-allowed
apps, and extra time granted today. Each figure is the median over ``--repeats`` runs of the
mean microseconds per evaluation over ``--iterations`` calls, at instants spread over a week in
Europe/Berlin (inside and outside downtime), with the compiled policy, next to the baseline
measured in the same run: the same evaluation given the ``Policy``, compiled again on each call.
A third figure is what the API pays per request once the child's policy is compiled: the
compiled policy looked up in the per-process cache (``telemetry.usage.rules.compiled``, under a
key like the product's) and evaluated.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from parental.kit.weekly import Window
from telemetry.usage.evaluate import CompiledPolicy, Decision, compile_policy, evaluate
from telemetry.usage.policy import Category, DailyLimit, ExtraTime, Policy, Usage
from telemetry.usage.rules.compiled import CompiledPolicies

ZONE = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 27)  # a Friday
CATEGORIES = list(Category)
TARGET_US = 100.0


def build() -> tuple[Policy, dict[str, Category], Usage, int]:
    """The policy, the 50 apps, today's usage and the policy's rule count."""
    apps = {f"com.example.app{i:02}": CATEGORIES[i % len(CATEGORIES)] for i in range(50)}
    names = list(apps)
    weekend = {5: 90, 6: 90}
    app_limits = {
        name: DailyLimit.by_weekday(weekend, 30 + i) if i % 2 else DailyLimit.every_day(45)
        for i, name in enumerate(names[:24])
    }
    category_limits = {
        Category.SOCIAL: DailyLimit.by_weekday({5: 120, 6: 120}, otherwise=60),
        Category.GAMES: DailyLimit.by_weekday({4: 90, 5: 180, 6: 180}, otherwise=45),
        Category.VIDEO: DailyLimit.every_day(90),
        Category.BROWSER: DailyLimit.every_day(120),
    }
    downtime = (
        Window(frozenset({6, 0, 1, 2, 3}), clock(21), clock(7)),  # school nights
        Window(frozenset({4, 5}), clock(22, 30), clock(8)),  # weekend nights
        Window(frozenset(range(5)), clock(8), clock(13, 30)),  # school
        Window(frozenset({2}), clock(16), clock(17)),  # homework hour
    )
    always_allowed = frozenset(names[40:46])
    blocked = frozenset(names[46:50])
    extra_time = (
        ExtraTime(TODAY, 15, app=names[1]),
        ExtraTime(TODAY, 10, app=names[3]),
        ExtraTime(TODAY, 30, category=Category.GAMES),
        ExtraTime(TODAY - timedelta(days=1), 20, category=Category.VIDEO),  # yesterday's
        ExtraTime(TODAY, 5, app=names[30]),
        ExtraTime(TODAY, 20, category=Category.SOCIAL),
        ExtraTime(TODAY, 10, app=names[10]),
    )
    policy = Policy(
        app_limits=app_limits,
        category_limits=category_limits,
        total_limit=DailyLimit.by_weekday({5: 240, 6: 240}, otherwise=180),
        downtime=downtime,
        always_allowed=always_allowed,
        blocked=blocked,
        extra_time=extra_time,
    )
    rules = (
        len(app_limits)
        + len(category_limits)
        + 1
        + len(downtime)
        + len(always_allowed)
        + len(blocked)
        + len(extra_time)
    )
    usage = Usage(
        day=TODAY,
        apps={name: float(5 + 3 * i % 40) for i, name in enumerate(names)},
        categories={category: 20.0 + 7 * i for i, category in enumerate(CATEGORIES)},
        total=150.0,
    )
    return policy, apps, usage, rules


def per_call_us(fn: Callable[[datetime], object], instants: list[datetime], n: int) -> float:
    """Mean microseconds per call of ``fn`` over ``n`` calls cycling through ``instants``."""
    calls = [instants[i % len(instants)] for i in range(n)]
    start = time.perf_counter_ns()
    for at in calls:
        fn(at)
    return (time.perf_counter_ns() - start) / n / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    policy, apps, usage, rules = build()
    compiled = compile_policy(policy)
    # Friday and the weekend after it, every 37 minutes: in and out of downtime, past midnight.
    first = datetime(2026, 11, 27, 0, 0, tzinfo=ZONE).astimezone(UTC)
    instants = [first + timedelta(minutes=37 * k) for k in range(int(3 * 24 * 60 / 37))]

    def cached(at: datetime) -> Decision:
        return evaluate(compiled, usage, at=at, zone=ZONE, apps=apps)

    def rebuilt(at: datetime) -> Decision:
        return evaluate(policy, usage, at=at, zone=ZONE, apps=apps)

    def compile_only(_at: datetime) -> CompiledPolicy:
        return compile_policy(policy)

    cache = CompiledPolicies()
    # As ``policy_key``: child, revision, row's last change, pause, day, declined, always allowed.
    key = (
        uuid.UUID(int=1),
        12,
        datetime(2026, 11, 27, 7, tzinfo=UTC),
        None,
        TODAY,
        frozenset[str](),
        frozenset(policy.always_allowed),
    )

    def through_cache(at: datetime) -> Decision:
        return evaluate(cache.get(key, lambda: policy), usage, at=at, zone=ZONE, apps=apps)

    for at in instants:  # all forms answer alike
        assert cached(at) == rebuilt(at) == through_cache(at), at
    cached(instants[0])  # warm the per-date cache of local midnights, as a server would be

    figures: dict[str, list[float]] = {"cached": [], "rebuilt": [], "compile": [], "lookup": []}
    for _ in range(args.repeats):
        figures["cached"].append(per_call_us(cached, instants, args.iterations))
        figures["rebuilt"].append(per_call_us(rebuilt, instants, args.iterations))
        figures["compile"].append(per_call_us(compile_only, instants, args.iterations))
        figures["lookup"].append(per_call_us(through_cache, instants, args.iterations))
    median = {key: statistics.median(values) for key, values in figures.items()}

    limited = next(iter(apps))
    stopped = sum(1 for at in instants if not cached(at).apps[limited].allowed)
    print(
        f"policy: {rules} rules, {len(apps)} apps, {len(instants)} instants over 3 days "
        f"({stopped} with {limited} stopped); median of {args.repeats} x "
        f"{args.iterations:,} calls"
    )
    print(f"{'':44} {'compiled':>12} {'rebuilt':>12}  target")
    print(
        f"{'evaluate, one instant (µs)':44} {median['cached']:12.1f} {median['rebuilt']:12.1f}"
        f"  < {TARGET_US:.0f} µs compiled  "
        f"({'met' if median['cached'] < TARGET_US else 'NOT MET'})"
    )
    print(f"{'of which compile_policy (µs)':44} {'':12} {median['compile']:12.1f}")
    print(
        f"{'through the per-process cache (µs)':44} {median['lookup']:12.1f}"
        f"  (the API's cost per request between two changes of the policy)"
    )


if __name__ == "__main__":
    main()
