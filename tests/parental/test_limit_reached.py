"""An upload that uses up one of today's limits: the answer tells the device to fetch its
policy now, and the guardians hear of it once per limit and local day, if they want to.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.worker import purge_expired
from telemetry.usage.events import ScreenTimeLimitReached
from telemetry.usage.reports.models import LimitReachedMark
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_screen_time import extra_time, policy, put_rules
from tests.parental.test_screen_time_tasks import answer, done, task
from tests.parental.test_usage import app, screen, upload

ALMATY = ZoneInfo("Asia/Almaty")
TODAY = date(2026, 11, 25)
GAME, CHAT = "test.limit.game", "test.limit.chat"
RULES: dict[str, Any] = {
    "app_limits": {GAME: {"minutes": 30}},
    "category_limits": {"other": {"minutes": 60}},
    "total_limit": {"minutes": 120},
}


def local(hour: int, minute: int = 0, day: date = TODAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ALMATY)


@pytest.fixture
def told(runtime: Runtime) -> list[ScreenTimeLimitReached]:
    """Every ScreenTimeLimitReached published on the bus."""
    events: list[ScreenTimeLimitReached] = []

    async def keep(event: ScreenTimeLimitReached) -> None:
        events.append(event)

    runtime.bus.subscribe(ScreenTimeLimitReached, keep)
    return events


async def send(
    client: httpx.AsyncClient, family: FamilyWorld, *sessions: dict[str, Any]
) -> dict[str, Any]:
    response = await upload(client, family, *sessions)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def what(events: list[ScreenTimeLimitReached]) -> list[tuple[str, str | None, int]]:
    return [(e.limit, e.app or e.category, e.minutes) for e in events]


async def marks(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LimitReachedMark)) or 0)


async def test_an_app_limit_used_up_is_told_once_and_the_device_fetches_its_policy(
    client: httpx.AsyncClient, family: FamilyWorld, told: list[ScreenTimeLimitReached]
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    first = await send(client, family, app(local(9), 20, GAME, app_name="Game"))
    assert (first["accepted"], first["sync_policy"], told) == (1, False, [])

    used_up = await send(client, family, app(local(10), 15, GAME, app_name="Game"))
    assert (used_up["accepted"], used_up["sync_policy"]) == (1, True)
    assert len(told) == 1
    event = told[0]
    assert (event.child_id, event.day, event.timezone) == (
        uuid.UUID(family.child_id),
        TODAY,
        "Asia/Almaty",
    )
    assert (event.limit, event.app, event.app_name, event.category, event.minutes) == (
        "app",
        GAME,
        "Game",
        None,
        30,
    )
    decision = (await policy(client, family)).json()["decision"]["apps"][GAME]
    assert (decision["allowed"], decision["reason"]) == (False, "app_limit")

    more = await send(client, family, app(local(11), 5, GAME))  # already used up
    assert (more["accepted"], more["sync_policy"]) == (1, False)
    again = await send(client, family, app(local(10), 15, GAME))  # sent before
    assert (again["duplicate"], again["sync_policy"]) == (1, False)
    assert len(told) == 1


async def test_used_up_again_after_extra_time_is_not_told_twice(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    told: list[ScreenTimeLimitReached],
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await send(client, family, app(local(9), 35, GAME)))["sync_policy"] is True
    assert (await extra_time(client, family, app=GAME, minutes=10)).status_code == 200
    assert (await policy(client, family)).json()["decision"]["apps"][GAME]["allowed"] is True

    again = await send(client, family, app(local(10), 10, GAME))  # the extra time used up
    assert again["sync_policy"] is True
    assert what(told) == [("app", GAME, 30)]
    assert await marks(runtime) == 1


async def test_an_upload_past_several_limits_tells_each(
    client: httpx.AsyncClient, family: FamilyWorld, told: list[ScreenTimeLimitReached]
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    body = await send(
        client,
        family,
        app(local(8), 40, GAME),  # the game's 30 and ...
        app(local(9), 30, CHAT),  # ... the category's 60 (apps of "other")
        screen(local(10), 50),  # and the screen on: 120 in all
    )
    assert (body["accepted"], body["sync_policy"]) == (3, True)
    assert what(told) == [("app", GAME, 30), ("category", "other", 60), ("total", None, 120)]


async def test_no_event_when_the_guardians_do_not_want_it_but_the_device_still_syncs(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    told: list[ScreenTimeLimitReached],
) -> None:
    rules = {**RULES, "notify_limit_reached": False}
    put = await put_rules(client, family, rules)
    assert (put.status_code, put.json()["notify_limit_reached"]) == (200, False)
    body = await send(client, family, app(local(9), 45, GAME))
    assert (body["accepted"], body["sync_policy"]) == (1, True)
    assert told == []
    assert await marks(runtime) == 0


async def test_without_limits_nothing_is_told_or_synced(
    client: httpx.AsyncClient, family: FamilyWorld, told: list[ScreenTimeLimitReached]
) -> None:
    body = await send(client, family, app(local(8), 300, GAME))
    assert (body["accepted"], body["sync_policy"], told) == (1, False, [])
    blocked = await put_rules(client, family, {"blocked": [GAME]})
    assert blocked.status_code == 200
    assert (await send(client, family, app(local(13), 5, GAME)))["sync_policy"] is False


async def test_the_limits_of_another_day_and_of_another_child(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
    told: list[ScreenTimeLimitReached],
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    yesterday = TODAY - timedelta(days=1)
    late = await send(client, family, app(local(9, day=yesterday), 45, GAME))
    assert (late["accepted"], late["sync_policy"], told) == (1, False, [])  # not today's
    theirs = await send(client, other_family, app(local(9), 45, GAME))
    assert (theirs["sync_policy"], told) == (False, [])  # the other child has no limits

    assert (await send(client, family, app(local(9), 45, GAME)))["sync_policy"] is True
    clock.advance(timedelta(days=1))  # Thursday: the limits start again
    assert (await send(client, family, app(local(9, day=TODAY + timedelta(1)), 45, GAME)))[
        "sync_policy"
    ] is True
    assert [(e.day, e.child_id) for e in told] == [
        (TODAY, uuid.UUID(family.child_id)),
        (TODAY + timedelta(1), uuid.UUID(family.child_id)),
    ]


async def test_the_marks_are_purged_with_the_usage_and_with_the_child(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    told: list[ScreenTimeLimitReached],
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await send(client, family, app(local(9), 45, GAME)))["sync_policy"] is True
    assert await marks(runtime) == 1
    clock.advance(timedelta(days=runtime.settings.usage_retention_days))
    assert (await purge_expired(runtime)).usage_notices == 0  # the day is not that old yet
    clock.advance(timedelta(days=1))
    assert (await purge_expired(runtime)).usage_notices == 1
    assert await marks(runtime) == 0

    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert (await put_rules(client, family, RULES)).status_code == 200
    today = clock.now().astimezone(ALMATY).date()
    assert (await send(client, family, app(local(9, day=today), 45, GAME)))["sync_policy"]
    assert await marks(runtime) == 1
    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text
    assert await marks(runtime) == 0


async def test_a_reward_for_the_total_is_not_a_limit_reached(
    client: httpx.AsyncClient, family: FamilyWorld, told: list[ScreenTimeLimitReached]
) -> None:
    """Total limit 60, a task's reward of 30 for the total, 65 minutes used: 25 are left, so the
    upload neither syncs nor tells; using up the 90 does, once."""
    assert (await put_rules(client, family, {"total_limit": {"minutes": 60}})).status_code == 200
    made = await task(client, family, 30)  # neither an app nor a category: the total
    assert (await done(client, family, made["id"])).status_code == 200
    assert (await answer(client, family, made["id"], "approve")).status_code == 200

    body = await send(client, family, screen(local(9), 65))
    assert (body["accepted"], body["sync_policy"], told) == (1, False, [])
    assert (await policy(client, family)).json()["decision"]["total_minutes_left"] == 25.0

    body = await send(client, family, screen(local(11), 25))
    assert (body["accepted"], body["sync_policy"]) == (1, True)
    assert what(told) == [("total", None, 90)]
