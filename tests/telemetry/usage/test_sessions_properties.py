"""Properties of merging, cutting by local date and daily usage, for random sessions and zones,
many of them near clock changes."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.usage.policy import Category
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

ZONES = [
    ZoneInfo("Asia/Almaty"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # half an hour forward and back
    ZoneInfo("America/Santiago"),  # midnight skipped in September, 23:00 twice in April
]
# Clock changes of ZONES in 2026 (UTC), to draw sessions around them.
CLOCK_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 4, 5, 3, tzinfo=UTC),
    datetime(2026, 9, 6, 4, tzinfo=UTC),
]
APPS = ["a", "b", "c", "d", "e"]
CATEGORIES = {"a": Category.SOCIAL, "b": Category.SOCIAL, "c": Category.GAMES}  # d, e: other
SETTINGS = settings(max_examples=150, deadline=None)
NOTHING = timedelta()

# Sessions near a clock change, on a grid of quarter hours (so that they often overlap, touch
# and repeat) or anywhere to the microsecond.
QUARTER = timedelta(minutes=15)
on_grid = st.builds(
    lambda change, start, quarters: (
        change + start * QUARTER,
        change + (start + quarters) * QUARTER,
    ),
    st.sampled_from(CLOCK_CHANGES),
    st.integers(-200, 200),
    st.integers(1, MAX_SESSION // QUARTER),
)
anywhere = st.builds(
    lambda change, offset, length: (change + offset, change + offset + length),
    st.sampled_from(CLOCK_CHANGES),
    st.timedeltas(-timedelta(days=2), timedelta(days=2)),
    st.timedeltas(timedelta(microseconds=1), MAX_SESSION),
)
spans = on_grid | anywhere
intervals = spans.map(lambda span: Interval(*span))
# Unions of sessions may be longer than a session, and cross several dates.
long_intervals = st.builds(
    lambda span, more: Interval(span[0], span[1] + more),
    spans,
    st.timedeltas(NOTHING, timedelta(days=2)),
)
any_intervals = intervals | long_intervals


@st.composite
def interval_lists(draw: st.DrawFn, max_size: int = 20) -> list[Interval]:
    """Some intervals, some of them followed by one that starts where they end."""
    xs = draw(st.lists(any_intervals, max_size=max_size))
    for x in draw(st.lists(st.sampled_from(xs), max_size=3)) if xs else []:
        xs.append(Interval(x.end, x.end + draw(st.sampled_from([QUARTER, MAX_SESSION]))))
    return xs


foreground = st.builds(
    lambda app, span: ForegroundSession(app, *span), st.sampled_from(APPS), spans
)
screen = spans.map(lambda span: ScreenSession(*span))


def length(xs: list[Interval]) -> timedelta:
    return sum((x.length for x in xs), NOTHING)


def swept(xs: list[Interval]) -> timedelta:
    """The length of the union of ``xs``, by a sweep over their ends (not ``merge``)."""
    events = sorted([(x.start, 1) for x in xs] + [(x.end, -1) for x in xs])
    covered, depth, since = NOTHING, 0, None
    for instant, step in events:
        if depth > 0 and since is not None:
            covered += instant - since
        depth += step
        since = instant
    return covered


def shuffled(xs: list[Interval], seed: int) -> list[Interval]:
    ys = list(xs)
    random.Random(seed).shuffle(ys)
    return ys


@SETTINGS
@given(interval_lists(), st.integers())
def test_merge_is_idempotent_and_order_independent(xs: list[Interval], seed: int) -> None:
    merged = merge(xs)
    assert merge(merged) == merged
    assert merge(shuffled(xs, seed) + xs) == merged


@SETTINGS
@given(interval_lists())
def test_merge_covers_the_same_instants_with_sorted_disjoint_intervals(
    xs: list[Interval],
) -> None:
    merged = merge(xs)
    assert all(a.end < b.start for a, b in pairwise(merged))
    # Every input lies in one merged interval, so the union is inside the merged ones; equal
    # lengths leave no room for anything else (half-open intervals, to the microsecond).
    assert all(any(m.start <= x.start and x.end <= m.end for m in merged) for x in xs)
    assert length(merged) == swept(xs)


@SETTINGS
@given(interval_lists(max_size=10), st.sampled_from(ZONES))
def test_cutting_by_date_loses_nothing_and_keeps_pieces_within_a_date(
    xs: list[Interval], zone: ZoneInfo
) -> None:
    pieces = cut_by_local_day(xs, zone)
    assert sum((length(parts) for parts in pieces.values()), NOTHING) == length(xs)
    assert list(pieces) == sorted(pieces)
    for day, parts in pieces.items():
        start, end = day_bounds(day, zone)
        assert parts == sorted(parts)
        for part in parts:
            assert start <= part.start
            assert part.end <= end
            assert part.start.astimezone(zone).date() == day
            assert (part.end - timedelta(microseconds=1)).astimezone(zone).date() == day
    merged_pieces = cut_by_local_day(merge(xs), zone)
    for parts in merged_pieces.values():
        assert all(a.end <= b.start for a, b in pairwise(parts))


def dates_of(xs: list[Interval], zone: ZoneInfo) -> list[date]:
    """Every local date from the first instant of ``xs`` to the last, and one more each side."""
    first = min(x.start for x in xs).astimezone(zone).date() - timedelta(days=1)
    last = max(x.end for x in xs).astimezone(zone).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@SETTINGS
@given(
    st.lists(foreground, min_size=1, max_size=12),
    st.lists(screen, max_size=6),
    st.sampled_from(ZONES),
)
def test_app_within_category_within_total_within_the_date(
    fg: list[ForegroundSession], on: list[ScreenSession], zone: ZoneInfo
) -> None:
    everything = [s.interval for s in fg] + [s.interval for s in on]
    for day in dates_of(everything, zone):
        usage = daily_usage(fg, on, day=day, zone=zone, categories=CATEGORIES)
        start, end = day_bounds(day, zone)
        assert usage.total <= (end - start) / timedelta(minutes=1)
        assert all(minutes > 0 for minutes in usage.apps.values())
        for app, minutes in usage.apps.items():
            category = CATEGORIES.get(app, Category.OTHER)
            assert minutes <= usage.categories[category] <= usage.total
        for category, minutes in usage.categories.items():
            own = [m for app, m in usage.apps.items() if CATEGORIES.get(app) == category]
            own += [m for app, m in usage.apps.items() if app not in CATEGORIES] * (
                category is Category.OTHER
            )
            assert max(own) <= minutes <= sum(own) + 1e-9


@SETTINGS
@given(
    st.lists(foreground, min_size=1, max_size=12),
    st.lists(screen, max_size=6),
    st.sampled_from(ZONES),
)
def test_the_dates_add_up_to_the_union_of_all_sessions(
    fg: list[ForegroundSession], on: list[ScreenSession], zone: ZoneInfo
) -> None:
    everything = [s.interval for s in fg] + [s.interval for s in on]
    days = dates_of(everything, zone)
    usages = [daily_usage(fg, on, day=day, zone=zone, categories=CATEGORIES) for day in days]
    minute = timedelta(minutes=1)
    assert math.isclose(sum(u.total for u in usages), swept(everything) / minute, abs_tol=1e-6)
    for app, merged in merge_by_app(fg).items():
        assert math.isclose(
            sum(u.apps.get(app, 0.0) for u in usages), length(merged) / minute, abs_tol=1e-6
        )


@SETTINGS
@given(
    st.lists(foreground, max_size=12),
    st.lists(screen, max_size=6),
    st.sampled_from(ZONES),
    st.sampled_from(CLOCK_CHANGES),
    st.integers(),
)
def test_usage_depends_only_on_the_set_of_sessions(
    fg: list[ForegroundSession],
    on: list[ScreenSession],
    zone: ZoneInfo,
    near: datetime,
    seed: int,
) -> None:
    day = near.astimezone(zone).date()
    usage = daily_usage(fg, on, day=day, zone=zone, categories=CATEGORIES)
    rng = random.Random(seed)
    again_fg, again_on = fg + fg[: len(fg) // 2], on + on
    rng.shuffle(again_fg)
    rng.shuffle(again_on)
    assert daily_usage(again_fg, again_on, day=day, zone=zone, categories=CATEGORIES) == usage
