"""The weekly usage summary: published by the worker once the child's local week has ended
(Monday 00:00 in the child's zone), once per child and week, however many times and however
many workers run; none for a child monitoring no longer applies to, or added after the week.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty
(UTC+5); the children are added then, in the week of Monday the 23rd."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.kit.settings import KitSettings
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender
from parental.usage import send_weekly_summaries
from parental.worker import purge_expired, run_timers
from telemetry.usage.events import SummaryAppFigure, WeeklyUsageSummary
from telemetry.usage.policy import Category
from telemetry.usage.reports.models import WeeklySummaryMark
from tests.conftest import open_runtime
from tests.parental.factories import FamilyWorld
from tests.parental.test_locations import minor_turning_18_tomorrow
from tests.parental.test_usage import app, screen, upload

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY = date(2026, 11, 23)
GAME, CHAT = "test.summary.game", "test.summary.chat"
WEEK_ENDS = datetime(2026, 11, 29, 19, tzinfo=UTC)  # Monday the 30th, 00:00 in Almaty


def local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ALMATY)


def listen(runtime: Runtime) -> list[WeeklyUsageSummary]:
    """Every WeeklyUsageSummary published on the runtime's bus, from now on."""
    events: list[WeeklyUsageSummary] = []

    async def keep(event: WeeklyUsageSummary) -> None:
        events.append(event)

    runtime.bus.subscribe(WeeklyUsageSummary, keep)
    return events


@pytest.fixture
def told(runtime: Runtime) -> list[WeeklyUsageSummary]:
    return listen(runtime)


async def marks(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WeeklySummaryMark)) or 0)


async def test_the_summary_comes_once_the_week_has_ended_and_only_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    told: list[WeeklyUsageSummary],
) -> None:
    sent = await upload(
        client,
        family,
        app(local(MONDAY, 10), 30, GAME, app_name="Game"),
        app(local(MONDAY + timedelta(2), 12), 20, CHAT, app_name="Chat"),
        screen(local(MONDAY, 9), 40),  # 09:00 to 09:40, before the game
        app(local(MONDAY - timedelta(5), 12), 60, GAME, app_name="Game"),  # the week before
    )
    assert sent.json()["accepted"] == 4, sent.text
    assert await send_weekly_summaries(runtime) == 0  # the child came after last week ended

    clock.set(WEEK_ENDS - timedelta(microseconds=1))  # Sunday 23:59:59.999999 in Almaty
    assert await send_weekly_summaries(runtime) == 0
    assert told == []

    clock.set(WEEK_ENDS)
    assert await send_weekly_summaries(runtime) == 1
    assert told == [
        WeeklyUsageSummary(
            occurred_at=WEEK_ENDS,
            summary_id=told[0].summary_id,
            child_id=uuid.UUID(family.child_id),
            week_start=MONDAY,
            week_end=date(2026, 11, 29),
            timezone="Asia/Almaty",
            total_minutes=90.0,
            previous_total_minutes=60.0,
            categories={Category.OTHER: 50.0},
            previous_categories={Category.OTHER: 60.0},
            top_apps=[
                SummaryAppFigure(
                    app=GAME, name="Game", category=Category.OTHER, minutes=30.0, share=0.6
                ),
                SummaryAppFigure(
                    app=CHAT, name="Chat", category=Category.OTHER, minutes=20.0, share=0.4
                ),
            ],
        )
    ]

    clock.advance(timedelta(minutes=5))
    assert await send_weekly_summaries(runtime) == 0
    await run_timers(runtime)  # the worker's round
    assert len(told) == 1

    clock.advance(timedelta(days=7))  # the next week has ended too
    await run_timers(runtime)
    assert [(e.week_start, e.total_minutes, e.previous_total_minutes) for e in told[1:]] == [
        (MONDAY + timedelta(7), 0.0, 90.0)
    ]


async def test_two_workers_at_once_send_one_summary(
    runtime: Runtime,
    clock: FrozenClock,
    kit_settings: KitSettings,
    parental_settings: ParentalSettings,
    family: FamilyWorld,
    other_family: FamilyWorld,
    told: list[WeeklyUsageSummary],
) -> None:
    clock.set(WEEK_ENDS + timedelta(hours=1))
    async with open_runtime(kit_settings, parental_settings, clock, LogSmsSender()) as second:
        also_told = listen(second)
        counts = await asyncio.gather(
            send_weekly_summaries(runtime),
            send_weekly_summaries(second),
            send_weekly_summaries(runtime),
            send_weekly_summaries(second),
        )
    assert sum(counts) == 2
    summaries = sorted((e.child_id, e.week_start) for e in told + also_told)
    assert summaries == sorted((uuid.UUID(f.child_id), MONDAY) for f in (family, other_family))


async def test_no_summary_once_the_child_is_18(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
    told: list[WeeklyUsageSummary],
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)  # 18 on Thursday
    assert (await upload(client, teen, app(local(MONDAY, 10), 30, GAME))).is_success
    clock.set(WEEK_ENDS)
    assert await send_weekly_summaries(runtime) == 0
    clock.advance(timedelta(days=7))
    await run_timers(runtime)
    assert told == []
    assert await marks(runtime) == 2  # both weeks dealt with, neither told


async def test_the_marks_go_with_the_usage_retention(
    runtime: Runtime, clock: FrozenClock, family: FamilyWorld, told: list[WeeklyUsageSummary]
) -> None:
    clock.set(WEEK_ENDS)
    assert await send_weekly_summaries(runtime) == 1
    assert await marks(runtime) == 1
    days = runtime.settings.usage_retention_days
    clock.set(datetime(2026, 11, 23, 12, tzinfo=UTC) + timedelta(days=days))
    assert (await purge_expired(runtime)).usage_notices == 0  # the week began that long ago
    clock.advance(timedelta(days=1))
    assert (await purge_expired(runtime)).usage_notices == 1
    assert await marks(runtime) == 0
