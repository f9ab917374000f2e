"""A child's apps and their categories through the API: the guardian's list (reported apps,
apps the rules name, apps a guardian categorised, each with its category and where it comes
from), a guardian's category for one child winning over the catalogue's, the device's policy
and today's usage following both, audit rows the child's device shows, ownership, monitoring
and the child's removal.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in the child's Asia/Almaty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from telemetry.usage.catalogue import service as catalogue_service
from telemetry.usage.catalogue.models import ChildAppCategory
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import minor_turning_18_tomorrow
from tests.parental.test_screen_time import decision, put_rules
from tests.parental.test_usage import app, today, upload

VIDEO = "org.example.video"  # the catalogue puts it in video
GAME = "org.example.game"  # not in the catalogue: the guardian puts it in video
CHAT = "org.example.chat"  # named by the rules only
RULES = {"category_limits": {"video": {"minutes": 30}}, "always_allowed": [CHAT]}


def apps_url(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/apps"


def category_url(family: FamilyWorld, app_id: str) -> str:
    return f"{apps_url(family)}/{app_id}/category"


async def set_category(
    client: httpx.AsyncClient, family: FamilyWorld, app_id: str, category: Any
) -> httpx.Response:
    return await client.put(
        category_url(family, app_id), headers=family.guardian.headers, json={"category": category}
    )


async def clear_category(
    client: httpx.AsyncClient, family: FamilyWorld, app_id: str
) -> httpx.Response:
    return await client.delete(category_url(family, app_id), headers=family.guardian.headers)


async def child_apps(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, Any]:
    response = await client.get(apps_url(family), headers=family.guardian.headers)
    assert response.status_code == 200, response.text
    return {item.pop("app"): item for item in response.json()["items"]}


async def in_catalogue(
    client: httpx.AsyncClient, staff: dict[str, str], app_id: str, name: str, category: str
) -> None:
    response = await client.put(
        f"/admin/v1/apps/{app_id}", headers=staff, json={"name": name, "category": category}
    )
    assert response.is_success, response.text


async def apps_events(client: httpx.AsyncClient, family: FamilyWorld) -> list[tuple[str, Any]]:
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    found = [e for e in events.json()["items"] if e["action"].startswith("apps.")]
    found.sort(key=lambda e: datetime.fromisoformat(e["occurred_at"]))
    return [(e["action"], e["details"]) for e in found]


async def stored_overrides(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ChildAppCategory))
        return int(count or 0)


@pytest.fixture
async def used(
    client: httpx.AsyncClient, clock: FrozenClock, staff: dict[str, str], family: FamilyWorld
) -> FamilyWorld:
    """The child watched the video app 20 minutes and played the game 20 minutes this morning;
    the catalogue knows the video app; the rules limit video to 30 minutes a day."""
    await in_catalogue(client, staff, VIDEO, "Example Video", "video")
    now = clock.now()
    sent = await upload(
        client,
        family,
        app(now - timedelta(hours=3), 20, VIDEO, app_name="Video on the phone"),
        app(now - timedelta(hours=2), 20, GAME),
    )
    assert sent.json()["accepted"] == 2, sent.text
    assert (await put_rules(client, family, RULES)).status_code == 200
    return family


# --- the guardian's list and changes ----------------------------------------------------


async def test_the_list_shows_each_apps_category_and_where_it_comes_from(
    client: httpx.AsyncClient, clock: FrozenClock, used: FamilyWorld
) -> None:
    def tick() -> None:  # the audit rows of one instant have no order
        clock.advance(timedelta(seconds=1))

    assert await child_apps(client, used) == {
        CHAT: {"name": None, "category": "other", "source": "default"},
        GAME: {"name": "Example Game", "category": "other", "source": "default"},
        VIDEO: {"name": "Video on the phone", "category": "video", "source": "catalogue"},
    }

    tick()
    put = await set_category(client, used, GAME, "video")
    assert put.status_code == 200, put.text
    assert put.json() == {
        "app": GAME,
        "name": "Example Game",
        "category": "video",
        "source": "guardian",
    }
    tick()
    assert (await set_category(client, used, VIDEO, "education")).status_code == 200
    tick()
    # An app the child does not have yet may be categorised ahead.
    assert (await set_category(client, used, "org.example.future", "games")).status_code == 200
    tick()
    listed = await child_apps(client, used)
    assert listed[GAME] == {"name": "Example Game", "category": "video", "source": "guardian"}
    assert listed[VIDEO]["category"] == "education"
    assert listed["org.example.future"] == {"name": None, "category": "games", "source": "guardian"}

    tick()
    assert (await clear_category(client, used, VIDEO)).status_code == 204
    tick()
    assert (await clear_category(client, used, VIDEO)).status_code == 204  # nothing to clear
    tick()
    listed = await child_apps(client, used)
    assert listed[VIDEO] == {
        "name": "Video on the phone",
        "category": "video",
        "source": "catalogue",
    }

    assert await apps_events(client, used) == [
        ("apps.viewed", {}),
        ("apps.category_set", {"app": GAME, "category": "video", "previous": None}),
        ("apps.category_set", {"app": VIDEO, "category": "education", "previous": None}),
        (
            "apps.category_set",
            {"app": "org.example.future", "category": "games", "previous": None},
        ),
        ("apps.viewed", {}),
        ("apps.category_cleared", {"app": VIDEO, "previous": "education"}),
        ("apps.viewed", {}),
    ]


async def test_a_guardians_category_holds_for_that_child_only(
    client: httpx.AsyncClient, used: FamilyWorld, other_family: FamilyWorld
) -> None:
    assert (await set_category(client, used, VIDEO, "games")).status_code == 200
    assert (await set_category(client, other_family, VIDEO, "social")).status_code == 200
    assert (await child_apps(client, used))[VIDEO]["category"] == "games"
    assert (await child_apps(client, other_family))[VIDEO]["category"] == "social"


# --- what follows from the categories -----------------------------------------------------


async def test_the_devices_policy_applies_category_limits_by_catalogue_and_by_guardian(
    client: httpx.AsyncClient, clock: FrozenClock, used: FamilyWorld
) -> None:
    before = await decision(client, used)
    assert before["apps"][VIDEO] == {"allowed": True, "reason": "allowed", "minutes_left": 10.0}
    assert before["apps"][GAME]["minutes_left"] is None  # other: no limit
    assert before["categories"]["video"] == 10.0

    assert (await set_category(client, used, GAME, "video")).status_code == 200
    after = await decision(client, used)
    assert after["categories"]["video"] == 0.0  # 40 minutes of video now
    for app_id in (VIDEO, GAME):
        assert after["apps"][app_id] == {
            "allowed": False,
            "reason": "category_limit",
            "minutes_left": 0.0,
        }
    assert after["apps"][CHAT]["reason"] == "always_allowed"

    # The guardian takes the video app out of video: only the game's 20 minutes count.
    assert (await set_category(client, used, VIDEO, "education")).status_code == 200
    moved = await decision(client, used)
    assert moved["apps"][VIDEO] == {"allowed": True, "reason": "allowed", "minutes_left": None}
    assert moved["apps"][GAME] == {"allowed": True, "reason": "allowed", "minutes_left": 10.0}

    assert (await clear_category(client, used, GAME)).status_code == 204
    assert (await clear_category(client, used, VIDEO)).status_code == 204
    assert await decision(client, used) == before

    # A new local day: the video minutes start again.
    assert (await set_category(client, used, GAME, "video")).status_code == 200
    assert (await decision(client, used))["apps"][GAME]["allowed"] is False
    clock.advance(timedelta(hours=10))  # 00:00 on Thursday in Almaty
    assert (await decision(client, used))["apps"][GAME] == {
        "allowed": True,
        "reason": "allowed",
        "minutes_left": 30.0,
    }


async def test_a_curators_change_reaches_the_devices_policy(
    client: httpx.AsyncClient, staff: dict[str, str], used: FamilyWorld
) -> None:
    await in_catalogue(client, staff, GAME, "Example Game", "video")
    assert (await decision(client, used))["apps"][GAME]["reason"] == "category_limit"
    deleted = await client.delete(f"/admin/v1/apps/{VIDEO}", headers=staff)
    assert deleted.status_code == 204
    apps = (await decision(client, used))["apps"]
    assert apps[VIDEO]["minutes_left"] is None  # other now
    assert apps[GAME] == {"allowed": True, "reason": "allowed", "minutes_left": 10.0}


async def test_todays_usage_shows_the_categories(
    client: httpx.AsyncClient, used: FamilyWorld
) -> None:
    assert (await set_category(client, used, GAME, "games")).status_code == 200
    body = (await today(client, used)).json()
    assert {a["app"]: a["category"] for a in body["apps"]} == {VIDEO: "video", GAME: "games"}
    assert {c["category"]: c["minutes"] for c in body["categories"]} == {
        "video": 20.0,
        "games": 20.0,
    }


# --- bad input, ownership, monitoring, removal --------------------------------------------


@pytest.mark.parametrize(
    ("app_id", "body"),
    [
        (GAME, {"category": "gambling"}),
        (GAME, {"category": None}),
        (GAME, {}),
        (GAME, {"category": "games", "surprise": True}),
        ("org.example%20game", {"category": "games"}),
        ("x" * 256, {"category": "games"}),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    used: FamilyWorld,
    app_id: str,
    body: dict[str, Any],
) -> None:
    refused = await client.put(category_url(used, app_id), headers=used.guardian.headers, json=body)
    assert refused.status_code == 422, refused.text
    assert await stored_overrides(runtime) == 0
    assert await apps_events(client, used) == []


async def test_a_child_has_a_bounded_number_of_guardian_categories(
    client: httpx.AsyncClient,
    runtime: Runtime,
    used: FamilyWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalogue_service, "MAX_CHILD_CATEGORIES", 2)
    assert (await set_category(client, used, GAME, "video")).status_code == 200
    assert (await set_category(client, used, VIDEO, "games")).status_code == 200
    refused = await set_category(client, used, CHAT, "games")
    assert (refused.status_code, refused.json()["error"]) == (409, "TooManyAppCategories")
    assert (await set_category(client, used, GAME, "social")).status_code == 200  # a change
    assert await stored_overrides(runtime) == 2


async def test_another_familys_guardian_gets_404_and_changes_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    used: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    assert (await set_category(client, used, GAME, "video")).status_code == 200
    theirs = other_family.guardian.headers
    for response in (
        await client.get(apps_url(used), headers=theirs),
        await client.put(category_url(used, GAME), headers=theirs, json={"category": "games"}),
        await client.put(category_url(used, CHAT), headers=theirs, json={"category": "games"}),
        await client.delete(category_url(used, GAME), headers=theirs),
    ):
        assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound")
    # A device token is no guardian's.
    device = await client.get(apps_url(used), headers=other_family.device_headers)
    assert (device.status_code, device.json()["error"]) == (401, "InvalidAccessToken")
    assert (await child_apps(client, used))[GAME]["category"] == "video"
    assert await stored_overrides(runtime) == 1


async def test_nothing_is_shown_or_changed_once_the_child_is_18(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    assert (await set_category(client, teen, GAME, "video")).status_code == 200

    clock.advance(timedelta(days=1))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)  # a day: a new token
    for response in (
        await client.get(apps_url(teen), headers=teen.guardian.headers),
        await set_category(client, teen, GAME, "games"),
        await set_category(client, teen, VIDEO, "games"),
        await clear_category(client, teen, GAME),
    ):
        assert (response.status_code, response.json()["error"]) == (410, "MonitoringEndedAdult")
    async with runtime.sessions() as session:
        row = await session.scalar(select(ChildAppCategory))
    assert row is not None
    assert (row.app, row.category) == (GAME, "video")
    assert [a for a, _ in await apps_events(client, teen)] == ["apps.category_set"]


async def test_removing_the_child_erases_its_categories(
    client: httpx.AsyncClient,
    runtime: Runtime,
    used: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    assert (await set_category(client, used, GAME, "video")).status_code == 200
    assert (await set_category(client, used, VIDEO, "games")).status_code == 200
    assert (await set_category(client, other_family, GAME, "social")).status_code == 200
    removed = await client.delete(f"/v1/children/{used.child_id}", headers=used.guardian.headers)
    assert removed.status_code == 204, removed.text
    assert await stored_overrides(runtime) == 1
    assert (await child_apps(client, other_family))[GAME]["category"] == "social"
