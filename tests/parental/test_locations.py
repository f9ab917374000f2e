"""Location fixes through the API: the device's uploads, the carrier's cell positions, the
guardian's reads (latest, history) with the audit rows the child sees, the monitoring rules,
and the purge once the clock has moved on. The live stream and the listeners:
``test_locations_live``."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.locations.models import LocationFix
from tests.parental.factories import (
    FamilyWorld,
    add_child,
    create_family,
    pair_device,
    register_line,
    sign_in,
)


@pytest.fixture
def parental_settings() -> ParentalSettings:
    # Five minutes of device silence before the carrier's position is shown: within the
    # fifteen minutes an access token lasts.
    return ParentalSettings(location_carrier_fallback_seconds=300)


def fix(at: datetime, **changes: Any) -> dict[str, Any]:
    return {
        "fixed_at": at.isoformat(),
        "latitude": 43.2389,
        "longitude": 76.8897,
        "accuracy_m": 8.5,
        **changes,
    }


async def upload(
    client: httpx.AsyncClient, family: FamilyWorld, *fixes: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        "/v1/device/locations", headers=family.device_headers, json={"fixes": list(fixes)}
    )


async def post_cells(
    client: httpx.AsyncClient, carrier: dict[str, str], line: str, *fixes: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/carrier/v1/lines/{line}/locations", headers=carrier, json={"positions": list(fixes)}
    )


def cell(at: datetime, **changes: Any) -> dict[str, Any]:
    return fix(at, **{"accuracy_m": 1800.0, **changes})


async def latest(client: httpx.AsyncClient, family: FamilyWorld) -> httpx.Response:
    return await client.get(
        f"/v1/children/{family.child_id}/location", headers=family.guardian.headers
    )


async def history(client: httpx.AsyncClient, family: FamilyWorld, **params: Any) -> httpx.Response:
    return await client.get(
        f"/v1/children/{family.child_id}/locations",
        headers=family.guardian.headers,
        params=params,
    )


async def stored_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LocationFix)) or 0)


async def child_audit(client: httpx.AsyncClient, family: FamilyWorld) -> list[dict[str, Any]]:
    """What the child's device shows of what was done about the child, newest first."""
    response = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [e for e in items if e["action"].startswith("location.")]


# --- uploads ----------------------------------------------------------------------------


async def test_a_batch_gets_a_verdict_per_fix_and_keeps_the_good_ones(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    now = clock.now()
    first = await upload(client, family, fix(now - timedelta(minutes=5), client_id="a"))
    assert first.status_code == 200, first.text

    response = await upload(
        client,
        family,
        fix(now, client_id="b", battery_pct=55, charging=False, speed_mps=1.2, source="network"),
        fix(now - timedelta(minutes=5), client_id="a"),  # sent before
        fix(now - timedelta(minutes=3), latitude=91.0, client_id="c"),
        fix(now + timedelta(hours=1), client_id="d"),
        fix(now - timedelta(days=31)),
        fix(now - timedelta(minutes=2), accuracy_m=9000),
        fix(now - timedelta(minutes=1), heading_deg=400),
        fix(now, client_id="b-again"),  # earlier in this batch
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 2, 5)
    assert [(i["index"], i["client_id"], i["status"], i["reason"]) for i in body["items"]] == [
        (0, "b", "accepted", None),
        (1, "a", "duplicate", None),
        (2, "c", "rejected", "invalid_coordinates"),
        (3, "d", "rejected", "in_future"),
        (4, None, "rejected", "too_old"),
        (5, None, "rejected", "inaccurate"),
        (6, None, "rejected", "invalid_value"),
        (7, "b-again", "duplicate", None),
    ]
    assert await stored_count(runtime) == 2

    shown = (await latest(client, family)).json()
    assert shown["basis"] == "device"
    assert shown["location"] | {"id": None} == {
        "id": None,
        "device_id": family.device_id,
        "source": "network",
        "fixed_at": now.isoformat().replace("+00:00", "Z"),
        "latitude": 43.2389,
        "longitude": 76.8897,
        "accuracy_m": 8.5,
        "altitude_m": None,
        "speed_mps": 1.2,
        "heading_deg": None,
        "battery_pct": 55,
        "charging": False,
    }


async def test_nan_coordinates_are_refused_alone(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    # NaN is not JSON, but Python's and many phones' encoders write it.
    raw = json.dumps(
        {
            "fixes": [
                fix(clock.now(), latitude=math.nan),
                fix(clock.now() - timedelta(seconds=1), client_id="ok"),
            ]
        }
    )
    assert "NaN" in raw
    response = await client.post(
        "/v1/device/locations",
        headers={**family.device_headers, "Content-Type": "application/json"},
        content=raw,
    )
    assert response.status_code == 200, response.text
    assert [(i["status"], i["reason"]) for i in response.json()["items"]] == [
        ("rejected", "invalid_coordinates"),
        ("accepted", None),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'{"fixes": [',
        b"latitude=1",
        b'{"fixes": []}',
        b'{"fixes": [{"fixed_at": "2026-11-25T09:00:00", "latitude": 1, "longitude": 1,'
        b' "accuracy_m": 5}]}',
        b'{"fixes": [{"fixed_at": "2026-11-25T09:00:00Z", "latitude": "north", "longitude": 1,'
        b' "accuracy_m": 5}]}',
        b'{"fixes": [{"fixed_at": "2026-11-25T09:00:00Z", "latitude": 1, "longitude": 1}]}',
        b'{"fixes": [{"fixed_at": "2026-11-25T09:00:00Z", "latitude": 1, "longitude": 1,'
        b' "accuracy_m": 5, "source": "carrier_cell"}]}',
        b'{"fixes": [{"fixed_at": "2026-11-25T09:00:00Z", "latitude": 1, "longitude": 1,'
        b' "accuracy_m": 5, "mood": "happy"}]}',
    ],
)
async def test_a_malformed_request_is_refused_whole(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, body: bytes
) -> None:
    good = b'{"fixed_at": "2026-11-25T08:59:00Z", "latitude": 1, "longitude": 1, "accuracy_m": 5}'
    if body.startswith(b'{"fixes": [{'):
        body = body.replace(b'{"fixes": [', b'{"fixes": [' + good + b", ", 1)
    response = await client.post(
        "/v1/device/locations",
        headers={**family.device_headers, "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert await stored_count(runtime) == 0


async def test_more_than_a_thousand_fixes_are_refused_whole(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    fixes = [fix(clock.now() - timedelta(seconds=i)) for i in range(1001)]
    refused = await upload(client, family, *fixes)
    assert refused.status_code == 422
    assert refused.json()["issues"][0]["loc"] == ["body", "fixes"]
    assert await stored_count(runtime) == 0
    accepted = await upload(client, family, *fixes[:1000])
    assert accepted.json()["accepted"] == 1000


async def minor_turning_18_tomorrow(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> FamilyWorld:
    """A child whose 18th birthday is the day after the test clock's start (2026-11-25)."""
    guardian = await sign_in(client, runtime, "+77015550123")
    family_id = await create_family(client, guardian)
    await register_line(client, carrier, "+77075550123", guardian.phone)
    child = await add_child(client, guardian, "+77075550123", birthdate="2008-11-26")
    device_id, token = await pair_device(client, guardian, child["id"])
    return FamilyWorld(guardian, family_id, child["id"], "+77075550123", device_id, token)


async def test_nothing_is_stored_or_shown_once_the_child_is_18(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    assert (await upload(client, teen, fix(clock.now()))).status_code == 200

    clock.advance(timedelta(days=1))  # 09:00 in Almaty (UTC+5) on the 26th: 18 years old
    refused = await upload(client, teen, fix(clock.now()))
    assert (refused.status_code, refused.json()["error"]) == (410, "MonitoringEndedAdult")
    assert await stored_count(runtime) == 1
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)  # a day: a new token
    for response in (
        await latest(client, teen),
        await history(client, teen),
        await client.get(
            f"/v1/children/{teen.child_id}/locations/stream", headers=teen.guardian.headers
        ),
    ):
        assert (response.status_code, response.json()["error"]) == (410, "MonitoringEndedAdult")
    cells = await post_cells(client, carrier, teen.line, cell(clock.now()))
    assert (cells.status_code, cells.json()["status"], cells.json()["reason"]) == (
        202,
        "ignored",
        "not_monitored",
    )
    assert await stored_count(runtime) == 1
    assert await child_audit(client, teen) == []


# --- the carrier's positions ------------------------------------------------------------


async def test_carrier_positions_are_stored_for_the_lines_child_without_a_device(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    now = clock.now()
    line = family.line.lstrip("+")  # the + may be left out in the URL
    response = await post_cells(
        client, carrier, line, cell(now, client_id="c1"), cell(now), cell(now, accuracy_m=60_000)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["reason"], body["accepted"], body["duplicate"]) == (
        "stored",
        None,
        1,
        1,
    )
    assert body["items"][2]["reason"] == "inaccurate"
    async with runtime.sessions() as session:
        row = (await session.scalars(select(LocationFix))).one()
    assert (str(row.child_id), row.device_id, row.source) == (family.child_id, None, "carrier_cell")


async def test_carrier_positions_of_other_lines(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    at = clock.now()
    unknown = await post_cells(client, carrier, "+77070000009", cell(at))
    assert (unknown.status_code, unknown.json()["error"]) == (404, "LineNotFound")
    invalid = await post_cells(client, carrier, "12", cell(at))
    assert (invalid.status_code, invalid.json()["error"]) == (400, "InvalidMsisdn")

    await register_line(client, carrier, "+77070000010", "+77015550999", is_child_sim=False)
    adult_sim = await post_cells(client, carrier, "+77070000010", cell(at))
    assert (adult_sim.status_code, adult_sim.json()["reason"]) == (202, "not_child_sim")
    await register_line(client, carrier, "+77070000011", "+77015550999")
    no_child = await post_cells(client, carrier, "+77070000011", cell(at))
    assert (no_child.status_code, no_child.json()["reason"]) == (202, "no_child")

    assert (await client.delete(f"/carrier/v1/lines/{family.line}", headers=carrier)).is_success
    inactive = await post_cells(client, carrier, family.line, cell(at))
    assert (inactive.status_code, inactive.json()["error"]) == (409, "LineInactive")
    assert await stored_count(runtime) == 0

    device = await upload(client, family, fix(at))
    assert device.status_code == 403  # the same line, so the device is refused too


# --- reading ----------------------------------------------------------------------------


async def test_the_carrier_position_is_shown_when_the_device_falls_silent(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    empty = await latest(client, family)
    assert empty.json() == {"location": None, "basis": None, "device_fixed_at": None}
    t0 = clock.now()
    await upload(client, family, fix(t0))
    clock.advance(timedelta(minutes=3))
    await post_cells(client, carrier, family.line, cell(clock.now(), latitude=43.3))

    clock.advance(timedelta(minutes=2))
    shown = (await latest(client, family)).json()
    assert (shown["basis"], shown["location"]["source"]) == ("device", "gps")

    clock.advance(timedelta(seconds=1))
    shown = (await latest(client, family)).json()
    assert (shown["basis"], shown["location"]["source"], shown["location"]["latitude"]) == (
        "carrier_fallback",
        "carrier_cell",
        43.3,
    )
    assert shown["device_fixed_at"] == t0.isoformat().replace("+00:00", "Z")

    seen = await child_audit(client, family)
    assert [(e["action"], e["details"]["basis"]) for e in seen] == [
        ("location.viewed", "carrier_fallback"),
        ("location.viewed", "device"),
        ("location.viewed", None),
    ]
    assert {e["actor_type"] for e in seen} == {"guardian"}


async def test_the_guardian_pages_through_the_history_and_the_child_sees_it(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    start = clock.now() - timedelta(hours=2)
    times = [start + timedelta(minutes=m) for m in range(120)]  # one fix a minute
    assert (await upload(client, family, *(fix(t) for t in reversed(times)))).status_code == 200

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 50}
    while True:
        page = (await history(client, family, **params)).json()
        seen += [item["fixed_at"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert [datetime.fromisoformat(s) for s in seen] == list(reversed(times))

    sampled = await history(client, family, every=900, since=times[30].isoformat())
    assert [datetime.fromisoformat(i["fixed_at"]).minute for i in sampled.json()["items"]] == [
        59,  # 08:45-09:00
        44,
        29,
        14,
        59,
        44,  # 07:30-07:45, since 07:30
    ]

    bad = await history(client, family, since=times[5].isoformat(), until=times[5].isoformat())
    assert (bad.status_code, bad.json()["error"]) == (400, "InvalidPeriod")
    cursor = await history(client, family, cursor="not-a-cursor")
    assert (cursor.status_code, cursor.json()["error"]) == (400, "InvalidCursor")
    naive = await history(client, family, since="2026-11-25T08:00:00")
    assert naive.status_code == 422
    too_many = await history(client, family, limit=1001)
    assert too_many.status_code == 422

    viewed = await child_audit(client, family)
    assert [e["action"] for e in viewed] == ["location.history_viewed"] * 4
    assert {
        "since": times[30].isoformat(),
        "until": None,
        "every": 900,
        "next_page": False,
    } in [e["details"] for e in viewed]


# --- retention --------------------------------------------------------------------------


async def test_the_worker_purges_fixes_after_30_days(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    t0 = clock.now()
    await upload(client, family, fix(t0 - timedelta(days=29)), fix(t0))
    assert (await latest(client, family)).json()["basis"] == "device"

    clock.advance(timedelta(days=1))
    assert (await purge_expired(runtime)).location_fixes == 0  # exactly 30 days old: kept
    clock.advance(timedelta(milliseconds=1))
    assert (await purge_expired(runtime)).location_fixes == 1
    assert await stored_count(runtime) == 1
    assert (await purge_expired(runtime)).location_fixes == 0

    clock.advance(timedelta(days=30))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert (await latest(client, family)).json()["location"] is None  # even though cached
    report = await purge_expired(runtime)
    assert report.location_fixes == 1
    assert await stored_count(runtime) == 0
    assert (await history(client, family)).json()["items"] == []
