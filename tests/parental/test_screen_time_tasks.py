"""Tasks through the API: a guardian sets them, the child's device marks them done, the guardian
approves (the reward lands in the device's policy as extra time, for an app, a category or the
total) or declines; states that do not allow a step (409), validation, ownership, monitoring,
the audit rows the child sees, the event on the bus after commit, retention and removal.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.usage.events import TaskDone
from telemetry.usage.tasks.models import ScreenTimeTask
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import minor_turning_18_tomorrow
from tests.parental.test_screen_time import RULES, decision, get_rules, put_rules
from tests.parental.test_usage import app, screen, upload

GAME = "com.example.game"
DEVICE_TASKS = "/v1/device/screen-time/tasks"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(access_token_ttl_seconds=7 * 24 * 3600)


def child_tasks(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/screen-time/tasks"


async def create(client: httpx.AsyncClient, family: FamilyWorld, **body: Any) -> httpx.Response:
    return await client.post(child_tasks(family), headers=family.guardian.headers, json=body)


async def task(
    client: httpx.AsyncClient, family: FamilyWorld, reward: int = 20, **body: Any
) -> dict[str, Any]:
    response = await create(
        client, family, reward_minutes=reward, **({"title": "Tidy your room"} | body)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def done(client: httpx.AsyncClient, family: FamilyWorld, task_id: str) -> httpx.Response:
    return await client.post(f"{DEVICE_TASKS}/{task_id}/done", headers=family.device_headers)


async def answer(
    client: httpx.AsyncClient, family: FamilyWorld, task_id: str, verdict: str
) -> httpx.Response:
    return await client.post(
        f"{child_tasks(family)}/{task_id}/decision",
        headers=family.guardian.headers,
        json={"decision": verdict},
    )


async def listed(
    client: httpx.AsyncClient, family: FamilyWorld, **params: Any
) -> list[tuple[str, str]]:
    response = await client.get(child_tasks(family), headers=family.guardian.headers, params=params)
    assert response.status_code == 200, response.text
    return [(t["id"], t["status"]) for t in response.json()["items"]]


async def device_list(
    client: httpx.AsyncClient, family: FamilyWorld, **params: Any
) -> list[tuple[str, str]]:
    response = await client.get(DEVICE_TASKS, headers=family.device_headers, params=params)
    assert response.status_code == 200, response.text
    return [(t["id"], t["status"]) for t in response.json()["items"]]


async def seen_by_child(
    client: httpx.AsyncClient, family: FamilyWorld
) -> list[tuple[str, str, dict[str, Any]]]:
    """The child-visible audit rows of tasks: (action, actor, details), by action (the frozen
    clock gives them all one instant)."""
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    found = [
        (e["action"], e["actor_type"], e["details"])
        for e in events.json()["items"]
        if e["action"].startswith("screen_time_task.")
    ]
    return sorted(found, key=lambda event: event[0])


async def stored(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        query = select(func.count()).select_from(ScreenTimeTask)
        return int(await session.scalar(query) or 0)


@pytest.fixture
def heard(runtime: Runtime) -> list[TaskDone]:
    """Every TaskDone published, each checked to be committed when it arrives."""
    seen: list[TaskDone] = []

    async def keep(event: TaskDone) -> None:
        async with runtime.sessions() as session:  # another connection: sees only commits
            row = await session.get(ScreenTimeTask, event.task_id)
            assert row is not None
            assert row.status == "done"
        seen.append(event)

    runtime.bus.subscribe(TaskDone, keep)
    return seen


# --- the flow -------------------------------------------------------------------------------


async def test_a_task_done_and_approved_earns_its_reward_for_today(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, heard: list[TaskDone]
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    assert (await upload(client, family, app(clock.now() - timedelta(hours=2), 40))).is_success
    assert (await decision(client, family))["apps"][GAME]["reason"] == "app_limit"

    made = await task(client, family, 20, app=GAME, title="  Tidy your room ")
    assert {k: made[k] for k in ("title", "reward_minutes", "app", "category", "status")} == {
        "title": "Tidy your room",
        "reward_minutes": 20,
        "app": GAME,
        "category": None,
        "status": "open",
    }
    assert await device_list(client, family) == [(made["id"], "open")]

    marked = await done(client, family, made["id"])
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "done"
    assert datetime.fromisoformat(marked.json()["done_at"]) == clock.now()
    assert [(e.task_id, e.title, e.reward_minutes) for e in heard] == [
        (uuid.UUID(made["id"]), "Tidy your room", 20)
    ]
    again = await done(client, family, made["id"])
    assert (again.status_code, again.json()["error"]) == (409, "ScreenTimeTaskNotOpen")
    assert len(heard) == 1
    assert await device_list(client, family) == [(made["id"], "done")]  # waiting for an answer

    approved = await answer(client, family, made["id"], "approve")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["granted_day"]) == (
        "approved",
        "2026-11-25",
    )
    assert (await decision(client, family))["apps"][GAME] == {
        "allowed": True,
        "reason": "allowed",
        "minutes_left": 10.0,  # 30 - 40 + 20
    }
    twice = await answer(client, family, made["id"], "approve")
    assert (twice.status_code, twice.json()["error"]) == (409, "ScreenTimeTaskNotDone")
    assert len((await get_rules(client, family))["extra_time"]) == 1

    assert await device_list(client, family) == []  # nothing left to do
    assert await device_list(client, family, status="approved") == [(made["id"], "approved")]
    assert await seen_by_child(client, family) == [
        (
            "screen_time_task.created",
            "guardian",
            {"title": "Tidy your room", "reward_minutes": 20, "app": GAME},
        ),
        (
            "screen_time_task.decided",
            "guardian",
            {
                "title": "Tidy your room",
                "decision": "approve",
                "minutes": 20,
                "app": GAME,
                "day": "2026-11-25",
                "revision": 2,
            },
        ),
        ("screen_time_task.done", "device", {"title": "Tidy your room"}),
    ]


async def test_a_reward_for_the_total_lifts_a_spent_total_limit(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    rules = {"total_limit": {"minutes": 60}, "app_limits": {"com.example.chat": {"minutes": 10}}}
    assert (await put_rules(client, family, rules)).status_code == 200
    start = clock.now() - timedelta(hours=3)
    assert (await upload(client, family, screen(start, 60), app(start, 60))).is_success
    before = await decision(client, family)
    assert (before["total_minutes_left"], before["apps"][GAME]["reason"]) == (0.0, "total_limit")

    made = await task(client, family, 30)  # neither an app nor a category: the total
    assert (made["app"], made["category"]) == (None, None)
    assert (await done(client, family, made["id"])).is_success
    assert (await answer(client, family, made["id"], "approve")).is_success
    after = await decision(client, family)
    assert after["total_minutes_left"] == 30.0
    assert after["apps"][GAME] == {"allowed": True, "reason": "allowed", "minutes_left": 30.0}
    # An app past its own limit gets nothing from a grant to the total.
    assert after["apps"]["com.example.chat"]["minutes_left"] == 10.0
    grants = (await get_rules(client, family))["extra_time"]
    assert [(g["app"], g["category"], g["minutes"]) for g in grants] == [(None, None, 30)]
    assert (await seen_by_child(client, family))[1][2]["total"] is True

    clock.advance(timedelta(days=1))  # Thursday: the reward was for Wednesday
    assert (await decision(client, family))["total_minutes_left"] == 60.0


async def test_a_declined_task_earns_nothing(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    made = await task(client, family, category="games")
    assert (await done(client, family, made["id"])).is_success
    declined = await answer(client, family, made["id"], "decline")
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["granted_day"]) == ("declined", None)
    assert (await get_rules(client, family))["revision"] == 0
    assert await device_list(client, family, status="declined") == [(made["id"], "declined")]
    assert (await seen_by_child(client, family))[1][2] == {
        "title": "Tidy your room",
        "decision": "decline",
    }


async def test_a_task_not_done_cannot_be_answered(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    made = await task(client, family)
    for verdict in ("approve", "decline"):
        refused = await answer(client, family, made["id"], verdict)
        assert (refused.status_code, refused.json()["error"]) == (409, "ScreenTimeTaskNotDone")
    assert await listed(client, family) == [(made["id"], "open")]
    assert (await get_rules(client, family))["revision"] == 0


async def test_a_removed_task_is_gone_for_both(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    made = await task(client, family)
    kept = await task(client, family, title="Read a book")
    url = f"{child_tasks(family)}/{made['id']}"
    removed = await client.delete(url, headers=family.guardian.headers)
    assert removed.status_code == 204, removed.text
    assert await listed(client, family) == [(kept["id"], "open")]
    assert await stored(runtime) == 1
    gone = await client.delete(url, headers=family.guardian.headers)
    assert (gone.status_code, gone.json()["error"]) == (404, "ScreenTimeTaskNotFound")
    marked = await done(client, family, made["id"])
    assert (marked.status_code, marked.json()["error"]) == (404, "ScreenTimeTaskNotFound")
    assert (
        "screen_time_task.deleted",
        "guardian",
        {"title": "Tidy your room", "status": "open"},
    ) in (await seen_by_child(client, family))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"reward_minutes": 10},
        {"title": "", "reward_minutes": 10},
        {"title": "   ", "reward_minutes": 10},
        {"title": "x" * 201, "reward_minutes": 10},
        {"title": "tab\x1bhere", "reward_minutes": 10},
        {"title": "Tidy", "reward_minutes": 0},
        {"title": "Tidy", "reward_minutes": 241},
        {"title": "Tidy", "reward_minutes": 10, "app": GAME, "category": "games"},
        {"title": "Tidy", "reward_minutes": 10, "app": "not an app"},
        {"title": "Tidy", "reward_minutes": 10, "category": "chores"},
        {"title": "Tidy", "reward_minutes": 10, "status": "approved"},
    ],
)
async def test_invalid_tasks_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, body: dict[str, Any]
) -> None:
    refused = await create(client, family, **body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "ValidationError"
    assert await stored(runtime) == 0
    assert await seen_by_child(client, family) == []


@pytest.mark.parametrize("body", [{}, {"decision": "maybe"}, {"decision": "approve", "x": 1}])
async def test_invalid_answers_are_refused_and_change_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any]
) -> None:
    made = await task(client, family)
    assert (await done(client, family, made["id"])).is_success
    refused = await client.post(
        f"{child_tasks(family)}/{made['id']}/decision", headers=family.guardian.headers, json=body
    )
    assert refused.status_code == 422, refused.text
    assert await listed(client, family) == [(made["id"], "done")]


# --- who may ------------------------------------------------------------------------------


async def test_another_familys_guardian_and_device_reach_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
    heard: list[TaskDone],
) -> None:
    made = await task(client, family)
    theirs = other_family.guardian.headers
    one = f"{child_tasks(family)}/{made['id']}"
    for response in (
        await client.post(
            child_tasks(family), headers=theirs, json={"title": "x", "reward_minutes": 5}
        ),
        await client.get(child_tasks(family), headers=theirs),
        await client.delete(one, headers=theirs),
        await client.post(f"{one}/decision", headers=theirs, json={"decision": "approve"}),
    ):
        assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound")
    # Their own child's paths and device know nothing of our task.
    for response in (
        await done(client, other_family, made["id"]),
        await answer(client, other_family, made["id"], "approve"),
        await client.delete(f"{child_tasks(other_family)}/{made['id']}", headers=theirs),
    ):
        assert (response.status_code, response.json()["error"]) == (404, "ScreenTimeTaskNotFound")
    assert await device_list(client, other_family) == []
    assert await listed(client, family) == [(made["id"], "open")]
    assert heard == []
    assert await stored(runtime) == 1


async def test_nothing_is_set_or_done_once_the_child_is_18(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    made = await task(client, teen)

    clock.advance(timedelta(days=1))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)
    for response in (
        await create(client, teen, title="Another", reward_minutes=5),
        await client.get(child_tasks(teen), headers=teen.guardian.headers),
        await client.delete(f"{child_tasks(teen)}/{made['id']}", headers=teen.guardian.headers),
        await client.get(DEVICE_TASKS, headers=teen.device_headers),
        await done(client, teen, made["id"]),
    ):
        assert (response.status_code, response.json()["error"]) == (410, "MonitoringEndedAdult")
    assert await stored(runtime) == 1


class TestRate:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(limit_screen_time_requests_per_device="2/minute")

    async def test_marking_done_counts_against_the_devices_rate(
        self, client: httpx.AsyncClient, family: FamilyWorld
    ) -> None:
        made = [await task(client, family, title=f"Task {n}") for n in range(3)]
        for one in made[:2]:
            assert (await done(client, family, one["id"])).is_success
        refused = await done(client, family, made[2]["id"])
        assert (refused.status_code, refused.json()["error"]) == (429, "TooManyRequests")
        assert ((made[2]["id"], "open")) in await listed(client, family)


# --- retention and removal ----------------------------------------------------------------


async def test_tasks_are_purged_90_days_after_their_last_change(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    marked = await task(client, family)
    await task(client, family, title="Read a book")
    clock.advance(timedelta(days=10))
    assert (await done(client, family, marked["id"])).is_success  # a change: kept longer

    clock.advance(timedelta(days=80))
    assert (await purge_expired(runtime)).screen_time_tasks == 0  # exactly 90 days: kept
    clock.advance(timedelta(milliseconds=1))
    assert (await purge_expired(runtime)).screen_time_tasks == 1
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert await listed(client, family) == [(marked["id"], "done")]

    clock.advance(timedelta(days=10))
    assert (await purge_expired(runtime)).screen_time_tasks == 1
    assert await stored(runtime) == 0


async def test_removing_the_child_erases_its_tasks(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await task(client, family)
    await task(client, other_family)
    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text
    assert await stored(runtime) == 1
    assert len(await listed(client, other_family)) == 1
