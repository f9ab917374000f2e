"""The in-process tally: local days, categories, alerts once a minute, take and give back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from filters.activity.events import SelfHarmBlocked
from filters.activity.recorder import ActivityRecorder
from filters.check.schemas import CheckResult, RuleRead
from parental.kit.events import EventBus

CHILD = uuid.UUID("00000000-0000-0000-0000-000000000001")
T0 = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # 23:30 in Almaty (UTC+5)


def result(host: str, action: str = "allow", category: str | None = None) -> CheckResult:
    rule = None
    if category is not None:
        source = "guardian" if category == "guardian" else "s1"
        rule = RuleRead(
            host=host,
            scope="subtree",
            path="",
            action=action,
            source_id=source,
            source_name=source,
            version="1",
        )
    categories = [] if category in (None, "guardian") else [category]
    return CheckResult(input=host, normalized=host, action=action, categories=categories, rule=rule)


def recorder() -> tuple[ActivityRecorder, list[SelfHarmBlocked]]:
    bus = EventBus()
    seen: list[SelfHarmBlocked] = []

    async def keep(event: SelfHarmBlocked) -> None:
        seen.append(event)

    bus.subscribe(SelfHarmBlocked, keep)
    return ActivityRecorder(bus), seen


async def test_counts_go_to_the_childs_local_day_and_the_deciding_category() -> None:
    activity, _ = recorder()
    answers = [
        result("ok.test"),
        result("weed.test", "block", "drugs"),
        result("weed.test/shop", "block", "drugs"),
        result("mine.test", "block", "guardian"),
        result("kids.test", "allow", "kids_allow"),
    ]
    await activity.record(CHILD, "Asia/Almaty", answers, T0)
    await activity.record(CHILD, "Asia/Almaty", [result("late.test")], T0 + timedelta(hours=1))
    batch = activity.take(T0)
    today, tomorrow = date(2026, 11, 25), date(2026, 11, 26)
    assert dict(batch.counts) == {
        (CHILD, today, "", "allow"): 1,
        (CHILD, today, "drugs", "block"): 2,
        (CHILD, today, "guardian", "block"): 1,
        (CHILD, today, "kids_allow", "allow"): 1,
        (CHILD, tomorrow, "", "allow"): 1,  # 00:30 local is the next day
    }
    weed = batch.blocks[(CHILD, today, "weed.test")]
    assert (weed.category, weed.count, weed.last_at) == ("drugs", 2, T0)
    assert (CHILD, today, "mine.test") in batch.blocks
    assert not activity.take(T0)


async def test_a_self_harm_block_raises_one_event_a_minute_per_name() -> None:
    activity, seen = recorder()
    harm = result("harm.test", "block", "self_harm")
    assert await activity.record(CHILD, "Asia/Almaty", [harm, harm], T0) == 1
    assert await activity.record(CHILD, "Asia/Almaty", [harm], T0 + timedelta(seconds=30)) == 0
    other = result("other-harm.test", "block", "self_harm")
    assert await activity.record(CHILD, "Asia/Almaty", [other], T0 + timedelta(seconds=30)) == 1
    assert await activity.record(CHILD, "Asia/Almaty", [harm], T0 + timedelta(minutes=1)) == 1
    assert [(e.child_id, e.category, e.host) for e in seen] == [
        (CHILD, "self_harm", "harm.test"),
        (CHILD, "self_harm", "other-harm.test"),
        (CHILD, "self_harm", "harm.test"),
    ]
    assert seen[0].occurred_at == T0
    # Other categories and allowed names raise nothing.
    drugs = result("weed.test", "block", "drugs")
    assert await activity.record(CHILD, "Asia/Almaty", [drugs], T0) == 0


async def test_a_batch_given_back_is_merged_with_what_came_since() -> None:
    activity, _ = recorder()
    block = result("weed.test", "block", "drugs")
    await activity.record(CHILD, "Asia/Almaty", [block], T0)
    failed = activity.take(T0)
    await activity.record(CHILD, "Asia/Almaty", [block, block], T0 + timedelta(seconds=5))
    activity.give_back(failed)
    batch = activity.take(T0)
    day = date(2026, 11, 25)
    assert batch.counts[(CHILD, day, "drugs", "block")] == 3
    merged = batch.blocks[(CHILD, day, "weed.test")]
    assert (merged.count, merged.last_at) == (3, T0 + timedelta(seconds=5))
