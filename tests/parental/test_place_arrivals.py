"""'Not arrived by': the worker's deadline check, in the child's zone (Almaty, and Berlin across
both daylight-saving changes), once per place and local day, only while monitoring applies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.places import check_arrival_deadlines, place_tracker
from parental.runtime import Runtime
from telemetry.geofences.events import PlaceNotArrived
from telemetry.geofences.geometry import Point
from telemetry.locations.fix import Fix, FixSource
from tests.parental.factories import FamilyWorld, sign_in
from tests.telemetry.geofences.helpers import ALMATY, destination

SCHOOL_DAYS = {"days": [0, 1, 2, 3, 4], "since": "07:00", "by": "08:30"}
CIRCLE = {
    "kind": "circle",
    "center": {"latitude": ALMATY.latitude, "longitude": ALMATY.longitude},
    "radius_m": 200,
}
AWAY = destination(ALMATY, 0, 2000)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def told(runtime: Runtime) -> list[PlaceNotArrived]:
    """Every PlaceNotArrived published on the bus."""
    events: list[PlaceNotArrived] = []

    async def keep(event: PlaceNotArrived) -> None:
        events.append(event)

    runtime.bus.subscribe(PlaceNotArrived, keep)
    return events


async def add_school(client: httpx.AsyncClient, world: FamilyWorld) -> dict[str, Any]:
    response = await client.post(
        f"/v1/children/{world.child_id}/places",
        headers=world.guardian.headers,
        json={"name": "School", "shape": CIRCLE, "arrive_by": SCHOOL_DAYS},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_zone(client: httpx.AsyncClient, world: FamilyWorld, zone: str) -> None:
    response = await client.patch(
        f"/v1/children/{world.child_id}", headers=world.guardian.headers, json={"timezone": zone}
    )
    assert response.status_code == 200, response.text


async def seen(runtime: Runtime, world: FamilyWorld, *where: tuple[Point, datetime]) -> None:
    fixes = [
        Fix(
            child_id=uuid.UUID(world.child_id),
            device_id=uuid.UUID(world.device_id),
            fixed_at=at,
            latitude=point.latitude,
            longitude=point.longitude,
            accuracy_m=10.0,
            source=FixSource.GPS,
        )
        for point, at in where
    ]
    async with transaction(runtime.sessions) as session:
        await place_tracker(runtime)(session, uuid.UUID(world.child_id), fixes, runtime.clock.now())


async def check_at(runtime: Runtime, clock: FrozenClock, at: datetime) -> int:
    clock.set(at)
    return await check_arrival_deadlines(runtime)


async def test_almaty_school_days(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    clock: FrozenClock,
    told: list[PlaceNotArrived],
) -> None:
    # START is Wednesday 25 November, 14:00 in Almaty (UTC+5): the first deadline is Thursday's.
    school = await add_school(client, family)
    assert await check_at(runtime, clock, utc(2026, 11, 26, 3, 29)) == 0
    assert await check_at(runtime, clock, utc(2026, 11, 26, 3, 31)) == 1
    assert await check_at(runtime, clock, utc(2026, 11, 26, 3, 45)) == 0  # once a day
    event = told[0]
    assert (event.place_id, event.place_name) == (uuid.UUID(school["id"]), "School")
    assert (event.deadline, event.occurred_at) == (utc(2026, 11, 26, 3, 30),) * 2
    assert (str(event.local_date), str(event.by), event.timezone) == (
        "2026-11-26",
        "08:30:00",
        "Asia/Almaty",
    )

    # Friday: at school at 07:50, out at 08:10 for a walk: arrived all the same.
    await seen(
        runtime, family, (ALMATY, utc(2026, 11, 27, 2, 50)), (AWAY, utc(2026, 11, 27, 3, 10))
    )
    assert await check_at(runtime, clock, utc(2026, 11, 27, 3, 31)) == 0
    # The weekend has no deadline. Monday: passed by at 06:30, before 07:00: not arrived.
    assert await check_at(runtime, clock, utc(2026, 11, 29, 3, 31)) == 0
    await seen(
        runtime, family, (ALMATY, utc(2026, 11, 30, 1, 30)), (AWAY, utc(2026, 11, 30, 1, 50))
    )
    assert await check_at(runtime, clock, utc(2026, 11, 30, 3, 31)) == 1
    # Tuesday: at school since Monday evening and never seen leaving: arrived.
    await seen(runtime, family, (ALMATY, utc(2026, 11, 30, 14, 0)))
    assert await check_at(runtime, clock, utc(2026, 12, 1, 3, 31)) == 0
    assert [str(e.local_date) for e in told] == ["2026-11-26", "2026-11-30"]


async def test_renaming_a_place_keeps_a_deadline_that_has_come(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    clock: FrozenClock,
    told: list[PlaceNotArrived],
) -> None:
    school = await add_school(client, family)
    clock.set(utc(2026, 11, 26, 3, 31))  # a minute after Thursday's deadline, before the worker
    guardian = await sign_in(client, runtime, family.guardian.phone)
    renamed = await client.patch(
        f"/v1/places/{school['id']}", headers=guardian.headers, json={"name": "Lyceum"}
    )
    assert renamed.status_code == 200, renamed.text
    assert await check_at(runtime, clock, utc(2026, 11, 26, 3, 32)) == 1
    assert [e.place_name for e in told] == ["Lyceum"]


async def test_berlin_deadlines_keep_the_local_time_across_dst(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    clock: FrozenClock,
    told: list[PlaceNotArrived],
) -> None:
    await set_zone(client, family, "Europe/Berlin")
    clock.set(utc(2026, 3, 26, 12, 0))  # Thursday; clocks go forward on Sunday 29 March
    await add_school(client, family)
    assert await check_at(runtime, clock, utc(2026, 3, 27, 7, 29)) == 0
    assert await check_at(runtime, clock, utc(2026, 3, 27, 7, 31)) == 1  # 08:30 CET
    assert await check_at(runtime, clock, utc(2026, 3, 30, 6, 29)) == 0
    assert await check_at(runtime, clock, utc(2026, 3, 30, 6, 31)) == 1  # 08:30 CEST
    # The worker was down for months: only Friday's deadline (08:30 CEST) is still told. Clocks
    # go back on Sunday 25 October.
    assert await check_at(runtime, clock, utc(2026, 10, 23, 6, 31)) == 1
    assert await check_at(runtime, clock, utc(2026, 10, 26, 6, 31)) == 0
    assert await check_at(runtime, clock, utc(2026, 10, 26, 7, 31)) == 1  # 08:30 CET again
    assert [(str(e.local_date), e.deadline) for e in told] == [
        ("2026-03-27", utc(2026, 3, 27, 7, 30)),
        ("2026-03-30", utc(2026, 3, 30, 6, 30)),
        ("2026-10-23", utc(2026, 10, 23, 6, 30)),
        ("2026-10-26", utc(2026, 10, 26, 7, 30)),
    ]


async def test_a_deadline_long_past_is_skipped_not_told_late(
    runtime: Runtime,
    client: httpx.AsyncClient,
    family: FamilyWorld,
    clock: FrozenClock,
    told: list[PlaceNotArrived],
) -> None:
    await add_school(client, family)
    grace = timedelta(minutes=runtime.settings.geofence_arrival_grace_minutes)
    deadline = utc(2026, 11, 26, 3, 30)
    assert await check_at(runtime, clock, deadline + grace + timedelta(minutes=1)) == 0
    assert await check_at(runtime, clock, utc(2026, 11, 27, 3, 30) + grace) == 1  # in time
    assert [e.deadline for e in told] == [utc(2026, 11, 27, 3, 30)]


async def test_nothing_is_told_while_monitoring_does_not_apply(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    clock: FrozenClock,
    told: list[PlaceNotArrived],
) -> None:
    await add_school(client, family)
    line = f"/carrier/v1/lines/{family.line}"
    phone = family.guardian.phone
    off = await client.put(
        line, headers=carrier, json={"guardian_phone": phone, "is_child_sim": False}
    )
    assert off.status_code == 200, off.text
    assert await check_at(runtime, clock, utc(2026, 11, 26, 3, 31)) == 0
    on = await client.put(
        line, headers=carrier, json={"guardian_phone": phone, "is_child_sim": True}
    )
    assert on.status_code == 200, on.text
    assert await check_at(runtime, clock, utc(2026, 11, 27, 3, 31)) == 1
    assert [str(e.local_date) for e in told] == ["2026-11-27"]


async def test_a_change_of_the_childs_zone_moves_the_deadlines(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    clock: FrozenClock,
    told: list[PlaceNotArrived],
) -> None:
    await add_school(client, family)  # planned for 08:30 in Almaty
    await set_zone(client, family, "Europe/Berlin")
    assert await check_at(runtime, clock, utc(2026, 11, 26, 3, 31)) == 0
    assert await check_at(runtime, clock, utc(2026, 11, 26, 7, 31)) == 1  # 08:30 in Berlin
    assert [e.timezone for e in told] == ["Europe/Berlin"]
    # The guardian reads it among the child's place events.
    clock.set(utc(2026, 11, 25, 9, 5))  # while the test's access token is valid
    events = await client.get(
        f"/v1/children/{family.child_id}/place-events", headers=family.guardian.headers
    )
    assert [(e["kind"], e["occurred_at"]) for e in events.json()["items"]] == [
        ("not_arrived", "2026-11-26T07:30:00Z")
    ]
