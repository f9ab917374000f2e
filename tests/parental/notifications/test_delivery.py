"""From an event to the guardian's phone, end to end: the API records the event, the outbox
row is written with it, the dispatcher sends it with the real firebase-admin SDK to the local
FCM server. A notice held by quiet hours still reaches the phone with its whole life after
them, each phone gets its notices in its own language, and the JSON FCM receives for a
geofence exit is exactly what is expected.

The clock starts on Wednesday 2026-11-25 at 09:00 UTC, 14:00 in Asia/Almaty."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.notifications.dispatcher import dispatch_round
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import START
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import FamilyWorld
from tests.parental.notifications.conftest import add_phone, fcm_token, push_settings
from tests.parental.notifications.test_notify import low_battery, prefer, rows, sos

pytestmark = pytest.mark.usefixtures("push_sender")

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
QUIET_END = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 15:00 in Almaty
HOUR = 3600  # the life of a low-battery notice and of a place's


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm)


# --- quiet hours ----------------------------------------------------------------------------


async def held_low_battery(client: httpx.AsyncClient, family: FamilyWorld) -> str:
    """A low battery at 14:00 local during quiet hours until 15:00; the phone's token."""
    phone = fcm_token("parent")
    await add_phone(client, family.guardian, phone)
    await prefer(
        client,
        family.guardian,
        quiet_hours=[{"days": EVERY_DAY, "start": "13:00", "end": "15:00"}],
        timezone="Asia/Almaty",
    )
    assert (await low_battery(client, family)).status_code == 200
    return phone


async def test_a_notice_held_by_quiet_hours_reaches_the_phone_after_them_with_its_whole_life(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    phone = await held_low_battery(client, family)
    assert (await dispatch_round(runtime)).claimed == 0  # held

    clock.set(QUIET_END + timedelta(minutes=5))  # the dispatcher comes by 5 minutes later
    report = await dispatch_round(runtime)

    assert (report.sent, report.failed) == (1, 0)
    [received] = fcm.to(phone)
    message = received.body["message"]
    assert message["data"]["kind"] == "alarm.low_battery"
    # An hour from the end of the quiet hours, not from the battery reading.
    assert message["android"]["ttl"] == f"{HOUR - 300}s"
    assert message["apns"]["headers"]["apns-expiration"] == str(int(QUIET_END.timestamp()) + HOUR)


async def test_a_held_notice_still_expires_its_life_after_the_quiet_hours(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    await held_low_battery(client, family)

    clock.set(QUIET_END + timedelta(seconds=HOUR))  # no dispatcher ran for the whole hour
    report = await dispatch_round(runtime)

    assert report.failed == 1
    [row] = await rows(runtime, "alarm.low_battery")
    assert (row.state, row.last_error) == ("failed", "expired before sent")
    assert fcm.received == []


# --- languages ------------------------------------------------------------------------------

SOS_TITLES = {"en": "SOS from Aigerim", "ru": "Aigerim: сигнал SOS", "kk": "Aigerim: SOS белгісі"}


async def three_phones(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, str]:
    """Phones whose apps registered en, ru and kk, by locale (the account's language is kk,
    the default, and the guardian chose none)."""
    phones = {locale: fcm_token(f"phone-{locale}") for locale in ("en", "ru", "kk")}
    for locale, token in phones.items():
        await add_phone(client, family.guardian, token, locale=locale)
    return phones


async def inbox_titles(client: httpx.AsyncClient, family: FamilyWorld) -> list[str]:
    listed = await client.get("/v1/notifications", headers=family.guardian.headers)
    assert listed.status_code == 200, listed.text
    return [item["title"] for item in listed.json()["items"]]


async def test_each_phone_gets_the_notice_in_its_own_language_the_inbox_in_the_accounts(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    phones = await three_phones(client, family)
    assert (await sos(client, family, clock.now())).status_code == 201

    assert (await dispatch_round(runtime)).sent == 1

    for locale, token in phones.items():
        [received] = fcm.to(token)
        notification = received.body["message"]["notification"]
        assert notification["title"] == SOS_TITLES[locale], locale
        assert "14:00" in notification["body"]
    english = fcm.to(phones["en"])[0].body["message"]["notification"]["body"]
    assert english == "Aigerim pressed SOS at 14:00. Open the app to see where Aigerim is and call."
    assert await inbox_titles(client, family) == [SOS_TITLES["kk"]]


async def test_a_language_the_guardian_chose_is_every_phones(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    phones = await three_phones(client, family)
    await prefer(client, family.guardian, locale="ru")
    assert (await sos(client, family, clock.now())).status_code == 201

    await dispatch_round(runtime)

    for token in phones.values():
        [received] = fcm.to(token)
        assert received.body["message"]["notification"]["title"] == SOS_TITLES["ru"]
    assert await inbox_titles(client, family) == [SOS_TITLES["ru"]]


async def test_a_phone_registered_after_the_notice_gets_the_rows_language(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    assert (await sos(client, family, clock.now())).status_code == 201
    late = fcm_token("late")
    await add_phone(client, family.guardian, late, locale="en")

    await dispatch_round(runtime)

    [received] = fcm.to(late)
    assert received.body["message"]["notification"]["title"] == SOS_TITLES["kk"]


# --- the exact JSON -------------------------------------------------------------------------

SCHOOL = {"latitude": 43.2389, "longitude": 76.8897}


async def test_a_geofence_exit_reaches_fcm_as_exactly_this_json(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    fcm: FakeFcm,
) -> None:
    phone = fcm_token("parent")
    await add_phone(client, family.guardian, phone, locale="en")
    created = await client.post(
        f"/v1/children/{family.child_id}/places",
        headers=family.guardian.headers,
        json={"name": "School", "shape": {"kind": "circle", "center": SCHOOL, "radius_m": 200}},
    )
    assert created.status_code == 201, created.text
    place_id = created.json()["id"]
    now = clock.now()
    inside = {"fixed_at": (now - timedelta(minutes=3)).isoformat(), **SCHOOL, "accuracy_m": 10}
    away = {"fixed_at": now.isoformat(), "latitude": 43.26, "longitude": 76.93, "accuracy_m": 10}
    for fix in (inside, away):
        sent = await client.post(
            "/v1/device/locations", headers=family.device_headers, json={"fixes": [fix]}
        )
        assert sent.status_code == 200, sent.text
    events = await client.get(
        f"/v1/children/{family.child_id}/place-events", headers=family.guardian.headers
    )
    [left] = [e for e in events.json()["items"] if e["kind"] == "exit"]
    clock.advance(timedelta(minutes=2))  # FCM gets what is left of the hour

    assert (await dispatch_round(runtime)).sent == 1

    collapse = (
        "place:"
        + hashlib.blake2b(f"{family.child_id}|{place_id}".encode(), digest_size=16).hexdigest()
    )
    [received] = fcm.received
    assert received.body == {
        "message": {
            "token": phone,
            "notification": {
                "title": "Aigerim left School",
                "body": "Aigerim left School at 14:00.",
            },
            "data": {
                "kind": "place.exit",
                "child_id": family.child_id,
                "place_id": place_id,
                "event_id": left["id"],
            },
            "android": {"priority": "high", "ttl": f"{HOUR - 120}s", "collapse_key": collapse},
            "apns": {
                "headers": {
                    "apns-priority": "10",
                    "apns-push-type": "alert",
                    "apns-expiration": str(int(START.timestamp()) + HOUR),
                    "apns-collapse-id": collapse,
                },
                # Without a sound an iPhone shows the alert silently.
                "payload": {"aps": {"sound": "default"}},
            },
        }
    }
