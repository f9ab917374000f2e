"""Alarms become push notifications for every guardian of the child, in the transaction that
stores them, as each guardian's preferences say, and reach the guardian's phone through the
dispatcher and the real firebase-admin SDK against the local FCM server.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in Asia/Almaty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from parental.settings import ParentalSettings
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
