"""A child's filter profile: age-band defaults, guardian edits, and verdicts that follow them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from filters.categories.catalog import AgeBand
from filters.curation import repository as curation_repository
from filters.curation.models import Category
from parental.children import repository as children
from parental.filtering import child_profile
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_filtering import publish


async def test_defaults_follow_the_childs_age_band(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    # The factory's child was born 2015-03-08: 11 on 2026-11-25, band 9-12.
    response = await client.get(
        f"/v1/children/{family.child_id}/filter-profile", headers=family.guardian.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Almaty"
    modes = {k: v["mode"] for k, v in body["categories"].items()}
    assert modes["self_harm"] == "always"
    assert modes["social"] == "always"
    assert modes["kids_allow"] == "always"
    assert body["entries"] == []


async def test_schedules_are_validated(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    url = f"/v1/children/{family.child_id}/filter-profile"
    headers = family.guardian.headers
    school_nights = {
        "mode": "scheduled",
        "windows": [{"days": [6, 0, 1, 2, 3], "start": "21:00", "end": "07:00"}],
    }
    ok = await client.patch(url, headers=headers, json={"categories": {"social": school_nights}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["categories"]["social"]["windows"][0]["end"] == "07:00:00"
    for bad, error in [
        ({"categories": {"nope": {"mode": "off"}}}, "UnknownCategory"),
        ({"categories": {"social": {"mode": "scheduled"}}}, "InvalidSchedule"),
    ]:
        response = await client.patch(url, headers=headers, json=bad)
        assert response.status_code == 400
        assert response.json()["error"] == error
    for bad in [
        {"categories": {"social": {"mode": "sometimes"}}},
        {
            "categories": {
                "social": {
                    **school_nights,
                    "windows": [{"days": [7], "start": "1:00", "end": "2:00"}],
                }
            }
        },
        {"colour": "blue"},
    ]:
        assert (await client.patch(url, headers=headers, json=bad)).status_code == 422
    # Nothing of the refused edits stuck.
    after = await client.get(url, headers=headers)
    assert after.json()["categories"]["social"]["mode"] == "scheduled"


async def test_verdicts_follow_the_profile_and_a_temporary_unblock_expires(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    clock: FrozenClock,
) -> None:
    await publish(runtime)
    url = f"/v1/children/{family.child_id}/filter-profile"
    headers = family.guardian.headers
    device = family.device_headers

    async def device_says(name: str) -> str:
        response = await client.get("/v1/filter/check", params={"url": name}, headers=device)
        assert response.status_code == 200, response.text
        action: str = response.json()["results"][0]["action"]
        return action

    assert await device_says("weed.test") == "block"
    entry = await client.post(
        url + "/entries",
        headers=headers,
        json={
            "host": "https://weed.test/",
            "action": "allow",
            "expires_at": (clock.now() + timedelta(hours=1)).isoformat(),
        },
    )
    assert entry.status_code == 201, entry.text
    assert entry.json()["host"] == "weed.test"
    assert await device_says("www.weed.test") == "allow"
    clock.advance(timedelta(minutes=61))
    assert await device_says("www.weed.test") == "block"
    headers = (await sign_in(client, runtime, family.guardian.phone)).headers  # token expired

    # Turning the drugs category off opens the list's names; a guardian block still holds.
    off = await client.patch(url, headers=headers, json={"categories": {"drugs": {"mode": "off"}}})
    assert off.status_code == 200, off.text
    assert off.json()["categories"]["drugs"]["mode"] == "off"
    await client.post(
        url + "/entries", headers=headers, json={"host": "pills.test", "action": "block"}
    )
    assert await device_says("weed.test") == "allow"
    assert await device_says("pills.test") == "block"

    # The carrier asks with the profile id; the default profile still blocks drugs.
    profile_id = (await client.get(url, headers=headers)).json()["id"]
    with_profile = await client.post(
        "/v1/filter/check", headers=carrier, json={"profile": profile_id, "items": ["weed.test"]}
    )
    assert with_profile.json()["results"][0]["action"] == "allow"
    default = await client.post("/v1/filter/check", headers=carrier, json={"items": ["weed.test"]})
    assert default.json()["results"][0]["action"] == "block"

    # The child's device is told about every change to its filter.
    events = await client.get("/v1/device/audit-events", headers=device)
    actions = [e["action"] for e in events.json()["items"]]
    assert actions.count("filter.entry_added") == 2
    assert "filter.profile_updated" in actions


async def test_a_device_cannot_use_another_childs_profile(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await publish(runtime)
    theirs = await client.get(
        f"/v1/children/{other_family.child_id}/filter-profile",
        headers=other_family.guardian.headers,
    )
    response = await client.post(
        "/v1/filter/check",
        headers=family.device_headers,
        json={"profile": theirs.json()["id"], "items": ["a.test"]},
    )
    assert response.status_code == 404
    assert response.json()["error"] == "ProfileNotFound"


async def test_entries_are_validated_and_removed(
    client: httpx.AsyncClient, family: FamilyWorld, clock: FrozenClock
) -> None:
    url = f"/v1/children/{family.child_id}/filter-profile/entries"
    headers = family.guardian.headers
    past = await client.post(
        url,
        headers=headers,
        json={
            "host": "a.test",
            "action": "allow",
            "expires_at": (clock.now() - timedelta(seconds=1)).isoformat(),
        },
    )
    assert past.status_code == 400
    bad = await client.post(url, headers=headers, json={"host": "a..test", "action": "allow"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "InvalidEntry"
    made = await client.post(
        url, headers=headers, json={"host": "a.test", "action": "block", "subdomains": False}
    )
    assert made.json()["scope"] == "exact"
    assert (await client.delete(f"{url}/{made.json()['id']}", headers=headers)).status_code == 204
    assert (await client.delete(f"{url}/{made.json()['id']}", headers=headers)).status_code == 404


async def test_a_category_curators_add_later_joins_existing_profiles_with_its_default(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    url = f"/v1/children/{family.child_id}/filter-profile"
    first = await client.get(url, headers=family.guardian.headers)
    assert "extremism" not in first.json()["categories"]
    changed = await client.patch(
        url, headers=family.guardian.headers, json={"categories": {"social": {"mode": "off"}}}
    )
    assert changed.status_code == 200
    async with transaction(runtime.sessions) as session:
        await curation_repository.add(
            session,
            Category(
                key="extremism",
                kind="block",
                names={"en": "Extremism", "ru": "Экстремизм", "kk": "Экстремизм"},
                descriptions={"en": "-", "ru": "-", "kk": "-"},
                defaults={band.value: True for band in AgeBand},
                builtin=False,
                created_at=runtime.clock.now(),
            ),
        )
    later = (await client.get(url, headers=family.guardian.headers)).json()
    assert later["categories"]["extremism"]["mode"] == "always"
    assert later["categories"]["social"]["mode"] == "off"  # the guardian's choice stands


async def test_two_first_requests_at_once_make_one_profile(
    runtime: Runtime, family: FamilyWorld
) -> None:
    async def first_use() -> uuid.UUID:
        async with transaction(runtime.sessions) as session:
            child = await children.get(session, uuid.UUID(family.child_id))
            assert child is not None
            row = await child_profile(session, runtime, child)
            await asyncio.sleep(0.05)  # both transactions are open at once
            return row.id

    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    ids = await asyncio.gather(first_use(), first_use(), return_exceptions=True)
    assert not [i for i in ids if isinstance(i, BaseException)], ids
    assert ids[0] == ids[1]
