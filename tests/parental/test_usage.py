"""Screen-time usage through the API: the device's uploads (a verdict per session,
idempotent, sessions extended), the guardian's day with the audit row the child sees, the
monitoring rules, the purge once the clock has moved on, the child's removal and the rate."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.usage import service
from telemetry.usage.models import UsageSession
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import minor_turning_18_tomorrow


def app(
    start: datetime, minutes: float, name: str = "com.example.game", **changes: Any
) -> dict[str, Any]:
    return {
        "kind": "app",
        "app": name,
        "app_name": "Example Game",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
        **changes,
    }


def screen(start: datetime, minutes: float, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "screen",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
        **changes,
    }


async def upload(
    client: httpx.AsyncClient, family: FamilyWorld, *sessions: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        "/v1/device/usage", headers=family.device_headers, json={"sessions": list(sessions)}
    )


async def today(client: httpx.AsyncClient, family: FamilyWorld) -> httpx.Response:
    return await client.get(
        f"/v1/children/{family.child_id}/usage/today", headers=family.guardian.headers
    )


async def minutes(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, float]:
    """Today's minutes per app, and in total under "*"."""
    response = await today(client, family)
    assert response.status_code == 200, response.text
    body = response.json()
    return {**{a["app"]: a["minutes"] for a in body["apps"]}, "*": body["total_minutes"]}


async def stored_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(UsageSession)) or 0)


async def child_zone(client: httpx.AsyncClient, family: FamilyWorld) -> ZoneInfo:
    child = await client.get(f"/v1/children/{family.child_id}", headers=family.guardian.headers)
    return ZoneInfo(child.json()["timezone"])


async def local_midnight(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> datetime:
    """The start of the child's local today."""
    zone = await child_zone(client, family)
    return datetime.combine(clock.now().astimezone(zone).date(), time(0), tzinfo=zone)


# --- uploads ----------------------------------------------------------------------------


async def test_a_batch_gets_a_verdict_per_session_and_keeps_the_good_ones(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    now = clock.now()
    first = await upload(client, family, app(now - timedelta(hours=2), 20, client_id="a"))
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 1

    response = await upload(
        client,
        family,
        app(now - timedelta(hours=1), 15, "org.example.chat", app_name="Chat", client_id="b"),
        screen(now - timedelta(hours=1, minutes=5), 30, client_id="c"),
        app(now - timedelta(hours=2), 20, client_id="a"),  # sent before
        app(now - timedelta(hours=1), 15, "org.example.chat", app_name="Chat", client_id="b2"),
        app(now - timedelta(minutes=30), 0, client_id="empty"),
        app(now - timedelta(minutes=30), -5),
        screen(now - timedelta(hours=30), 25 * 60),
        app(now - timedelta(minutes=1), 10),  # ends 9 minutes ahead: more than the skew
        app(now - timedelta(days=91), 10),
        app(now - timedelta(minutes=40), 5, "com.example game"),
        app(now - timedelta(minutes=40), 5, ""),
        app(now - timedelta(minutes=40), 5, "x" * 256),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 2, 8)
    assert [(i["index"], i["client_id"], i["status"], i["reason"]) for i in body["items"]] == [
        (0, "b", "accepted", None),
        (1, "c", "accepted", None),
        (2, "a", "duplicate", None),
        (3, "b2", "duplicate", None),  # earlier in this batch
        (4, "empty", "rejected", "invalid_period"),
        (5, None, "rejected", "invalid_period"),
        (6, None, "rejected", "too_long"),
        (7, None, "rejected", "in_future"),
        (8, None, "rejected", "too_old"),
        (9, None, "rejected", "invalid_app"),
        (10, None, "rejected", "invalid_app"),
        (11, None, "rejected", "invalid_app"),
    ]
    assert await stored_count(runtime) == 3

    day = (await today(client, family)).json()
    assert day["apps"] == [
        {"app": "com.example.game", "name": "Example Game", "category": "other", "minutes": 20.0},
        {"app": "org.example.chat", "name": "Chat", "category": "other", "minutes": 15.0},
    ]
    assert day["categories"] == [{"category": "other", "minutes": 35.0}]
    assert day["total_minutes"] == 50.0  # the game's 20 and the screen's 30 (the chat within)


async def test_the_same_batch_twice_is_all_duplicate_and_counts_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    now = clock.now()
    batch = [
        app(now - timedelta(hours=3), 30),
        app(now - timedelta(hours=2), 10, "org.example.chat"),
        screen(now - timedelta(hours=3), 45),
    ]
    assert (await upload(client, family, *batch)).json()["accepted"] == 3
    before = await minutes(client, family)
    again = (await upload(client, family, *batch)).json()
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 3, 0)
    assert {i["status"] for i in again["items"]} == {"duplicate"}
    assert (
        await minutes(client, family)
        == before
        == {
            "com.example.game": 30.0,
            "org.example.chat": 10.0,
            "*": 55.0,
        }
    )
    assert await stored_count(runtime) == 3


async def test_overlapping_sessions_count_once(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    t = clock.now() - timedelta(hours=2)
    response = await upload(
        client,
        family,
        app(t, 30),
        app(t + timedelta(minutes=15), 30),  # the agent restarted: 15 minutes reported twice
        app(t + timedelta(minutes=20), 20, "org.example.video"),  # split screen
        screen(t - timedelta(minutes=10), 40),
        screen(t + timedelta(minutes=20), 40),
    )
    assert response.json()["accepted"] == 5
    assert await minutes(client, family) == {
        "com.example.game": 45.0,
        "org.example.video": 20.0,
        "*": 70.0,
    }
    categories = (await today(client, family)).json()["categories"]
    assert categories == [{"category": "other", "minutes": 45.0}]


async def test_a_session_sent_again_with_a_later_end_is_extended(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    t = clock.now() - timedelta(hours=1)
    assert (await upload(client, family, app(t, 10))).json()["accepted"] == 1
    longer = (await upload(client, family, app(t, 30), app(t, 25))).json()
    assert [i["status"] for i in longer["items"]] == ["accepted", "duplicate"]
    assert (await minutes(client, family))["com.example.game"] == 30.0
    shorter = (await upload(client, family, app(t, 20))).json()
    assert shorter["items"][0]["status"] == "duplicate"
    assert (await minutes(client, family))["com.example.game"] == 30.0
    assert await stored_count(runtime) == 1


async def test_a_session_across_local_midnight_is_split_between_the_days(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    midnight = await local_midnight(client, clock, family)
    assert (await upload(client, family, app(midnight - timedelta(minutes=30), 75))).is_success
    assert await minutes(client, family) == {"com.example.game": 45.0, "*": 45.0}

    zone = await child_zone(client, family)
    async with runtime.sessions() as session:
        yesterday = await service.usage_for_day(
            session,
            uuid.UUID(family.child_id),
            midnight.date() - timedelta(days=1),
            zone,
            {},
        )
    assert (dict(yesterday.apps), yesterday.total) == ({"com.example.game": 30.0}, 30.0)

    clock.advance(timedelta(days=1))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)  # a day: a new token
    assert await minutes(client, family) == {"*": 0.0}  # a new day: nothing used yet


async def test_more_than_a_thousand_sessions_are_refused_whole(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    start = clock.now() - timedelta(hours=20)
    sessions = [screen(start + timedelta(seconds=i), 0.01) for i in range(1001)]
    refused = await upload(client, family, *sessions)
    assert refused.status_code == 422
    assert await stored_count(runtime) == 0
    assert (await upload(client, family, *sessions[:1000])).json()["accepted"] == 1000


async def test_a_malformed_session_is_refused_whole(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    t = clock.now() - timedelta(hours=1)
    for bad in (
        {**app(t, 5), "kind": "audio"},
        {**app(t, 5), "started_at": "2026-11-25T08:00:00"},  # naive
        {**screen(t, 5), "app": "com.example.game"},
        {k: v for k, v in app(t, 5).items() if k != "app_name"},
    ):
        response = await upload(client, family, app(t, 5), bad)
        assert response.status_code == 422, response.text
    assert await stored_count(runtime) == 0


# --- guardians and monitoring -------------------------------------------------------------


async def test_another_familys_guardian_gets_404(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    response = await client.get(
        f"/v1/children/{family.child_id}/usage/today", headers=other_family.guardian.headers
    )
    assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound")


async def test_the_child_sees_that_the_guardian_looked(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await today(client, family)).status_code == 200
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    viewed = [e for e in events.json()["items"] if e["action"].startswith("usage.")]
    zone = await child_zone(client, family)
    assert [(e["action"], e["details"]) for e in viewed] == [
        ("usage.viewed", {"day": clock.now().astimezone(zone).date().isoformat()})
    ]


async def test_nothing_is_stored_or_shown_once_the_child_is_18(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    assert (await upload(client, teen, screen(clock.now() - timedelta(hours=1), 5))).is_success

    clock.advance(timedelta(days=1))
    refused = await upload(client, teen, screen(clock.now() - timedelta(hours=1), 5))
    assert (refused.status_code, refused.json()["error"]) == (410, "MonitoringEndedAdult")
    assert await stored_count(runtime) == 1
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)  # a day: a new token
    read = await today(client, teen)
    assert (read.status_code, read.json()["error"]) == (410, "MonitoringEndedAdult")
    events = await client.get("/v1/device/audit-events", headers=teen.device_headers)
    assert [e for e in events.json()["items"] if e["action"].startswith("usage.")] == []


# --- retention and removal ----------------------------------------------------------------


async def test_the_worker_purges_sessions_and_app_names_after_90_days(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    t0 = clock.now()
    old, recent = t0 - timedelta(days=89), t0 - timedelta(hours=1)
    assert (await upload(client, family, screen(old, 10), screen(recent, 10))).json()[
        "accepted"
    ] == 2
    named = app(t0 - timedelta(minutes=30), 5)
    assert (await upload(client, family, named)).json()["accepted"] == 1

    clock.advance(timedelta(days=1))
    assert (await purge_expired(runtime)).usage == 0  # exactly 90 days old: kept
    clock.advance(timedelta(milliseconds=1))
    assert (await purge_expired(runtime)).usage == 1
    assert await stored_count(runtime) == 2

    clock.advance(timedelta(days=90))
    assert (await purge_expired(runtime)).usage == 3  # two sessions and the app's name
    assert await stored_count(runtime) == 0


async def test_removing_the_child_erases_its_sessions(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    t = clock.now() - timedelta(hours=1)
    assert (await upload(client, family, app(t, 5), screen(t, 5))).is_success
    assert (await upload(client, other_family, app(t, 5))).is_success
    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text
    assert await stored_count(runtime) == 1
    assert (await minutes(client, other_family))["com.example.game"] == 5.0


class TestUploadRate:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(limit_usage_uploads_per_device="3/minute")

    async def test_a_device_past_its_upload_rate_is_refused_and_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        clock: FrozenClock,
        family: FamilyWorld,
        other_family: FamilyWorld,
    ) -> None:
        for n in range(3):
            sent = await upload(client, family, screen(clock.now() - timedelta(hours=n + 1), 5))
            assert sent.status_code == 200, sent.text
        refused = await upload(client, family, screen(clock.now() - timedelta(hours=5), 5))
        assert (refused.status_code, refused.json()["error"]) == (429, "TooManyRequests")
        assert int(refused.headers["retry-after"]) > 0
        assert await stored_count(runtime) == 3
        other = await upload(client, other_family, screen(clock.now() - timedelta(hours=1), 5))
        assert other.status_code == 200, other.text
