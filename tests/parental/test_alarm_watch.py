"""Alarms the server raises by watching: devices gone silent (the worker, by moving the clock),
SIM moved (the carrier's handset reports), and the retention purge and erasure of alarm data."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parental.alarms import check_silent_devices
from parental.children import repository as children
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.events import Event
from parental.models import Base
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.alarms import service
from telemetry.alarms.events import SimMoved
from telemetry.alarms.imei import luhn_valid
from telemetry.alarms.models import Alarm, AlarmSettings, DeviceStatus, LineHandset
from tests.conftest import START
from tests.parental.factories import FamilyWorld, add_child, register_line
from tests.parental.test_alarms import (
    SOS,
    alarms_url,
    collect_alarms,
    count,
    end_monitoring,
    heartbeat,
    long_tokens,
    put_settings,
)

IMEI_A = "490154203237518"
IMEI_B = "356938035643809"


def imei(prefix: str) -> str:
    """``prefix`` (14 digits) completed with its check digit."""
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return long_tokens()


@pytest.fixture
def raised(runtime: Runtime) -> list[Event]:
    return collect_alarms(runtime)


# --- silent devices ---------------------------------------------------------------------------


async def test_a_silent_device_is_raised_once_per_silence(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    raised: list[Event],
) -> None:
    await heartbeat(client, family, 80)
    seen_at = clock.now()
    clock.advance(timedelta(minutes=60))
    assert await check_silent_devices(runtime) == []  # exactly the limit is not longer
    clock.advance(timedelta(seconds=1))
    [event] = await check_silent_devices(runtime)
    assert (event.last_seen_at, event.silent_after_minutes) == (seen_at, 60)
    assert str(event.device_id) == family.device_id
    assert raised == [event]
    clock.advance(timedelta(hours=5))
    assert await check_silent_devices(runtime) == []
    sos = {"kind": "sos", "pressed_at": clock.now().isoformat()}  # any sign of life re-arms
    assert (await client.post(SOS, headers=family.device_headers, json=sos)).status_code == 201
    clock.advance(timedelta(minutes=61))
    assert len(await check_silent_devices(runtime)) == 1
    listed = await client.get(alarms_url(family), headers=family.guardian.headers)
    assert [a["kind"] for a in listed.json()["items"]] == ["device_silent", "sos", "device_silent"]


async def test_the_silence_limit_follows_the_guardians_settings(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await heartbeat(client, family, 80)
    assert (await put_settings(client, family, silent_after_minutes=180)).status_code == 200
    clock.advance(timedelta(minutes=120))
    assert await check_silent_devices(runtime) == []
    assert (await put_settings(client, family, silent_after_minutes=90)).status_code == 200
    assert len(await check_silent_devices(runtime)) == 1
    await heartbeat(client, family, 80)
    assert (await put_settings(client, family, device_silent_enabled=False)).status_code == 200
    clock.advance(timedelta(days=2))
    assert await check_silent_devices(runtime) == []


async def test_revoked_devices_and_ended_monitoring_raise_no_silence(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
    carrier: dict[str, str],
    raised: list[Event],
) -> None:
    await heartbeat(client, family, 80)
    await heartbeat(client, other_family, 80)
    revoked = await client.delete(
        f"/v1/devices/{family.device_id}", headers=family.guardian.headers
    )
    assert revoked.status_code == 204
    await end_monitoring(client, carrier, other_family.line)
    clock.advance(timedelta(hours=2))
    assert await check_silent_devices(runtime) == []
    assert raised == []
    async with runtime.sessions() as session:
        assert await session.get(DeviceStatus, uuid.UUID(family.device_id)) is None
        kept = await session.get(DeviceStatus, uuid.UUID(other_family.device_id))
        assert kept is not None
        assert kept.silence_noted_at == clock.now()  # noted, so not looked at again


# --- SIM moved ----------------------------------------------------------------------------------


def handset_url(line: str) -> str:
    return f"/carrier/v1/lines/{line}/handset"


async def report_handset(
    client: httpx.AsyncClient, carrier: dict[str, str], line: str, body: dict[str, Any]
) -> str:
    response = await client.post(handset_url(line), headers=carrier, json=body)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def test_a_new_handset_raises_sim_moved_but_not_the_first_or_the_same(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
    raised: list[Event],
) -> None:
    line = family.line
    assert await report_handset(client, carrier, line, {"imei": IMEI_A}) == "first"
    clock.advance(timedelta(hours=1))
    assert await report_handset(client, carrier, line, {"imei": IMEI_A}) == "unchanged"
    assert raised == []
    assert await report_handset(client, carrier, line, {"imei": IMEI_B}) == "changed"
    [event] = raised
    assert isinstance(event, SimMoved)
    assert (str(event.child_id), event.occurred_at) == (family.child_id, clock.now())
    late = {"imei": IMEI_A, "observed_at": (clock.now() - timedelta(minutes=30)).isoformat()}
    assert await report_handset(client, carrier, line, late) == "stale"
    assert len(raised) == 1
    page = (await client.get(alarms_url(family), headers=family.guardian.headers)).json()
    assert [a["kind"] for a in page["items"]] == ["sim_moved"]

    # The IMEI is nowhere in clear: not in any column of any table.
    async with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert all(IMEI_A not in str(v) and IMEI_B not in str(v) for v in row), table
        stored = (await session.scalars(select(LineHandset.imei_hash))).all()
    assert len(stored) == 1
    assert len(stored[0]) == 64


async def test_sim_moved_follows_the_switch_and_needs_a_child(
    client: httpx.AsyncClient,
    family: FamilyWorld,
    carrier: dict[str, str],
    raised: list[Event],
) -> None:
    assert (await put_settings(client, family, sim_moved_enabled=False)).status_code == 200
    await report_handset(client, carrier, family.line, {"imei": IMEI_A})
    assert await report_handset(client, carrier, family.line, {"imei": IMEI_B}) == "changed"
    spare = "+77071112233"  # a child SIM no child has been added on yet
    await register_line(client, carrier, spare, family.guardian.phone)
    await report_handset(client, carrier, spare, {"imei": IMEI_A})
    assert await report_handset(client, carrier, spare, {"imei": IMEI_B}) == "changed"
    assert raised == []
    await add_child(client, family.guardian, spare, name="Dana")
    assert (
        await report_handset(client, carrier, spare, {"imei": imei("35693803564381")}) == "changed"
    )
    assert [type(e) for e in raised] == [SimMoved]


async def test_handset_reports_refuse_bad_callers_lines_and_imeis(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    url = handset_url(family.line)
    for headers in ({}, {"Authorization": "Bearer sk_wrong"}, family.guardian.headers):
        wrong = await client.post(url, headers=headers, json={"imei": IMEI_A})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "InvalidServiceKey")
    unknown = await client.post(handset_url("+77070000009"), headers=carrier, json={"imei": IMEI_A})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "LineNotFound")
    bad_number = await client.post(handset_url("12"), headers=carrier, json={"imei": IMEI_A})
    assert (bad_number.status_code, bad_number.json()["error"]) == (400, "InvalidMsisdn")
    luhn = await client.post(url, headers=carrier, json={"imei": "490154203237519"})
    assert (luhn.status_code, luhn.json()["error"]) == (400, "InvalidImei")
    assert "490154203237519" not in luhn.text
    for malformed in ("49015420323751", "4901542032375180", "49015420323751x", 490154203237518):
        response = await client.post(url, headers=carrier, json={"imei": malformed})
        assert response.status_code == 422, malformed
        assert str(malformed) not in response.text
    ahead = (runtime.clock.now() + timedelta(hours=1)).isoformat()
    future = await client.post(url, headers=carrier, json={"imei": IMEI_A, "observed_at": ahead})
    assert (future.status_code, future.json()["error"]) == (400, "ObservedInFuture")
    assert await count(runtime, LineHandset) == 0


# --- retention and erasure ----------------------------------------------------------------------


async def test_the_worker_purges_each_class_after_its_retention(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    settings = runtime.settings
    await client.post(
        SOS,
        headers=family.device_headers,
        json={"kind": "sos", "pressed_at": clock.now().isoformat()},
    )
    await report_handset(client, carrier, family.line, {"imei": IMEI_A})
    assert (await count(runtime, Alarm), await count(runtime, DeviceStatus)) == (1, 1)

    clock.advance(timedelta(days=settings.alarm_device_status_retention_days))
    report = await purge_expired(runtime)
    assert (report.alarms, report.alarm_device_statuses, report.alarm_handsets) == (0, 0, 0)
    clock.advance(timedelta(seconds=1))
    assert (await purge_expired(runtime)).alarm_device_statuses == 1

    clock.set(START + timedelta(days=settings.alarm_retention_days, seconds=1))
    report = await purge_expired(runtime)
    assert (report.alarms, report.alarm_handsets) == (1, 0)
    clock.set(START + timedelta(days=settings.alarm_handset_retention_days, seconds=1))
    assert (await purge_expired(runtime)).alarm_handsets == 1
    assert await count(runtime, LineHandset) == 0


async def test_erasing_a_child_takes_its_alarm_data_and_nothing_else(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    for world in (family, other_family):
        body = {"kind": "sos", "pressed_at": "2026-11-25T09:00:00Z"}
        assert (await client.post(SOS, headers=world.device_headers, json=body)).status_code == 201
        assert (await put_settings(client, world, battery_threshold_pct=20)).status_code == 200
        await report_handset(client, carrier, world.line, {"imei": IMEI_A})
    async with transaction(runtime.sessions) as session:
        child = await children.get(session, uuid.UUID(family.child_id))
        assert child is not None
        erased = await service.erase_child(session, child.id, child.line_id)
    assert erased == {"alarms": 1, "alarm_settings": 1, "device_statuses": 1, "handsets": 1}
    for model in (Alarm, AlarmSettings, DeviceStatus, LineHandset):
        assert await count(runtime, model) == 1
