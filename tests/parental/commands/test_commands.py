"""Commands to the child's device, through the API, the outbox and the real firebase-admin SDK
to a local FCM server: what is sent (exactly), quotas, who may listen, the offline queue and
re-sending at check-in, acknowledgements, expiry, audit and retention."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.commands.models import DeviceCommand
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.dispatcher import dispatch_round
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from tests.conftest import START
from tests.fakes import fcm as answers
from tests.fakes.fcm import FakeFcm, Received
from tests.parental.commands.conftest import (
    DEVICE_TOKEN,
    ack,
    command_settings,
    give,
    register_device_token,
)
from tests.parental.factories import FamilyWorld, register_line, sign_in
from tests.parental.test_locations import fix, upload

pytestmark = pytest.mark.usefixtures("push_sender")


async def sent_to_device(runtime: Runtime, fcm: FakeFcm) -> list[Received]:
    await dispatch_round(runtime)
    return fcm.to(DEVICE_TOKEN)


async def stored(runtime: Runtime) -> int:
    async with transaction(runtime.sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(DeviceCommand)) or 0)


async def state(client: httpx.AsyncClient, family: FamilyWorld, command_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/v1/children/{family.child_id}/commands/{command_id}", headers=family.guardian.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_ring_goes_to_the_device_as_a_high_priority_data_message_that_tells_the_child(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    response = await give(client, family, {"kind": "ring"})
    assert response.status_code == 201, response.text
    command = response.json()
    assert command["state"] == "pending"
    assert command["pushes"] == 1

    expires = START + timedelta(seconds=runtime.settings.command_wait_seconds)
    assert datetime.fromisoformat(command["expires_at"]) == expires

    # The whole message, for an agent that registered no platform (Android's): silent (no
    # notification: the agent shows it itself), high priority, living a minute.
    [received] = await sent_to_device(runtime, fcm)
    assert received.body == {
        "message": {
            "token": DEVICE_TOKEN,
            "data": {
                "type": "command",
                "command_id": command["id"],
                "kind": "ring",
                "expires_at": expires.isoformat(),
                "notify_child": "true",
            },
            "android": {"priority": "high", "ttl": "60s"},
            "apns": {
                "headers": {
                    "apns-priority": "5",
                    "apns-push-type": "background",
                    "apns-expiration": str(int(START.timestamp()) + 60),
                },
                "payload": {"aps": {"content-available": 1}},
            },
        }
    }


async def test_nothing_in_the_api_turns_off_telling_the_child(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    for body in (
        {"kind": "ring", "notify_child": False},
        {"kind": "listen", "notify_child": "false"},
        {"kind": "message", "text": "hi", "silent": True},
    ):
        response = await give(client, family, body)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "ValidationError"
    assert await stored(runtime) == 0


async def test_a_message_carries_its_text_and_bad_commands_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    response = await give(client, family, {"kind": "message", "text": "Позвони маме"})
    assert response.status_code == 201, response.text
    [received] = await sent_to_device(runtime, fcm)
    assert received.body["message"]["data"]["text"] == "Позвони маме"

    for body in ({"kind": "message", "text": ""}, {"kind": "explode"}, {"kind": "message"}):
        assert (await give(client, family, body)).status_code == 422
    assert await stored(runtime) == 1


async def test_over_the_quota_is_429_and_nothing_is_sent(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fcm: FakeFcm,
    clock: FrozenClock,
    family: FamilyWorld,
) -> None:
    await register_device_token(client, family)
    for _ in range(10):
        assert (await give(client, family, {"kind": "ring"})).status_code == 201
        await dispatch_round(runtime)  # within the message's minute
        clock.advance(timedelta(seconds=30))
    over = await give(client, family, {"kind": "ring"})
    assert over.status_code == 429, over.text
    assert over.json()["error"] == "CommandOverQuota"
    # The first ring leaves the hour's window 55 minutes from now.
    assert 3299 <= int(over.headers["Retry-After"]) <= 3301
    assert await stored(runtime) == 10
    assert len(await sent_to_device(runtime, fcm)) == 10

    # Other kinds have their own quota.
    assert (await give(client, family, {"kind": "locate_now"})).status_code == 201
    clock.advance(timedelta(seconds=3301))
    guardian = await sign_in(client, runtime, family.guardian.phone)
    family.guardian = guardian
    assert (await give(client, family, {"kind": "ring"})).status_code == 201


async def test_listening_is_three_a_day_and_at_most_the_carriers_length(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    too_long = await give(client, family, {"kind": "listen", "seconds": 61})
    assert too_long.status_code == 400, too_long.text
    assert too_long.json()["error"] == "ListenTooLong"
    first = await give(client, family, {"kind": "listen"})
    assert first.status_code == 201, first.text
    assert first.json()["seconds"] == 60
    assert (await give(client, family, {"kind": "listen", "seconds": 20})).status_code == 201
    assert (await give(client, family, {"kind": "listen", "seconds": 30})).status_code == 201
    fourth = await give(client, family, {"kind": "listen"})
    assert fourth.status_code == 429
    assert await stored(runtime) == 3


class TestWhoMayListen:
    @pytest.fixture
    def parental_settings(self, fcm: FakeFcm) -> ParentalSettings:
        # The carrier offers listening to children under 9 only; the 72-hour rule applies.
        return command_settings(
            fcm, command_listen_age_bands=["under_9"], command_listen_guardian_min_hours=72
        )

    async def test_not_for_an_age_band_the_carrier_does_not_allow(
        self, client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
    ) -> None:
        response = await give(client, family, {"kind": "listen"})  # the child is 11
        assert response.status_code == 403
        assert response.json()["error"] == "ListenNotForThisAge"
        assert (await give(client, family, {"kind": "ring"})).status_code == 201
        assert await stored(runtime) == 1

    async def test_not_for_a_guardian_who_joined_less_than_72_hours_ago(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        clock: FrozenClock,
        carrier: dict[str, str],
    ) -> None:
        guardian = await sign_in(client, runtime, "+77011112233")
        await client.post("/v1/families", headers=guardian.headers, json={"name": "Family"})
        await register_line(client, carrier, "+77071112233", guardian.phone)
        child = await client.post(
            "/v1/children",
            headers=guardian.headers,
            json={
                "name": "Dana",
                "birthdate": "2019-05-01",
                "msisdn": "+77071112233",
                "consents": ["listening"],
                "consent_text_version": runtime.settings.consent_text_version,
            },
        )
        assert child.status_code == 201, child.text
        path = f"/v1/children/{child.json()['id']}/commands"

        refused = await client.post(path, headers=guardian.headers, json={"kind": "listen"})
        assert refused.status_code == 403
        assert refused.json()["error"] == "GuardianTooNew"
        clock.advance(timedelta(hours=71))
        guardian = await sign_in(client, runtime, guardian.phone)
        refused = await client.post(path, headers=guardian.headers, json={"kind": "listen"})
        assert refused.status_code == 403
        clock.advance(timedelta(hours=1, seconds=1))
        guardian = await sign_in(client, runtime, guardian.phone)
        allowed = await client.post(path, headers=guardian.headers, json={"kind": "listen"})
        assert allowed.status_code == 201, allowed.text


async def test_an_offline_device_gets_the_command_again_when_it_checks_in(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fcm: FakeFcm,
    clock: FrozenClock,
    family: FamilyWorld,
) -> None:
    # No token registered yet: the command waits.
    command = (await give(client, family, {"kind": "ring"})).json()
    assert command["pushes"] == 0
    await register_device_token(client, family)
    assert await sent_to_device(runtime, fcm) == []

    heartbeat = {"battery_pct": 80, "charging": False, "app_version": "2.0.0"}
    beat = await client.post("/v1/device/heartbeat", headers=family.device_headers, json=heartbeat)
    assert beat.status_code == 200, beat.text
    assert len(await sent_to_device(runtime, fcm)) == 1
    # Checking in again at once sends nothing more; after command_resend_seconds it does.
    clock.advance(timedelta(seconds=10))
    waiting = await client.get("/v1/device/commands", headers=family.device_headers)
    assert [c["id"] for c in waiting.json()["items"]] == [command["id"]]
    assert waiting.json()["items"][0]["notify_child"] is True
    assert len(await sent_to_device(runtime, fcm)) == 1
    clock.advance(timedelta(seconds=30))
    await client.get("/v1/device/commands", headers=family.device_headers)
    assert len(await sent_to_device(runtime, fcm)) == 2
    assert (await state(client, family, command["id"]))["pushes"] == 3 - 1

    # Received: no more re-sending.
    assert (await ack(client, family, command["id"], state="received")).status_code == 200
    clock.advance(timedelta(seconds=60))
    await client.get("/v1/device/commands", headers=family.device_headers)
    assert len(await sent_to_device(runtime, fcm)) == 2


async def test_the_device_acknowledges_and_the_guardian_sees_the_state(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    command = (await give(client, family, {"kind": "ring"})).json()
    cid = command["id"]
    missing_reason = await ack(client, family, cid, state="failed")
    assert missing_reason.status_code == 422

    received = await ack(client, family, cid, state="received")
    assert received.status_code == 200
    assert received.json()["state"] == "received"
    clock.advance(timedelta(seconds=5))
    done = await ack(client, family, cid, state="done")
    assert done.json()["state"] == "done"
    shown = await state(client, family, cid)
    assert shown["state"] == "done"
    assert shown["device_id"] == family.device_id
    assert shown["finished_at"] is not None
    assert shown["received_at"] < shown["finished_at"]

    again = await ack(client, family, cid, state="done")  # a retry of the same answer
    assert again.status_code == 200
    late = await ack(client, family, cid, state="received")
    assert late.status_code == 200
    assert late.json()["state"] == "done"
    changed_mind = await ack(client, family, cid, state="failed", reason="muted")
    assert changed_mind.status_code == 409
    assert changed_mind.json()["error"] == "CommandFinished"

    failing = (await give(client, family, {"kind": "message", "text": "hi"})).json()
    failed = await ack(client, family, failing["id"], state="failed", reason="screen locked")
    assert failed.json()["state"] == "failed"
    assert (await state(client, family, failing["id"]))["failure_reason"] == "screen locked"


async def test_a_command_not_finished_in_time_expires(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    command = (await give(client, family, {"kind": "ring"})).json()
    clock.advance(timedelta(seconds=runtime.settings.command_wait_seconds))
    late = await ack(client, family, command["id"], state="received")
    assert late.status_code == 410
    assert late.json()["error"] == "CommandExpired"
    waiting = await client.get("/v1/device/commands", headers=family.device_headers)
    assert waiting.json()["items"] == []
    guardian = await sign_in(client, runtime, family.guardian.phone)
    family.guardian = guardian
    assert (await state(client, family, command["id"]))["state"] == "expired"

    await purge_expired(runtime)  # the sweep stores it so
    async with transaction(runtime.sessions) as session:
        row = await session.get(DeviceCommand, uuid.UUID(command["id"]))
        assert row is not None
        assert row.state == "expired"


async def test_locate_now_is_done_with_a_fresh_fix(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    old_fix = clock.now() - timedelta(minutes=10)
    assert (await upload(client, family, fix(old_fix))).status_code == 200
    command = (await give(client, family, {"kind": "locate_now"})).json()
    cid = command["id"]

    without = await ack(client, family, cid, state="done")
    assert without.status_code == 409
    assert without.json()["error"] == "LocateNeedsFix"
    stale = await ack(client, family, cid, state="done", fix_time=old_fix.isoformat())
    assert stale.status_code == 409
    never_sent = clock.now() + timedelta(seconds=1)
    unknown = await ack(client, family, cid, state="done", fix_time=never_sent.isoformat())
    assert unknown.status_code == 409

    clock.advance(timedelta(seconds=8))
    fresh = clock.now()
    assert (await upload(client, family, fix(fresh))).status_code == 200
    done = await ack(client, family, cid, state="done", fix_time=fresh.isoformat())
    assert done.status_code == 200, done.text
    shown = await state(client, family, cid)
    assert shown["state"] == "done"
    assert shown["result"] == {"fix_time": fresh.isoformat()}


async def test_a_listen_is_done_by_its_audio_not_by_an_acknowledgement(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    command = (await give(client, family, {"kind": "listen", "seconds": 10})).json()
    response = await ack(client, family, command["id"], state="done")
    assert response.status_code == 409
    assert response.json()["error"] == "ListenNeedsAudio"
    failed = await ack(client, family, command["id"], state="failed", reason="no microphone")
    assert failed.status_code == 200
    assert failed.json()["state"] == "failed"


async def test_every_command_is_in_the_log_the_childs_device_shows(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    for body in (
        {"kind": "ring"},
        {"kind": "message", "text": "Ужин готов"},
        {"kind": "listen", "seconds": 15},
    ):
        assert (await give(client, family, body)).status_code == 201
        clock.advance(timedelta(seconds=1))
    feed = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert feed.status_code == 200, feed.text
    commands = [e for e in feed.json()["items"] if e["action"].startswith("command.")]
    assert [e["action"] for e in commands] == ["command.listen", "command.message", "command.ring"]
    assert all(e["actor_type"] == "guardian" for e in commands)
    assert commands[0]["details"]["seconds"] == 15
    assert commands[1]["details"]["text"] == "Ужин готов"


async def test_nobody_reaches_another_familys_commands(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    command = (await give(client, family, {"kind": "ring"})).json()
    path = f"/v1/children/{family.child_id}/commands"
    headers = other_family.guardian.headers
    assert (await client.post(path, headers=headers, json={"kind": "ring"})).status_code == 404
    assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.get(f"{path}/{command['id']}", headers=headers)).status_code == 404
    foreign = await ack(client, other_family, command["id"], state="received")
    assert foreign.status_code == 404
    mine = await client.get(
        f"/v1/children/{other_family.child_id}/commands/{command['id']}",
        headers=other_family.guardian.headers,
    )
    assert mine.status_code == 404
    parent_as_device = await client.get("/v1/device/commands", headers=family.guardian.headers)
    assert parent_as_device.status_code == 401
    assert (await state(client, family, command["id"]))["state"] == "pending"


async def test_no_command_once_monitoring_stops(
    client: httpx.AsyncClient, carrier: dict[str, str], runtime: Runtime, family: FamilyWorld
) -> None:
    await register_line(client, carrier, family.line, family.guardian.phone, is_child_sim=False)
    response = await give(client, family, {"kind": "ring"})
    assert response.status_code == 403
    assert response.json()["error"] == "MonitoringInactive"
    waiting = await client.get("/v1/device/commands", headers=family.device_headers)
    assert waiting.status_code == 403
    assert await stored(runtime) == 0


async def test_a_revoked_device_gets_no_more_commands(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    revoked = await client.delete(
        f"/v1/devices/{family.device_id}", headers=family.guardian.headers
    )
    assert revoked.status_code == 204, revoked.text
    command = (await give(client, family, {"kind": "ring"})).json()
    assert command["pushes"] == 0
    assert await sent_to_device(runtime, fcm) == []


async def test_the_list_is_newest_first_and_paged_and_old_commands_are_purged(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    ids = []
    for kind in ("ring", "locate_now", "sync_policy"):
        ids.append((await give(client, family, {"kind": kind})).json()["id"])
        clock.advance(timedelta(seconds=1))
    path = f"/v1/children/{family.child_id}/commands"
    first = (await client.get(path, headers=family.guardian.headers, params={"limit": 2})).json()
    assert [c["id"] for c in first["items"]] == ids[:0:-1]
    rest = await client.get(
        path, headers=family.guardian.headers, params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert [c["id"] for c in rest.json()["items"]] == ids[:1]
    assert rest.json()["next_cursor"] is None

    clock.advance(timedelta(days=runtime.settings.command_retention_days, seconds=-2))
    report = await purge_expired(runtime)
    assert report.device_commands == 1
    assert await stored(runtime) == 2


async def test_a_device_token_fcm_calls_unregistered_is_forgotten(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm, family: FamilyWorld
) -> None:
    await register_device_token(client, family)
    fcm.script(DEVICE_TOKEN, answers.unregistered())
    assert (await give(client, family, {"kind": "ring"})).status_code == 201
    report = await dispatch_round(runtime)
    assert report.tokens_removed == 1
    # The next command waits for the device to check in (and register again).
    assert (await give(client, family, {"kind": "ring"})).json()["pushes"] == 0
