"""Alarms become push notifications for every guardian of the child, in the transaction that
stores them, as each guardian's preferences say, and reach the guardian's phone through the
dispatcher and the real firebase-admin SDK against the local FCM server.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in Asia/Almaty."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from filters.activity.events import SelfHarmBlocked
from parental.children import repository as children_repository
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.unblock_requests import ask as ask_unblock
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import FamilyWorld, Guardian, sign_in
from tests.parental.notifications.conftest import add_phone, fcm_token, push_settings

pytestmark = pytest.mark.usefixtures("push_sender")


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm)


async def rows(runtime: Runtime, kind: str) -> list[PushOutboxRow]:
    async with transaction(runtime.sessions) as session:
        found = await session.scalars(
            select(PushOutboxRow).where(PushOutboxRow.kind == kind).order_by(PushOutboxRow.id)
        )
        return list(found)


async def sos(client: httpx.AsyncClient, family: FamilyWorld, at: datetime) -> httpx.Response:
    return await client.post(
        "/v1/device/alarms",
        headers=family.device_headers,
        json={"kind": "sos", "pressed_at": at.isoformat()},
    )


async def low_battery(client: httpx.AsyncClient, family: FamilyWorld) -> httpx.Response:
    return await client.post(
        "/v1/device/heartbeat",
        headers=family.device_headers,
        json={"battery_pct": 5, "charging": False, "app_version": "1.0.0"},
    )


async def prefer(client: httpx.AsyncClient, guardian: Guardian, **body: Any) -> None:
    saved = await client.put("/v1/notification-preferences", headers=guardian.headers, json=body)
    assert saved.status_code == 200, saved.text


async def test_an_sos_reaches_the_guardians_phone_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    phone = fcm_token("parent")
    await add_phone(client, family.guardian, phone)
    await prefer(client, family.guardian, locale="ru")
    pressed = clock.now()
    assert (await sos(client, family, pressed)).status_code == 201
    assert (await sos(client, family, pressed)).status_code == 200  # sent again: a duplicate

    [row] = await rows(runtime, "alarm.sos")
    assert str(row.account_id) == family.guardian.account_id
    assert row.next_attempt_at == clock.now()
    report = await dispatch_round(runtime)
    assert (report.claimed, report.sent) == (1, 1)
    [received] = fcm.received
    message = received.body["message"]
    assert message["token"] == phone
    assert "Aigerim" in message["notification"]["title"] + message["notification"]["body"]
    assert "14:00" in message["notification"]["body"]  # the child's local time
    assert message["data"]["kind"] == "alarm.sos"
    assert message["data"]["child_id"] == family.child_id
    assert message["android"]["priority"] == "high"
    assert message["apns"]["headers"]["apns-priority"] == "10"


async def test_every_guardian_is_told_in_their_own_language(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await prefer(client, family.guardian, locale="kk")
    invited = await client.post(
        f"/v1/families/{family.family_id}/invitations",
        headers=family.guardian.headers,
        json={"phone": "+77019876543"},
    )
    assert invited.status_code == 201, invited.text
    second = await sign_in(client, runtime, "+77019876543")
    accepted = await client.post(
        f"/v1/invitations/{invited.json()['id']}/accept", headers=second.headers
    )
    assert accepted.status_code == 200, accepted.text
    await prefer(client, second, locale="en")

    assert (await sos(client, family, clock.now())).status_code == 201
    found = {str(r.account_id): r.payload for r in await rows(runtime, "alarm.sos")}
    assert set(found) == {family.guardian.account_id, second.account_id}
    english = found[second.account_id]["title"]
    kazakh = found[family.guardian.account_id]["title"]
    assert english != kazakh
    assert english.isascii()
    assert not kazakh.isascii()


async def test_quiet_hours_hold_a_low_battery_but_never_an_sos(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    await prefer(
        client,
        family.guardian,
        quiet_hours=[{"days": every_day, "start": "13:00", "end": "15:00"}],
        timezone="Asia/Almaty",
    )
    assert (await low_battery(client, family)).status_code == 200
    assert (await sos(client, family, clock.now())).status_code == 201

    [held] = await rows(runtime, "alarm.low_battery")
    assert held.next_attempt_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 15:00 local
    [urgent] = await rows(runtime, "alarm.sos")
    assert urgent.next_attempt_at == clock.now()


async def test_a_kind_switched_off_makes_no_notification(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await prefer(client, family.guardian, kinds={"alarm.low_battery": False})
    assert (await low_battery(client, family)).status_code == 200
    assert await rows(runtime, "alarm.low_battery") == []
    clock.advance(timedelta(minutes=1))
    assert (await sos(client, family, clock.now())).status_code == 201
    assert len(await rows(runtime, "alarm.sos")) == 1


# --- the other sources of events ------------------------------------------------------------


async def kinds_for(runtime: Runtime, account_id: str) -> list[str]:
    async with transaction(runtime.sessions) as session:
        found = await session.scalars(
            select(PushOutboxRow.kind)
            .where(PushOutboxRow.account_id == uuid.UUID(account_id))
            .order_by(PushOutboxRow.kind)
        )
        return list(found)


async def test_leaving_a_place_notifies_from_the_upload_that_shows_it(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    school = {"latitude": 43.2389, "longitude": 76.8897}
    created = await client.post(
        f"/v1/children/{family.child_id}/places",
        headers=family.guardian.headers,
        json={"name": "School", "shape": {"kind": "circle", "center": school, "radius_m": 200}},
    )
    assert created.status_code == 201, created.text
    now = clock.now()
    inside = {"fixed_at": (now - timedelta(minutes=3)).isoformat(), **school, "accuracy_m": 10}
    away = {"fixed_at": now.isoformat(), "latitude": 43.26, "longitude": 76.93, "accuracy_m": 10}
    for fix in (inside, away):  # the first by the route, the second by the fast path
        sent = await client.post(
            "/v1/device/locations", headers=family.device_headers, json={"fixes": [fix]}
        )
        assert sent.status_code == 200, sent.text
    assert await kinds_for(runtime, family.guardian.account_id) == ["place.exit"]
    [row] = await rows(runtime, "place.exit")
    assert row.payload["data"]["place_id"] == created.json()["id"]


async def test_the_childs_requests_notify_their_guardians(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    asked = await client.post(
        "/v1/device/screen-time/requests",
        headers=family.device_headers,
        json={"kind": "extra_time", "app": "com.example.game", "minutes": 15},
    )
    assert asked.status_code == 201, asked.text
    async with transaction(runtime.sessions) as session:
        child = await children_repository.get(session, uuid.UUID(family.child_id))
        assert child is not None
        await ask_unblock(
            session, runtime, child, line_id=child.line_id, host="help.test", category=None
        )
    assert await kinds_for(runtime, family.guardian.account_id) == [
        "filter.unblock_request",
        "screen_time.extra_time_request",
    ]


async def test_a_page_blocked_for_self_harm_notifies_at_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    blocked = SelfHarmBlocked(
        occurred_at=clock.now(),
        child_id=uuid.UUID(family.child_id),
        category="self_harm",
        host="harm.test",
    )
    await runtime.bus.publish(blocked)
    await runtime.bus.publish(blocked)  # published twice: told once
    [row] = await rows(runtime, "filter.self_harm")
    assert "harm.test" not in row.payload["title"] + row.payload["body"]  # a lock screen
