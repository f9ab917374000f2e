"""Places through the API: guardians' CRUD of their own children's places, validation, audit
rows the child sees, enter/exit events from fixes (with hysteresis, late fixes, retries and
schedules), reading them, and their retention."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.events import Event
from parental.places import place_tracker
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.geofences import service as geofences
from telemetry.geofences.events import PlaceEntered, PlaceEvent, PlaceLeft
from telemetry.geofences.geometry import Point
from telemetry.geofences.models import Place, PlaceEventRow
from telemetry.locations.fix import Fix, FixSource
from tests.conftest import DATABASE_URL
from tests.parental.factories import FamilyWorld
from tests.telemetry.geofences.helpers import ALMATY, destination, offset

SCHOOL = {"latitude": ALMATY.latitude, "longitude": ALMATY.longitude}
CIRCLE = {"kind": "circle", "center": SCHOOL, "radius_m": 200}


def places_url(world: FamilyWorld) -> str:
    return f"/v1/children/{world.child_id}/places"


async def create_place(
    client: httpx.AsyncClient, world: FamilyWorld, **fields: Any
) -> dict[str, Any]:
    body = {"name": "School", "shape": CIRCLE, **fields}
    response = await client.post(places_url(world), headers=world.guardian.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def child_sees(client: httpx.AsyncClient, world: FamilyWorld) -> list[str]:
    events = await client.get("/v1/device/audit-events", headers=world.device_headers)
    return [e["action"] for e in events.json()["items"]]


def fix_at(world: FamilyWorld, point: Point, clock: FrozenClock, minutes: float, **kw: Any) -> Fix:
    return Fix(
        child_id=uuid.UUID(world.child_id),
        device_id=uuid.UUID(world.device_id),
        fixed_at=clock.now() + timedelta(minutes=minutes),
        latitude=point.latitude,
        longitude=point.longitude,
        accuracy_m=kw.get("accuracy_m", 10.0),
        source=FixSource.GPS,
    )


async def track(runtime: Runtime, world: FamilyWorld, fixes: Sequence[Fix]) -> list[Event]:
    """What ingestion does with a batch's new fixes: the listener, in the storing transaction."""
    async with transaction(runtime.sessions) as session:
        events = await place_tracker(runtime)(
            session, uuid.UUID(world.child_id), fixes, runtime.clock.now()
        )
    return list(events)


def kinds(events: Sequence[Event]) -> list[tuple[str, str]]:
    assert all(isinstance(e, PlaceEvent) for e in events)
    return [(type(e).__name__, e.place_name) for e in events if isinstance(e, PlaceEvent)]


async def test_a_guardian_manages_places_and_the_child_is_told(
    client: httpx.AsyncClient, family: FamilyWorld, clock: FrozenClock
) -> None:
    polygon = {
        "kind": "polygon",
        "points": [
            {"latitude": p.latitude, "longitude": p.longitude}
            for p in (offset(ALMATY, x, y) for x, y in ((0, 0), (400, 0), (400, 300), (0, 300)))
        ],
    }
    school = await create_place(
        client,
        family,
        name="  School ",
        schedule=[{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "14:00"}],
        events=["exit"],
        arrive_by={"days": [0, 1, 2, 3, 4], "since": "07:00", "by": "08:30"},
    )
    clock.advance(timedelta(seconds=1))
    home = await create_place(client, family, name="Home", shape=polygon)
    assert school["name"] == "School"
    assert school["shape"] == CIRCLE
    assert school["events"] == ["exit"]
    assert school["schedule"] == [{"days": [0, 1, 2, 3, 4], "start": "08:00:00", "end": "14:00:00"}]
    assert school["arrive_by"] == {"days": [0, 1, 2, 3, 4], "since": "07:00:00", "by": "08:30:00"}
    assert home["events"] == ["enter", "exit"]
    assert home["schedule"] == []
    assert home["shape"]["points"] == polygon["points"]

    headers = family.guardian.headers
    listed = await client.get(places_url(family), headers=headers)
    assert [p["name"] for p in listed.json()["items"]] == ["School", "Home"]
    url = f"/v1/places/{school['id']}"
    changed = await client.patch(
        url,
        headers=headers,
        json={"name": "Lyceum", "events": ["enter", "exit"], "arrive_by": None},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["arrive_by"]) == ("Lyceum", None)
    assert changed.json()["schedule"] == school["schedule"]  # left out: kept
    assert (await client.get(url, headers=headers)).json() == changed.json()
    assert (await client.delete(url, headers=headers)).status_code == 204
    gone = await client.get(url, headers=headers)
    assert (gone.status_code, gone.json()["error"]) == (404, "PlaceNotFound")

    actions = await child_sees(client, family)
    for action in ("places.created", "places.updated", "places.deleted"):
        assert action in actions


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"shape": {**CIRCLE, "radius_m": 10}}, 422, "ValidationError"),
        ({"shape": {**CIRCLE, "center": {"latitude": 91, "longitude": 0}}}, 422, "ValidationError"),
        ({"shape": {"kind": "square"}}, 422, "ValidationError"),
        ({"name": "   "}, 422, "ValidationError"),
        ({"colour": "red"}, 422, "ValidationError"),
        ({"events": ["arrive"]}, 422, "ValidationError"),
        ({"schedule": [{"days": [7], "start": "08:00", "end": "09:00"}]}, 422, "ValidationError"),
        (
            {"schedule": [{"days": [1], "start": "08:00+05:00", "end": "09:00"}]},
            422,
            "ValidationError",
        ),
        ({"arrive_by": {"days": [1], "since": "09:00", "by": "08:30"}}, 422, "ValidationError"),
        (
            {
                "shape": {
                    "kind": "polygon",
                    "points": [
                        {"latitude": p.latitude, "longitude": p.longitude}
                        for p in (
                            offset(ALMATY, x, y)
                            for x, y in ((0, 0), (300, 300), (300, 0), (0, 300))
                        )
                    ],
                }
            },
            400,
            "InvalidPlace",
        ),
    ],
)
async def test_places_that_cannot_be_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any], status: int, error: str
) -> None:
    response = await client.post(
        places_url(family),
        headers=family.guardian.headers,
        json={"name": "X", "shape": CIRCLE, **body},
    )
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert response.json()["detail"]
    listed = await client.get(places_url(family), headers=family.guardian.headers)
    assert listed.json()["items"] == []


async def test_an_update_that_cannot_be_changes_nothing(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    place = await create_place(client, family)
    url = f"/v1/places/{place['id']}"
    headers = family.guardian.headers
    for body in ({"name": None}, {"shape": {**CIRCLE, "radius_m": 1e9}}, {"id": place["id"]}):
        response = await client.patch(url, headers=headers, json=body)
        assert response.status_code == 422, response.text
    after = await client.get(url, headers=headers)
    assert after.json() == place


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(geofence_max_places_per_child=2)


async def test_a_child_has_at_most_the_configured_number_of_places(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    for name in ("Home", "School"):
        await create_place(client, family, name=name)
    refused = await client.post(
        places_url(family), headers=family.guardian.headers, json={"name": "Club", "shape": CIRCLE}
    )
    assert (refused.status_code, refused.json()["error"]) == (409, "PlaceLimitReached")
    listed = await client.get(places_url(family), headers=family.guardian.headers)
    assert len(listed.json()["items"]) == 2


@pytest.mark.skipif(not DATABASE_URL, reason="SQLite serialises writing transactions itself")
async def test_two_guardians_adding_the_last_place_at_once_get_one(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    await create_place(client, family, name="Home")
    answers = await asyncio.gather(
        *(
            client.post(
                places_url(family),
                headers=family.guardian.headers,
                json={"name": name, "shape": CIRCLE},
            )
            for name in ("School", "Club", "Pool")
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    listed = await client.get(places_url(family), headers=family.guardian.headers)
    assert len(listed.json()["items"]) == 2


async def test_another_familys_place_is_not_found(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    theirs = await create_place(client, other_family)
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method,
            f"/v1/places/{theirs['id']}",
            headers=family.guardian.headers,
            json={"name": "Mine"},
        )
        assert (response.status_code, response.json()["error"]) == (404, "PlaceNotFound")
    made_up = await client.get(f"/v1/places/{uuid.uuid4()}", headers=family.guardian.headers)
    assert made_up.status_code == 404
    still = await client.get(f"/v1/places/{theirs['id']}", headers=other_family.guardian.headers)
    assert still.json() == theirs


async def test_enter_and_exit_with_hysteresis_told_once(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    await create_place(client, family)
    edge = 200 - 25  # the margin
    walk = [
        fix_at(family, destination(ALMATY, 90, 1000), clock, -60),  # far away: outside
        fix_at(family, destination(ALMATY, 90, 210), clock, -50),  # straddling: unknown
        fix_at(family, destination(ALMATY, 90, edge - 12), clock, -40, accuracy_m=10),  # inside
        fix_at(family, destination(ALMATY, 90, 190), clock, -30),  # straddling again
        fix_at(family, destination(ALMATY, 90, 240), clock, -20, accuracy_m=10),  # outside
    ]
    events = await track(runtime, family, walk)
    assert kinds(events) == [("PlaceEntered", "School"), ("PlaceLeft", "School")]
    entered, left = events
    assert isinstance(entered, PlaceEntered)
    assert isinstance(left, PlaceLeft)
    assert (entered.fixed_at, left.fixed_at) == (walk[2].fixed_at, walk[4].fixed_at)
    assert entered.occurred_at == walk[2].fixed_at
    assert (left.latitude, left.accuracy_m) == (walk[4].latitude, 10.0)
    assert await track(runtime, family, walk) == []  # a retried batch

    # Even if the state were lost, a replayed transition is stored, and told, only once.
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Place).values(status="unknown", status_at=None))
    assert await track(runtime, family, walk) == []
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(PlaceEventRow.kind)))
    assert sorted(rows) == ["enter", "exit"]


async def test_fixes_the_device_uploads_are_tracked_and_told_after_commit(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    told: list[PlaceEvent] = []

    async def keep(event: PlaceEvent) -> None:
        told.append(event)

    runtime.bus.subscribe(PlaceEvent, keep)
    await create_place(client, family)
    away = destination(ALMATY, 0, 800)
    batch = {
        "fixes": [
            {
                "fixed_at": (clock.now() - timedelta(minutes=m)).isoformat(),
                "latitude": p.latitude,
                "longitude": p.longitude,
                "accuracy_m": 12,
            }
            for p, m in ((ALMATY, 5), (away, 20), (ALMATY, 10))  # out of order: sorted
        ]
    }
    sent = await client.post("/v1/device/locations", headers=family.device_headers, json=batch)
    assert sent.status_code == 200, sent.text
    assert kinds(told) == [("PlaceEntered", "School")]
    assert told[0].occurred_at == clock.now() - timedelta(minutes=10)
    again = await client.post("/v1/device/locations", headers=family.device_headers, json=batch)
    assert again.status_code == 200, again.text
    assert len(told) == 1


async def test_late_fixes_never_tell_out_of_order(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    await create_place(client, family)
    inside, outside = ALMATY, destination(ALMATY, 0, 500)
    first = await track(
        runtime, family, [fix_at(family, outside, clock, -60), fix_at(family, outside, clock, -10)]
    )
    # The phone was offline: a visit at -40..-30 arrives after the fix at -10 was tracked.
    late = await track(
        runtime, family, [fix_at(family, inside, clock, -40), fix_at(family, outside, clock, -30)]
    )
    later = await track(runtime, family, [fix_at(family, inside, clock, -5)])
    assert (first, late) == ([], [])
    assert kinds(later) == [("PlaceEntered", "School")]


async def test_enter_and_exit_are_told_only_inside_the_schedule(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    # START is Wednesday 09:00 UTC, 14:00 in Almaty: the window 08:00-13:30 has just ended.
    await create_place(client, family, schedule=[{"days": [2], "start": "08:00", "end": "13:30"}])
    inside, outside = ALMATY, destination(ALMATY, 0, 500)
    events = await track(
        runtime,
        family,
        [
            fix_at(family, outside, clock, -120),  # 12:00 local
            fix_at(family, inside, clock, -90),  # 12:30: entered, inside the window
            fix_at(family, outside, clock, -20),  # 13:40: left, after it
            fix_at(family, inside, clock, -10),  # 13:50: entered again, after it
        ],
    )
    assert [e.occurred_at for e in events] == [clock.now() - timedelta(minutes=90)]


@pytest.mark.skipif(not DATABASE_URL, reason="SQLite serialises writing transactions itself")
async def test_concurrent_batches_of_a_child_take_turns(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    await create_place(client, family)
    await track(runtime, family, [fix_at(family, destination(ALMATY, 0, 900), clock, -10)])
    batches = [[fix_at(family, ALMATY, clock, -9)], [fix_at(family, ALMATY, clock, -8)]]
    results = await asyncio.gather(*(track(runtime, family, b) for b in batches))
    assert sorted(len(r) for r in results) == [0, 1]


async def test_the_guardian_reads_place_events_and_the_child_sees_that(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    clock: FrozenClock,
) -> None:
    school = await create_place(client, family)
    home = await create_place(
        client,
        family,
        name="Home",
        shape={
            **CIRCLE,
            "center": {
                "latitude": destination(ALMATY, 0, 3000).latitude,
                "longitude": ALMATY.longitude,
            },
        },
    )
    near_home = destination(ALMATY, 0, 3000)
    await track(
        runtime,
        family,
        [
            fix_at(family, near_home, clock, -60),
            fix_at(family, ALMATY, clock, -40),
            fix_at(family, near_home, clock, -20),
        ],
    )
    url = f"/v1/children/{family.child_id}/place-events"
    headers = family.guardian.headers
    page = await client.get(url, headers=headers, params={"limit": 2})
    assert page.status_code == 200, page.text
    newest = page.json()["items"]
    # Leaving one place and entering the other happen at the same fix, newest fix first.
    assert {(e["kind"], e["place_name"]) for e in newest} == {("enter", "Home"), ("exit", "School")}
    rest = await client.get(url, headers=headers, params={"cursor": page.json()["next_cursor"]})
    older = rest.json()["items"]
    assert {(e["kind"], e["place_name"]) for e in older} == {("enter", "School"), ("exit", "Home")}
    assert min(e["occurred_at"] for e in newest) > max(e["occurred_at"] for e in older)
    assert rest.json()["next_cursor"] is None
    only = await client.get(url, headers=headers, params={"place_id": home["id"]})
    assert [e["kind"] for e in only.json()["items"]] == ["enter", "exit"]
    assert "places.events_viewed" in await child_sees(client, family)

    # Deleting a place deletes what it produced.
    await client.delete(f"/v1/places/{school['id']}", headers=headers)
    assert len((await client.get(url, headers=headers)).json()["items"]) == 2

    # Monitoring ends: the line is no longer a child SIM.
    await client.put(
        f"/carrier/v1/lines/{family.line}",
        headers=carrier,
        json={"guardian_phone": family.guardian.phone, "is_child_sim": False},
    )
    refused = await client.get(url, headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")


async def test_place_events_are_purged_after_their_retention(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    await create_place(client, family)
    outside = destination(ALMATY, 0, 500)
    await track(
        runtime,
        family,
        [fix_at(family, outside, clock, -30), fix_at(family, ALMATY, clock, -20)],
    )
    entered = clock.now() - timedelta(minutes=20)
    clock.set(entered + timedelta(days=runtime.settings.geofence_event_retention_days))
    assert (await purge_expired(runtime)).geofence_events == 0
    clock.advance(timedelta(seconds=1))
    report = await purge_expired(runtime)
    assert report.geofence_events == 1
    async with runtime.sessions() as session:
        assert len(list(await session.scalars(select(Place.id)))) == 1  # the place stays


async def test_erasing_a_child_removes_only_that_childs_places_and_events(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
    clock: FrozenClock,
) -> None:
    for world in (family, other_family):
        await create_place(client, world)
        await track(
            runtime,
            world,
            [
                fix_at(world, destination(ALMATY, 0, 500), clock, -30),
                fix_at(world, ALMATY, clock, -20),
            ],
        )
    async with transaction(runtime.sessions) as session:
        erased = await geofences.erase_child(session, uuid.UUID(family.child_id))
    assert erased == {"place_events": 1, "places": 1}
    async with runtime.sessions() as session:
        left = set(await session.scalars(select(PlaceEventRow.child_id)))
        left |= set(await session.scalars(select(Place.child_id)))
    assert left == {uuid.UUID(other_family.child_id)}
