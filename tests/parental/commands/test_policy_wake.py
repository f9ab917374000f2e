"""A change to the child's screen-time policy wakes the child's devices with an FCM data
message (``sync_policy``), so they fetch the policy at once instead of at their next poll."""

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
from tests.parental.test_screen_time import RULES, pause, put_rules
from tests.parental.test_screen_time_requests import answer, ask_time

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
