"""The query log's sampling, through the recorder that feeds it: every block (one row per name
and minute), one in N allowed lookups, a cap per child and day, cost per distinct result."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from filters.activity.querylog import LoggedLookups, QueryLogSampler, RowKey, sampled
from filters.activity.recorder import ActivityRecorder, distinct
from filters.check.schemas import CheckResult
from parental.kit.events import EventBus
from parental.runtime import build_runtime
from parental.settings import ParentalSettings
from tests.filters.activity.test_recorder import result

CHILD = uuid.UUID("00000000-0000-0000-0000-000000000001")
OTHER = uuid.UUID("00000000-0000-0000-0000-000000000002")
T0 = datetime(2026, 11, 25, 9, 0, 10, tzinfo=UTC)  # 14:00 in Almaty
MINUTE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ZONE = "Asia/Almaty"


class CountingSampler(QueryLogSampler):
    """The real sampler, noting each call it gets and the count it was given."""

    def __init__(self, **kwargs: int) -> None:
        super().__init__(**kwargs)
        self.calls: list[int] = []

    def add(
        self, rows: dict[RowKey, LoggedLookups], key: RowKey, day: date, category: str, n: int
    ) -> None:
        self.calls.append(n)
        super().add(rows, key, day, category, n)


def recorder(**sampling: int) -> tuple[ActivityRecorder, CountingSampler]:
    sampler = CountingSampler(**sampling)
    return ActivityRecorder(EventBus(), sampler), sampler


def logged(activity: ActivityRecorder, now: datetime = T0) -> dict[RowKey, tuple[str, int]]:
    return {key: (row.category, row.count) for key, row in activity.take(now).queries.items()}


async def test_every_block_is_logged_one_row_per_name_action_and_minute() -> None:
    activity, _ = recorder()
    weed = result("weed.test", "block", "drugs")
    await activity.record(CHILD, ZONE, [weed, weed, result("weed.test/shop", "block", "drugs")], T0)
    await activity.record(CHILD, ZONE, [weed], T0 + timedelta(seconds=49))  # 09:00:59
    await activity.record(CHILD, ZONE, [weed], T0 + timedelta(seconds=50))  # 09:01:00
    await activity.record(OTHER, ZONE, [weed], T0)
    await activity.record(CHILD, ZONE, [result("mine.test", "block", "guardian")], T0)
    next_minute = MINUTE + timedelta(minutes=1)
    assert logged(activity) == {
        (CHILD, MINUTE, "weed.test", "block"): ("drugs", 4),
        (CHILD, next_minute, "weed.test", "block"): ("drugs", 1),
        (OTHER, MINUTE, "weed.test", "block"): ("drugs", 1),
        (CHILD, MINUTE, "mine.test", "block"): ("guardian", 1),
    }


async def test_allowed_lookups_are_sampled_one_in_n_per_child() -> None:
    activity, _ = recorder(allowed_one_in=20)
    for i in range(45):
        await activity.record(CHILD, ZONE, [result(f"site{i}.test")], T0)
    await activity.record(OTHER, ZONE, [result("other.test")], T0)
    rows = logged(activity)
    # The 1st, 21st and 41st of the child's allowed lookups; the other child's own first.
    assert rows == {
        (CHILD, MINUTE, "site0.test", "allow"): ("", 1),
        (CHILD, MINUTE, "site20.test", "allow"): ("", 1),
        (CHILD, MINUTE, "site40.test", "allow"): ("", 1),
        (OTHER, MINUTE, "other.test", "allow"): ("", 1),
    }
    # The count goes on from where it was (45 seen: the next kept is the 61st).
    for i in range(16):
        await activity.record(CHILD, ZONE, [result(f"more{i}.test")], T0)
    assert logged(activity) == {(CHILD, MINUTE, "more15.test", "allow"): ("", 1)}


async def test_a_host_and_action_seen_both_ways_in_a_minute_are_two_rows() -> None:
    activity, _ = recorder(allowed_one_in=1)
    await activity.record(CHILD, ZONE, [result("game.test", "allow", "games")], T0)
    await activity.record(CHILD, ZONE, [result("game.test", "block", "games")], T0)
    assert logged(activity) == {
        (CHILD, MINUTE, "game.test", "allow"): ("games", 1),
        (CHILD, MINUTE, "game.test", "block"): ("games", 1),
    }


async def test_the_daily_cap_limits_new_rows_not_counts_of_open_ones() -> None:
    activity, _ = recorder(allowed_one_in=1, rows_per_day=3)
    for host in ("a.test", "b.test", "c.test", "d.test"):
        await activity.record(CHILD, ZONE, [result(host, "block", "drugs")], T0)
    for host in ("e.test", "f.test", "g.test", "h.test"):  # allowed rows have a cap of their own
        await activity.record(CHILD, ZONE, [result(host)], T0)
    await activity.record(CHILD, ZONE, [result("a.test", "block", "drugs")], T0)
    await activity.record(OTHER, ZONE, [result("a.test", "block", "drugs")], T0)
    first = activity.take(T0)
    assert {(k[0], k[2]): r.count for k, r in first.queries.items()} == {
        (CHILD, "a.test"): 2,
        (CHILD, "b.test"): 1,
        (CHILD, "c.test"): 1,
        (CHILD, "e.test"): 1,
        (CHILD, "f.test"): 1,
        (CHILD, "g.test"): 1,
        (OTHER, "a.test"): 1,
    }
    # Past the cap, the lookups are still counted for the day's totals.
    assert first.counts[(CHILD, date(2026, 11, 25), "drugs", "block")] == 5
    # A row a flush has already taken takes more lookups of its minute without a new charge.
    await activity.record(CHILD, ZONE, [result("b.test", "block", "drugs")], T0)
    await activity.record(CHILD, ZONE, [result("f.test", "block", "drugs")], T0)
    assert logged(activity) == {(CHILD, MINUTE, "b.test", "block"): ("drugs", 1)}
    # The next local day (Almaty midnight is 19:00 UTC) starts with the whole cap again.
    tomorrow = datetime(2026, 11, 25, 19, 0, 5, tzinfo=UTC)
    await activity.record(CHILD, ZONE, [result("d.test", "block", "drugs")], tomorrow)
    assert logged(activity, tomorrow) == {
        (CHILD, tomorrow.replace(second=0), "d.test", "block"): ("drugs", 1)
    }


async def test_a_repeated_result_is_handled_once_with_its_count() -> None:
    activity, sampler = recorder(allowed_one_in=20)
    allowed = result("video.test", "allow", "video")
    blocked = result("ads.test", "block", "ads")
    await activity.record(CHILD, ZONE, [allowed] * 100_000, T0)
    await activity.record(CHILD, ZONE, [blocked] * 100_000 + [allowed] * 3, T0)
    assert sampler.calls == [100_000, 100_000, 3]
    batch = activity.take(T0)
    assert {k: r.count for k, r in batch.queries.items()} == {
        (CHILD, MINUTE, "video.test", "allow"): 5_001,  # lookups 0, 20, ..., 100_000
        (CHILD, MINUTE, "ads.test", "block"): 100_000,
    }
    day = date(2026, 11, 25)
    assert batch.counts[(CHILD, day, "video", "allow")] == 100_003
    assert batch.counts[(CHILD, day, "ads", "block")] == 100_000
    assert batch.blocks[(CHILD, day, "ads.test")].count == 100_000


def test_distinct_groups_by_identity_in_first_seen_order() -> None:
    a, b = result("a.test"), result("a.test")  # equal, but two lookups' own results
    assert distinct([a, b, a, a]) == [(a, 3), (b, 1)]
    assert distinct(x for x in [b, b]) == [(b, 2)]
    assert distinct([]) == []
    empty: list[CheckResult] = []
    assert distinct(iter(empty)) == []


@pytest.mark.parametrize(
    ("seen", "n", "expected"),
    [(0, 1, 1), (1, 19, 0), (1, 20, 1), (0, 20, 1), (0, 21, 2), (19, 2, 1), (40, 0, 0)],
)
def test_sampled_counts_the_multiples_of_n_in_a_run(seen: int, n: int, expected: int) -> None:
    assert sampled(seen, n, 20) == expected
    assert expected == sum(1 for i in range(seen, seen + n) if i % 20 == 0)


async def test_a_batch_given_back_keeps_its_rows() -> None:
    activity, _ = recorder()
    weed = result("weed.test", "block", "drugs")
    await activity.record(CHILD, ZONE, [weed], T0)
    failed = activity.take(T0)
    await activity.record(CHILD, ZONE, [weed, weed], T0 + timedelta(seconds=5))
    activity.give_back(failed)
    assert logged(activity) == {(CHILD, MINUTE, "weed.test", "block"): ("drugs", 3)}


async def test_state_of_past_minutes_and_days_is_forgotten() -> None:
    activity, sampler = recorder(allowed_one_in=3, rows_per_day=1)
    await activity.record(CHILD, ZONE, [result("a.test", "block", "drugs")], T0)
    activity.take(T0 + timedelta(minutes=1))
    assert sampler._open  # still the previous minute
    activity.take(T0 + timedelta(minutes=2))
    assert not sampler._open
    assert sampler._days
    activity.take(T0 + timedelta(days=2))
    assert not sampler._days


def test_sampling_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="allowed_one_in"):
        QueryLogSampler(allowed_one_in=0)
    with pytest.raises(ValueError, match="allowed_one_in"):
        QueryLogSampler(rows_per_day=-1)


async def test_the_settings_reach_the_sampler_of_every_process() -> None:
    settings = ParentalSettings(filter_query_log_allowed_one_in=3, filter_query_log_rows_per_day=7)
    runtime = build_runtime(settings=settings)
    try:
        sampler = runtime.activity.query_log
        assert (sampler.allowed_one_in, sampler.rows_per_day) == (3, 7)
    finally:
        await runtime.close()
