"""A change to the child's screen-time policy wakes the child's devices with an FCM data
message (``sync_policy``), so they fetch the policy at once instead of at their next poll:
the guardian's rules, pause and extra time, an answer that changes the policy (extra time
granted, any install answer, a task's reward), a curator's change of an app's category or
always-allowed mark (for the children it matters to), and a change of the child's time zone.
Nothing else wakes them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.notifications.dispatcher import dispatch_round
from parental.runtime import Runtime
from tests.fakes.fcm import FakeFcm
from tests.parental.commands.conftest import DEVICE_TOKEN, register_device_token
from tests.parental.factories import FamilyWorld
from tests.parental.notifications.conftest import fcm_token
from tests.parental.test_app_catalogue_admin import put_app
from tests.parental.test_screen_time import RULES, pause, put_rules
from tests.parental.test_screen_time_requests import answer, ask_install, ask_time
from tests.parental.test_screen_time_tasks import answer as answer_task
from tests.parental.test_screen_time_tasks import done, task
from tests.parental.test_usage import app, upload

pytestmark = pytest.mark.usefixtures("push_sender")


async def wake_ups(runtime: Runtime, fcm: FakeFcm) -> list[dict[str, Any]]:
    await dispatch_round(runtime)
    return [r.body["message"] for r in fcm.to(DEVICE_TOKEN)]


async def test_new_rules_and_a_pause_wake_the_device(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fcm: FakeFcm,
    clock: FrozenClock,
    family: FamilyWorld,
) -> None:
    await register_device_token(client, family)
    assert (await put_rules(client, family, RULES)).status_code == 200
    [woken] = await wake_ups(runtime, fcm)
    assert woken["data"] == {
        "type": "sync_policy",
        "child_id": family.child_id,
        "notify_child": "true",
    }
    # A device offline through several changes gets one message, not one per change.
    assert woken["android"] == {"priority": "high", "ttl": "3600s", "collapse_key": "sync_policy"}
    assert woken["apns"]["headers"]["apns-collapse-id"] == "sync_policy"

    assert (await pause(client, family, clock.now() + timedelta(hours=1))).status_code == 200
    assert len(await wake_ups(runtime, fcm)) == 2


async def test_an_approved_request_wakes_the_device_and_a_declined_one_does_not(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    declined = await ask_time(client, family, minutes=15)
    assert (await answer(client, family, declined["id"], decision="decline")).status_code == 200
    assert await wake_ups(runtime, fcm) == []

    approved = await ask_time(client, family, minutes=15)
    response = await answer(client, family, approved["id"], decision="approve", minutes=15)
    assert response.status_code == 200, response.text
    assert [m["data"]["type"] for m in await wake_ups(runtime, fcm)] == ["sync_policy"]


async def test_a_device_without_a_token_is_not_woken_and_the_change_still_lands(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    assert (await put_rules(client, family, RULES)).status_code == 200
    await dispatch_round(runtime)
    assert fcm.received == []
    policy = await client.get("/v1/device/policy", headers=family.device_headers)
    assert policy.status_code == 200


async def test_every_install_answer_wakes_the_device(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    """A declined install blocks the app, an approved one lets it run: both change the policy
    the device enforces, so both wake it."""
    await register_device_token(client, family)
    declined = await ask_install(client, family, "org.example.maps")
    assert declined.status_code == 201, declined.text
    response = await answer(client, family, declined.json()["id"], decision="decline")
    assert response.status_code == 200, response.text
    assert [m["data"]["type"] for m in await wake_ups(runtime, fcm)] == ["sync_policy"]

    approved = await ask_install(client, family, "org.example.game")
    assert approved.status_code == 201, approved.text
    response = await answer(client, family, approved.json()["id"], decision="approve")
    assert response.status_code == 200, response.text
    assert len(await wake_ups(runtime, fcm)) == 2


async def test_a_tasks_reward_wakes_the_device_and_a_new_task_does_not(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    made = await task(client, family, 15)
    assert (await done(client, family, made["id"])).status_code == 200
    assert await wake_ups(runtime, fcm) == []
    assert (await answer_task(client, family, made["id"], "approve")).status_code == 200
    assert len(await wake_ups(runtime, fcm)) == 1


async def test_a_curators_category_or_mark_change_wakes_the_children_with_the_app(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fcm: FakeFcm,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
    staff: dict[str, str],
) -> None:
    """The child whose device reported the app and has rules is woken, and so is one whose
    rules only name it; a child without the app, or without rules, is not; a new name alone
    wakes nobody."""
    used, named, unused = "org.example.used", "org.example.named", "org.example.unused"
    other_token = fcm_token("other-child-phone")
    await register_device_token(client, family)
    await register_device_token(client, other_family, other_token)
    session = app(clock.now() - timedelta(hours=1), 10, used)
    assert (await upload(client, family, session)).status_code == 200
    assert (await upload(client, other_family, session)).status_code == 200
    assert (await put_rules(client, family, RULES)).status_code == 200

    async def woken() -> list[tuple[str, str]]:
        """Who was woken since the last call: (token, child id)."""
        await dispatch_round(runtime)
        found = sorted(
            (r.token, r.body["message"]["data"]["child_id"])
            for r in fcm.received
            if r.body["message"]["data"]["type"] == "sync_policy"
        )
        fcm.received.clear()
        return found

    await woken()  # the rules' own
    assert (await put_app(client, staff, used, category="games")).status_code == 201
    assert await woken() == [(DEVICE_TOKEN, family.child_id)]  # the other child has no rules

    blocked = await put_rules(client, other_family, {"blocked": [named]})
    assert blocked.status_code == 200, blocked.text
    await woken()
    assert (await put_app(client, staff, used, name="Renamed", category="games")).is_success
    assert (await put_app(client, staff, unused, category="games")).status_code == 201
    assert await woken() == []

    marked = await put_app(client, staff, named, category="other", always_allowed=True)
    assert marked.status_code == 201, marked.text
    assert await woken() == [(other_token, other_family.child_id)]  # its rules name it

    items = [
        {"app": used, "name": "Renamed", "category": "video"},
        {"app": named, "name": "Example", "category": "other"},  # the mark taken off
    ]
    imported = await client.post("/admin/v1/apps/import", headers=staff, json={"items": items})
    assert imported.status_code == 200, imported.text
    both = sorted([(DEVICE_TOKEN, family.child_id), (other_token, other_family.child_id)])
    assert await woken() == both  # once each

    assert (await client.delete(f"/admin/v1/apps/{used}", headers=staff)).status_code == 204
    assert await woken() == both  # video, now other


async def test_a_new_time_zone_wakes_the_device_and_a_new_name_does_not(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    child = f"/v1/children/{family.child_id}"
    renamed = await client.patch(child, headers=family.guardian.headers, json={"name": "Aru"})
    assert renamed.status_code == 200, renamed.text
    same = await client.patch(
        child, headers=family.guardian.headers, json={"timezone": renamed.json()["timezone"]}
    )
    assert same.status_code == 200, same.text
    assert await wake_ups(runtime, fcm) == []

    moved = await client.patch(
        child, headers=family.guardian.headers, json={"timezone": "Europe/Berlin"}
    )
    assert moved.status_code == 200, moved.text
    [woken] = await wake_ups(runtime, fcm)
    assert woken["data"]["type"] == "sync_policy"
