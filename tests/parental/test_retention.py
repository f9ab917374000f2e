"""Retention of every data class at once (issue 9): a family's every kind of data is made
through the API, the clock moves past the longest retention, the purge job runs once, and no
table of data about what a child or guardian did holds a row any more: only what describes the
family, its settings and the curated lists is left (``KEPT``, each with its reason). A table
added later that the purge does not empty fails here until it is purged or listed.

Cached copies: the latest position lives in the cache for ``location_cache_seconds`` (real
time); read after the retention it is no longer served. Files: the recordings of listening
sessions are rows (``command_audio``); published blocklist files hold no personal data and are
pruned by version (``tests/parental/test_worker.py``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.filter_activity import flush_activity
from parental.kit.clock import FrozenClock
from parental.models import Base
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.geofences.models import Place
from tests.console.helpers import create_staff
from tests.console.helpers import sign_in as console_sign_in
from tests.fakes.fcm import FakeFcm
from tests.parental.commands.conftest import command_settings, give
from tests.parental.factories import FamilyWorld, publish_lists, sign_in
from tests.parental.notifications.conftest import fcm
from tests.parental.test_authorization import PUSH_TOKEN
from tests.parental.test_conversation_alerts import HARM
from tests.parental.test_conversations_ingest import message
from tests.parental.test_conversations_ingest import upload as upload_messages

__all__ = ["fcm"]

KEPT = {
    # Who is who: kept while the account, family, child or line exists (deleted with it).
    "accounts": "a guardian's account",
    "families": "the family",
    "guardians": "membership of a family",
    "children": "the child's record",
    "lines": "the carrier's line of the child",
    "devices": "the child's paired phone",
    "consent_records": "the evidence of what was consented to, while the child's record exists",
    "service_keys": "the carrier's API keys",
    "staff_accounts": "curators and admins",
    # A family's settings: not a record of anything the child did.
    "alarm_settings": "the child's alarm thresholds",
    "notification_preferences": "a guardian's choices",
    "screen_time_policies": "the child's screen-time rules",
    "child_app_categories": "categories a guardian gave apps",
    "filter_profiles": "the child's filter settings",
    "filter_profile_entries": "the child's allow and block list",
    "geofence_places": "the places a guardian drew (their state is the child's latest only)",
    # Curation: lists and classifier rules, no personal data.
    "filter_categories": "curated",
    "filter_entries": "curated",
    "filter_sources": "curated",
    "filter_imports": "curated",
    "filter_import_jobs": "curated",
    "filter_versions": "curated",
    "app_catalogue": "curated",
    "conversation_lexicons": "curated",
    # The carrier's configuration: ages for every child, naming none.
    "carrier_age_policy": "the carrier's age bands",
}


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return command_settings(fcm)


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def make_every_kind_of_data(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    guardian, device = family.guardian.headers, family.device_headers
    child = f"/v1/children/{family.child_id}"
    now = clock.now()
    at = (now - timedelta(minutes=30)).isoformat()

    await ok(
        await client.post(
            f"/v1/families/{family.family_id}/invitations",
            headers=guardian,
            json={"phone": "+77015550999"},
        ),
        201,
    )
    await ok(
        await client.put(
            "/v1/push-tokens",
            headers=guardian,
            json={**PUSH_TOKEN},
        )
    )
    await ok(
        await client.put("/v1/device/push-token", headers=device, json={"token": "d:" + "y" * 150}),
        204,
    )

    # Where the child is: a place, fixes that leave it, the carrier's position, the handset.
    place = {
        "name": "School",
        "shape": {
            "kind": "circle",
            "center": {"latitude": 43.24, "longitude": 76.89},
            "radius_m": 200,
        },
        "events": ["enter", "exit"],
    }
    await ok(await client.post(f"{child}/places", headers=guardian, json=place), 201)
    fixes = [
        {
            "fixed_at": (now - timedelta(minutes=20 - i)).isoformat(),
            "latitude": 43.24 + (0.0 if i < 5 else 0.02),
            "longitude": 76.89,
            "accuracy_m": 10,
            "battery_pct": 9,
        }
        for i in range(10)
    ]
    stored = await ok(
        await client.post("/v1/device/locations", headers=device, json={"fixes": fixes})
    )
    assert stored["accepted"] == 10
    position = {"fixed_at": at, "latitude": 43.25, "longitude": 76.9, "accuracy_m": 1500}
    await ok(
        await client.post(
            f"/carrier/v1/lines/{family.line}/locations",
            headers=carrier,
            json={"positions": [position]},
        )
    )
    for imei in ("490154203237518", "356938035643809"):
        await ok(
            await client.post(
                f"/carrier/v1/lines/{family.line}/handset", headers=carrier, json={"imei": imei}
            )
        )
    await ok(
        await client.post(
            "/carrier/v1/bindings",
            headers=carrier,
            json={"msisdn": family.line, "ip": "10.0.0.7", "event": "start", "session_id": "s1"},
        )
    )
    await ok(
        await client.post(
            "/v1/device/alarms", headers=device, json={"kind": "sos", "pressed_at": at}
        ),
        201,
    )
    await ok(await client.get(f"{child}/location", headers=guardian))  # an audited read

    # Screen time: usage, a request, a task.
    usage = {
        "kind": "app",
        "app": "com.example.game",
        "app_name": "Example Game",
        "started_at": (now - timedelta(hours=1)).isoformat(),
        "ended_at": (now - timedelta(minutes=10)).isoformat(),
    }
    await ok(await client.post("/v1/device/usage", headers=device, json={"sessions": [usage]}))
    await ok(
        await client.post(
            "/v1/device/screen-time/requests",
            headers=device,
            json={"kind": "extra_time", "app": "com.example.game", "minutes": 15},
        ),
        201,
    )
    await ok(
        await client.post(
            f"{child}/screen-time/tasks",
            headers=guardian,
            json={"title": "Homework", "reward_minutes": 15},
        ),
        201,
    )

    # Commands, a listening session's recording, messages and their alerts.
    await ok(await give(client, family, {"kind": "ring"}), 201)
    listen = await ok(await give(client, family, {"kind": "listen", "seconds": 30}), 201)
    await ok(
        await client.put(
            f"/v1/device/commands/{listen['id']}/audio",
            headers={**device, "Content-Type": "audio/ogg"},
            content=b"OggS\x00\x02" + bytes(range(256)) * 8,
        )
    )
    await ok(await upload_messages(client, family, message(clock, 1, text=HARM)))

    # The filter: verdicts of the child's line, a report, the activity counters.
    await publish_lists(runtime, {"drugs": ["||weed.test^"]})
    await ok(
        await client.post(
            "/v1/filter/check", headers=device, json={"items": ["weed.test", "ok.test"]}
        )
    )
    await flush_activity(runtime)
    curator = await create_staff(runtime)
    assert curator is not None
    await console_sign_in(client, runtime, curator)  # a console session
    await ok(
        await client.post(
            f"{child}/filter-reports",
            headers=guardian,
            json={"kind": "should_be_blocked", "target": "casino.test"},
        ),
        201,
    )


async def rows_by_table(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as session:
        return {
            name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


async def test_past_every_retention_only_what_describes_the_family_is_left(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    await make_every_kind_of_data(client, runtime, clock, family, carrier)
    before = await rows_by_table(runtime)
    data_tables = {name for name in before if name not in KEPT}
    made = {name for name in data_tables if before[name]}
    # The world above reaches (almost) every data class; the few it does not are named.
    unreached = data_tables - made
    assert unreached <= {
        "unblock_requests",
        "usage_limit_reached",
        "usage_weekly_summaries",
    }, unreached

    clock.advance(timedelta(days=400))  # past the longest retention (a year), still a minor
    await purge_expired(runtime)

    after = await rows_by_table(runtime)
    left = {name: after[name] for name in sorted(data_tables) if after[name]}
    assert left == {}
    assert set(KEPT) <= set(after), "a table in KEPT no longer exists"
    async with runtime.sessions() as session:
        states = (
            await session.execute(select(Place.status, Place.status_at, Place.inside_seen_at))
        ).all()
    assert [tuple(s) for s in states] == [("unknown", None, None)]  # where the child was: gone

    # The latest position is not served from the cache past its retention.
    guardian = await sign_in(client, runtime, family.guardian.phone)  # the old tokens expired
    read = await client.get(f"/v1/children/{family.child_id}/location", headers=guardian.headers)
    assert read.status_code == 200, read.text
    assert read.json()["location"] is None
