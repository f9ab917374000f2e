"""Alarms from the child's device and the guardian's side of them, through the API and the fix
listener: SOS (stored once, published at once, never suppressed), heartbeats and low battery,
fixes as signs of life, the guardian's settings and reading (audited for the child).

Silent devices, SIM moved, retention and erasure: ``test_alarm_watch``."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.alarms import fix_listener
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.events import Event
from parental.models import Base
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.alarms.events import AlarmRaised, LowBattery, SosPressed
from telemetry.alarms.models import Alarm, AlarmSettings, DeviceStatus
from telemetry.locations.fix import Fix, FixSource
from tests.parental.factories import FamilyWorld
from tests.parental.test_locations_fast_upload import tables_read

SOS = "/v1/device/alarms"
HEARTBEAT = "/v1/device/heartbeat"


def long_tokens() -> ParentalSettings:
    """Access tokens that outlive the hours these tests move the clock by."""
    return ParentalSettings(access_token_ttl_seconds=7 * 24 * 3600)


def collect_alarms(runtime: Runtime) -> list[Event]:
    """Every alarm published on the bus, each checked to be committed when it arrives."""
    seen: list[Event] = []

    async def keep(event: AlarmRaised) -> None:
        async with runtime.sessions() as session:  # another connection: sees only commits
            assert await session.get(Alarm, event.alarm_id) is not None
        seen.append(event)

    runtime.bus.subscribe(AlarmRaised, keep)
    return seen


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return long_tokens()


@pytest.fixture
def raised(runtime: Runtime) -> list[Event]:
    return collect_alarms(runtime)


def alarms_url(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/alarms"


def settings_url(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/alarm-settings"


async def heartbeat(
    client: httpx.AsyncClient, family: FamilyWorld, battery: int, charging: bool = False
) -> dict[str, Any]:
    response = await client.post(
        HEARTBEAT,
        headers=family.device_headers,
        json={"battery_pct": battery, "charging": charging, "app_version": "2.1.0"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def put_settings(
    client: httpx.AsyncClient, family: FamilyWorld, **changes: Any
) -> httpx.Response:
    body = {
        "battery_threshold_pct": 15,
        "silent_after_minutes": 60,
        "low_battery_enabled": True,
        "device_silent_enabled": True,
        "sim_moved_enabled": True,
        **changes,
    }
    return await client.put(settings_url(family), headers=family.guardian.headers, json=body)


async def end_monitoring(client: httpx.AsyncClient, carrier: dict[str, str], line: str) -> None:
    response = await client.delete(f"/carrier/v1/lines/{line}", headers=carrier)
    assert response.status_code == 200, response.text


async def count(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- SOS ----------------------------------------------------------------------------------


async def test_sos_is_stored_once_and_published_at_once(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, raised: list[Event]
) -> None:
    body = {
        "kind": "sos",
        "pressed_at": "2026-11-25T13:59:30+05:00",
        "position": {"latitude": 43.2383, "longitude": 76.9453, "accuracy_m": 12.5},
        "client_id": "sos-1",
    }
    first = await client.post(SOS, headers=family.device_headers, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "stored"
    alarm = first.json()["alarm"]
    assert alarm["kind"] == "sos"
    assert alarm["occurred_at"] == "2026-11-25T08:59:30Z"
    assert alarm["position"] == body["position"]
    [event] = raised
    assert isinstance(event, SosPressed)
    assert (str(event.alarm_id), str(event.child_id), str(event.device_id)) == (
        alarm["id"],
        family.child_id,
        family.device_id,
    )
    assert (event.latitude, event.longitude, event.accuracy_m) == (43.2383, 76.9453, 12.5)

    again = await client.post(
        SOS, headers=family.device_headers, json={**body, "pressed_at": "2026-11-25T09:00:00Z"}
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"status": "duplicate", "alarm": alarm}
    assert len(raised) == 1
    assert await count(runtime, Alarm) == 1


async def test_without_a_client_id_the_press_time_identifies_the_press(
    client: httpx.AsyncClient, family: FamilyWorld, raised: list[Event]
) -> None:
    body = {"kind": "sos", "pressed_at": "2026-11-25T14:00:00+05:00"}
    assert (await client.post(SOS, headers=family.device_headers, json=body)).status_code == 201
    same = {"kind": "sos", "pressed_at": "2026-11-25T09:00:00+00:00"}  # the same instant
    response = await client.post(SOS, headers=family.device_headers, json=same)
    assert response.json()["status"] == "duplicate"
    later = {"kind": "sos", "pressed_at": "2026-11-25T09:00:01+00:00"}
    assert (await client.post(SOS, headers=family.device_headers, json=later)).status_code == 201
    assert len(raised) == 2
    assert all(isinstance(e, SosPressed) and e.latitude is None for e in raised)


async def test_an_sos_from_a_clock_running_ahead_is_dated_when_it_arrived(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    ahead = (runtime.clock.now() + timedelta(hours=3)).isoformat()
    response = await client.post(
        SOS, headers=family.device_headers, json={"kind": "sos", "pressed_at": ahead}
    )
    assert response.status_code == 201, response.text
    assert response.json()["alarm"]["occurred_at"] == "2026-11-25T09:00:00Z"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "sos", "pressed_at": "2026-11-25T09:00:00"},  # no offset
        {"kind": "sos"},
        {"kind": "fire", "pressed_at": "2026-11-25T09:00:00Z"},
        {"kind": "sos", "pressed_at": "2026-11-25T09:00:00Z", "extra": 1},
        {"kind": "sos", "pressed_at": "2026-11-25T09:00:00Z", "client_id": "with space"},
        {"kind": "sos", "pressed_at": "2026-11-25T09:00:00Z", "client_id": "x" * 65},
        {
            "kind": "sos",
            "pressed_at": "2026-11-25T09:00:00Z",
            "position": {"latitude": 91, "longitude": 0, "accuracy_m": 5},
        },
        {
            "kind": "sos",
            "pressed_at": "2026-11-25T09:00:00Z",
            "position": {"latitude": 0, "longitude": 0, "accuracy_m": 0},
        },
    ],
)
async def test_a_malformed_sos_is_422_and_stores_nothing(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, body: dict[str, Any]
) -> None:
    response = await client.post(SOS, headers=family.device_headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert await count(runtime, Alarm) == 0


async def test_sos_is_never_suppressed(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    raised: list[Event],
) -> None:
    off = await put_settings(
        client,
        family,
        low_battery_enabled=False,
        device_silent_enabled=False,
        sim_moved_enabled=False,
    )
    assert off.status_code == 200, off.text
    await end_monitoring(client, carrier, family.line)
    body = {"kind": "sos", "pressed_at": "2026-11-25T09:00:00Z"}
    response = await client.post(SOS, headers=family.device_headers, json=body)
    assert response.status_code == 201, response.text
    assert [type(e) for e in raised] == [SosPressed]
    # The guardian's reading follows the monitoring rules; the alarm went out regardless.
    refused = await client.get(alarms_url(family), headers=family.guardian.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "MonitoringInactive"


# --- heartbeat and low battery --------------------------------------------------------------


async def test_a_heartbeat_updates_last_seen_and_the_battery(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    first = await heartbeat(client, family, 80)
    assert first == {
        "device_id": family.device_id,
        "last_seen_at": "2026-11-25T09:00:00Z",
        "battery_pct": 80,
        "charging": False,
        "battery_read_at": "2026-11-25T09:00:00Z",
        "app_version": "2.1.0",
    }
    clock.advance(timedelta(minutes=7))
    second = await heartbeat(client, family, 77, charging=True)
    assert (second["last_seen_at"], second["battery_pct"], second["charging"]) == (
        "2026-11-25T09:07:00Z",
        77,
        True,
    )
    assert await count(runtime, DeviceStatus) == 1  # one row per device, no history


async def test_a_heartbeat_is_two_statements_once_the_device_has_reported(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    """Under load every statement is a turn of the worker's event loop: the device by its
    token, its status row (locked) with the child's rules and whether a command waits, in one
    (``parental.check_in``); then the row's update. The waiting commands and the device's push
    tokens are read only when there are some."""
    await heartbeat(client, family, 80)
    with tables_read(runtime) as run:
        await heartbeat(client, family, 79)
    assert len(run) == 2, run
    assert run[1].startswith("UPDATE alarm_device_status")
    ring = await client.post(
        f"/v1/children/{family.child_id}/commands",
        headers=family.guardian.headers,
        json={"kind": "ring"},
    )
    assert ring.status_code in (200, 201, 202), ring.text
    with tables_read(runtime) as run:
        await heartbeat(client, family, 78)
    assert any("FROM device_commands" in statement for statement in run[1:]), run


async def test_the_guardian_sees_each_devices_last_sign_of_life_and_the_child_sees_that(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    url = f"/v1/children/{family.child_id}/device-status"
    empty = await client.get(url, headers=family.guardian.headers)
    assert (empty.status_code, empty.json()) == (200, {"items": []})
    await heartbeat(client, family, 64, charging=True)
    shown = await client.get(url, headers=family.guardian.headers)
    assert shown.json() == {
        "items": [
            {
                "device_id": family.device_id,
                "last_seen_at": "2026-11-25T09:00:00Z",
                "battery_pct": 64,
                "charging": True,
                "battery_read_at": "2026-11-25T09:00:00Z",
                "app_version": "2.1.0",
            }
        ]
    }
    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    actions = [e["action"] for e in seen.json()["items"]]
    assert actions.count("devices.status_viewed") == 2
    stranger = await client.get(url, headers=other_family.guardian.headers)
    assert (stranger.status_code, stranger.json()["error"]) == (404, "ChildNotFound")
    await end_monitoring(client, carrier, family.line)
    refused = await client.get(url, headers=family.guardian.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")


@pytest.mark.parametrize(
    "body",
    [
        {"battery_pct": 101, "charging": False, "app_version": "1"},
        {"battery_pct": -1, "charging": False, "app_version": "1"},
        {"battery_pct": 50, "charging": "maybe", "app_version": "1"},
        {"battery_pct": 50, "charging": False, "app_version": ""},
        {"battery_pct": 50, "charging": False, "app_version": "1.0; DROP"},
        {"battery_pct": 50, "charging": False},
    ],
)
async def test_a_malformed_heartbeat_is_422_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, body: dict[str, Any]
) -> None:
    response = await client.post(HEARTBEAT, headers=family.device_headers, json=body)
    assert response.status_code == 422, response.text
    assert await count(runtime, DeviceStatus) == 0


async def test_low_battery_is_raised_once_per_crossing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    raised: list[Event],
) -> None:
    levels = [(40, False), (14, False), (12, False), (16, False), (13, False), (21, False)]
    levels += [(14, False), (30, True), (10, False)]
    for level, charging in levels:
        await heartbeat(client, family, level, charging)
        clock.advance(timedelta(minutes=1))
    assert [(type(e), e.battery_pct) for e in raised if isinstance(e, LowBattery)] == [
        (LowBattery, 14),
        (LowBattery, 14),
        (LowBattery, 10),
    ]
    assert {e.threshold_pct for e in raised if isinstance(e, LowBattery)} == {15}
    page = (await client.get(alarms_url(family), headers=family.guardian.headers)).json()
    assert [(a["kind"], a["battery_pct"]) for a in page["items"]] == [
        ("low_battery", 10),
        ("low_battery", 14),
        ("low_battery", 14),
    ]


async def test_the_guardians_threshold_and_switch_decide(
    client: httpx.AsyncClient, family: FamilyWorld, raised: list[Event]
) -> None:
    assert (await put_settings(client, family, battery_threshold_pct=30)).status_code == 200
    await heartbeat(client, family, 25)
    assert [e.battery_pct for e in raised if isinstance(e, LowBattery)] == [25]
    await heartbeat(client, family, 90, charging=True)
    assert (await put_settings(client, family, low_battery_enabled=False)).status_code == 200
    await heartbeat(client, family, 5)
    assert len(raised) == 1
    # Turned back on during the same low spell: the next low report is told.
    assert (await put_settings(client, family)).status_code == 200
    await heartbeat(client, family, 4)
    assert [e.battery_pct for e in raised if isinstance(e, LowBattery)] == [25, 4]


async def test_no_low_battery_once_monitoring_ends(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    raised: list[Event],
) -> None:
    await end_monitoring(client, carrier, family.line)
    await heartbeat(client, family, 3)
    assert raised == []
    assert await count(runtime, Alarm) == 0


async def test_fixes_are_signs_of_life_and_battery_readings(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    raised: list[Event],
) -> None:
    await heartbeat(client, family, 60)
    clock.advance(timedelta(minutes=30))
    now = clock.now()
    child, device = uuid.UUID(family.child_id), uuid.UUID(family.device_id)

    def fix(minutes_ago: int, battery: int | None, device_id: uuid.UUID | None = device) -> Fix:
        return Fix(
            child_id=child,
            device_id=device_id,
            fixed_at=now - timedelta(minutes=minutes_ago),
            latitude=43.2,
            longitude=76.9,
            accuracy_m=10,
            source=FixSource.GPS if device_id else FixSource.CARRIER_CELL,
            battery_pct=battery,
            charging=False if battery is not None else None,
        )

    listener = fix_listener(runtime)
    async with transaction(runtime.sessions) as session:
        events = await listener(session, child, [fix(3, 20), fix(2, None), fix(1, 13)], now)
    assert [(type(e), e.battery_pct) for e in events if isinstance(e, LowBattery)] == [
        (LowBattery, 13)
    ]
    assert raised == []  # publishing is ingestion's job, once it has committed
    async with runtime.sessions() as session:
        status = await session.get(DeviceStatus, device)
        assert status is not None
        assert (status.last_seen_at, status.battery_pct) == (now, 13)

    clock.advance(timedelta(minutes=50))  # the carrier's position is no sign of the device
    async with transaction(runtime.sessions) as session:
        assert await listener(session, child, [fix(0, None, device_id=None)], clock.now()) == []
    async with runtime.sessions() as session:
        status = await session.get(DeviceStatus, device)
        assert status is not None
        assert status.last_seen_at == now


async def test_an_uploaded_batch_of_fixes_raises_low_battery_once_stored(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    raised: list[Event],
) -> None:
    await heartbeat(client, family, 60)
    clock.advance(timedelta(minutes=20))
    now = clock.now()

    def fix(minutes_ago: int, battery: int) -> dict[str, Any]:
        at = now - timedelta(minutes=minutes_ago)
        return {
            "fixed_at": at.isoformat(),
            "latitude": 43.2,
            "longitude": 76.9,
            "accuracy_m": 10,
            "battery_pct": battery,
            "charging": False,
        }

    batch = {"fixes": [fix(1, 12), fix(3, 16), fix(2, 14)]}  # out of order, as uploads come
    response = await client.post("/v1/device/locations", headers=family.device_headers, json=batch)
    assert response.status_code == 200, response.text
    assert [(type(e), e.battery_pct) for e in raised if isinstance(e, LowBattery)] == [
        (LowBattery, 14)
    ]
    again = await client.post("/v1/device/locations", headers=family.device_headers, json=batch)
    assert again.json()["duplicate"] == 3
    assert len(raised) == 1
    async with runtime.sessions() as session:
        status = await session.get(DeviceStatus, uuid.UUID(family.device_id))
        assert status is not None
        assert (status.last_seen_at, status.battery_pct) == (now, 12)


# --- the guardian's settings and reading --------------------------------------------------------


async def test_settings_start_at_the_defaults_and_a_change_is_shown_to_the_child(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    current = await client.get(settings_url(family), headers=family.guardian.headers)
    assert current.status_code == 200, current.text
    assert current.json() == {
        "child_id": family.child_id,
        "battery_threshold_pct": 15,
        "silent_after_minutes": 60,
        "low_battery_enabled": True,
        "device_silent_enabled": True,
        "sim_moved_enabled": True,
        "updated_at": None,
    }
    changed = await put_settings(client, family, battery_threshold_pct=25, sim_moved_enabled=False)
    assert changed.status_code == 200, changed.text
    again = await client.get(settings_url(family), headers=family.guardian.headers)
    assert again.json() == {
        **current.json(),
        "battery_threshold_pct": 25,
        "sim_moved_enabled": False,
        "updated_at": "2026-11-25T09:00:00Z",
    }
    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    [row] = [e for e in seen.json()["items"] if e["action"] == "alarms.settings_updated"]
    assert row["details"]["battery_threshold_pct"] == 25


@pytest.mark.parametrize(
    "changes",
    [
        {"battery_threshold_pct": 0},
        {"battery_threshold_pct": 91},
        {"silent_after_minutes": 14},
        {"silent_after_minutes": 7 * 24 * 60 + 1},
        {"low_battery_enabled": "sometimes"},
        {"sos_enabled": False},  # SOS has no switch
    ],
)
async def test_bad_settings_are_422_and_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, changes: dict[str, Any]
) -> None:
    response = await put_settings(client, family, **changes)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert await count(runtime, AlarmSettings) == 0


async def test_a_put_needs_every_field(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    response = await client.put(
        settings_url(family), headers=family.guardian.headers, json={"battery_threshold_pct": 20}
    )
    assert response.status_code == 422


async def test_reading_alarms_pages_filters_and_is_shown_to_the_child(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    for i in range(5):
        body = {"kind": "sos", "pressed_at": clock.now().isoformat(), "client_id": f"p{i}"}
        assert (await client.post(SOS, headers=family.device_headers, json=body)).status_code == 201
        clock.advance(timedelta(minutes=1))
    await heartbeat(client, family, 9)
    url, headers = alarms_url(family), family.guardian.headers
    first = (await client.get(url, headers=headers, params={"limit": 4})).json()
    assert [a["kind"] for a in first["items"]] == ["low_battery", "sos", "sos", "sos"]
    rest = await client.get(
        url, headers=headers, params={"limit": 4, "cursor": first["next_cursor"]}
    )
    assert [a["kind"] for a in rest.json()["items"]] == ["sos", "sos"]
    assert rest.json()["next_cursor"] is None
    only = await client.get(url, headers=headers, params={"kind": "low_battery"})
    assert [a["battery_pct"] for a in only.json()["items"]] == [9]
    assert (await client.get(url, headers=headers, params={"kind": "fire"})).status_code == 422
    bad = await client.get(url, headers=headers, params={"cursor": "not-a-cursor"})
    assert (bad.status_code, bad.json()["error"]) == (400, "InvalidCursor")

    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    views = [e for e in seen.json()["items"] if e["action"] == "alarms.viewed"]
    assert len(views) == 3  # every read that was answered, each one the child can see
    assert all(v["child_visible"] and v["actor_type"] == "guardian" for v in views)
