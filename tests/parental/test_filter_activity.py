"""Verdicts counted per child and category, the guardian's read of them, and the self-harm
event, through the real check API."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from filters.activity.events import SelfHarmBlocked
from filters.activity.service import purge
from parental.filter_activity import flush_activity
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from parental.worker import purge_expired
from tests.parental.factories import FamilyWorld, publish_lists, sign_in

LISTS = {"drugs": ["||weed.test^"], "self_harm": ["||harm.test^"]}


@pytest.fixture
async def published(runtime: Runtime) -> None:
    await publish_lists(runtime, LISTS)


def activity_url(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/filter-activity"


async def check(client: httpx.AsyncClient, headers: dict[str, str], *items: str) -> None:
    response = await client.post("/v1/filter/check", headers=headers, json={"items": list(items)})
    assert response.status_code == 200, response.text


async def test_the_guardian_sees_counts_and_recent_blocks_and_the_child_sees_that(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, published: None
) -> None:
    await check(client, family.device_headers, "weed.test", "https://www.weed.test/x", "ok.test")
    await flush_activity(runtime)
    await check(client, family.device_headers, "weed.test", "harm.test")
    await flush_activity(runtime)
    response = await client.get(activity_url(family), headers=family.guardian.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Almaty"
    assert len(body["days"]) == 7
    today = body["days"][-1]
    assert today["date"] == "2026-11-25"
    assert (today["lookups"], today["blocked"]) == (5, 4)
    assert today["categories"] == [
        {"category": "drugs", "blocked": 3, "allowed": 0},
        {"category": "self_harm", "blocked": 1, "allowed": 0},
    ]
    assert all(day["lookups"] == 0 for day in body["days"][:-1])
    assert body["totals"] == today["categories"]
    blocked = {b["host"]: (b["category"], b["count"]) for b in body["recent_blocks"]}
    assert blocked == {
        "weed.test": ("drugs", 2),
        "www.weed.test": ("drugs", 1),
        "harm.test": ("self_harm", 1),
    }
    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    actions = [e["action"] for e in seen.json()["items"]]
    assert "filter.activity_viewed" in actions


async def test_counts_from_several_flushes_and_processes_add_up(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    published: None,
) -> None:
    for _ in range(3):
        await check(client, family.device_headers, "weed.test")
        await flush_activity(runtime)
    body = (await client.get(activity_url(family), headers=family.guardian.headers)).json()
    assert body["totals"] == [{"category": "drugs", "blocked": 3, "allowed": 0}]
    assert body["recent_blocks"][0]["count"] == 3


async def test_the_carrier_counts_with_the_childs_profile_and_staff_never_counts(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    staff: dict[str, str],
    published: None,
) -> None:
    profile = await client.get(
        f"/v1/children/{family.child_id}/filter-profile", headers=family.guardian.headers
    )
    profile_id = profile.json()["id"]
    for headers in (carrier, staff):
        response = await client.post(
            "/v1/filter/check",
            headers=headers,
            json={"items": ["weed.test"], "profile": profile_id},
        )
        assert response.json()["results"][0]["action"] == "block"
    await check(client, carrier, "weed.test")  # the default profile: nobody's
    await flush_activity(runtime)
    body = (await client.get(activity_url(family), headers=family.guardian.headers)).json()
    assert body["totals"] == [{"category": "drugs", "blocked": 1, "allowed": 0}]


async def test_a_self_harm_block_publishes_an_event_for_the_child(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, published: None
) -> None:
    events: list[SelfHarmBlocked] = []

    async def keep(event: SelfHarmBlocked) -> None:
        events.append(event)

    runtime.bus.subscribe(SelfHarmBlocked, keep)
    await check(client, family.device_headers, "https://harm.test/how", "harm.test", "weed.test")
    assert [(str(e.child_id), e.category, e.host) for e in events] == [
        (family.child_id, "self_harm", "harm.test")
    ]


async def test_nothing_is_counted_or_shown_once_monitoring_stops(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    published: None,
) -> None:
    gone = await client.delete(f"/carrier/v1/lines/{family.line}", headers=carrier)
    assert gone.status_code == 200
    await check(client, family.device_headers, "weed.test")
    assert not runtime.activity.take(runtime.clock.now())
    refused = await client.get(activity_url(family), headers=family.guardian.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "MonitoringInactive"


async def test_the_period_and_bad_input(
    client: httpx.AsyncClient, family: FamilyWorld, published: None
) -> None:
    month = await client.get(
        activity_url(family), headers=family.guardian.headers, params={"days": 31}
    )
    assert len(month.json()["days"]) == 31
    for bad in ("0", "32", "x"):
        response = await client.get(
            activity_url(family), headers=family.guardian.headers, params={"days": bad}
        )
        assert response.status_code == 422


async def test_activity_expires(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
) -> None:
    await check(client, family.device_headers, "weed.test")
    await flush_activity(runtime)
    clock.advance(timedelta(days=10))
    await check(client, family.device_headers, "weed.test")
    await flush_activity(runtime)
    today = clock.now().date()
    async with transaction(runtime.sessions) as session:
        # Blocked names expire sooner than counts.
        removed = await purge(
            session,
            counts_before=today - timedelta(days=20),
            blocks_before=today - timedelta(days=5),
        )
    assert removed == 1
    guardian = await sign_in(client, runtime, family.guardian.phone)  # ten days on
    body = (
        await client.get(activity_url(family), headers=guardian.headers, params={"days": 31})
    ).json()
    assert body["totals"] == [{"category": "drugs", "blocked": 2, "allowed": 0}]
    assert [b["last_at"] for b in body["recent_blocks"]] == ["2026-12-05T09:00:00Z"]
    async with transaction(runtime.sessions) as session:
        removed = await purge(session, counts_before=today, blocks_before=today)
    assert removed == 1


async def test_the_worker_purges_blocked_names_after_30_days_and_counts_after_90(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
) -> None:
    await check(client, family.device_headers, "weed.test")
    await flush_activity(runtime)
    clock.advance(timedelta(days=30))
    assert (await purge_expired(runtime)).filter_activity == 0
    clock.advance(timedelta(days=2))
    assert (await purge_expired(runtime)).filter_activity == 1
    clock.advance(timedelta(days=57))
    assert (await purge_expired(runtime)).filter_activity == 0
    clock.advance(timedelta(days=2))
    assert (await purge_expired(runtime)).filter_activity == 1
