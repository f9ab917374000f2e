"""The filter check remembers who a caller is and which profile applies
(``filters.check.subjects``) until a change voids it: a guardian's edit, a revoked device, the
carrier's change to the line, a token's or an entry's expiry. Each case here keeps subjects for
an hour, so only the change can make the next check see it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from filters.check.subjects import SubjectCache
from filters.profiles import repository as profiles_repository
from filters.profiles import service as profiles
from filters.profiles.schemas import EntryCreate
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.security import keyed_hash
from parental.runtime import Runtime
from tests.filters.check.test_subjects import Ticks
from tests.parental.factories import FamilyWorld
from tests.parental.test_filtering import publish


@pytest.fixture
async def remembering(runtime: Runtime) -> None:
    await publish(runtime)
    runtime.subjects.clear()
    runtime.subjects.ttl = 3600


async def profile_of(client: httpx.AsyncClient, family: FamilyWorld) -> str:
    response = await client.get(
        f"/v1/children/{family.child_id}/filter-profile", headers=family.guardian.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def check(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, profile: str | None = None
) -> httpx.Response:
    params = {"url": url} | ({"profile": profile} if profile else {})
    return await client.get("/v1/filter/check", headers=headers, params=params)


async def action(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, profile: str | None = None
) -> str:
    response = await check(client, headers, url, profile)
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["action"])


async def test_a_guardians_edit_applies_to_the_next_check(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    family: FamilyWorld,
    remembering: None,
) -> None:
    profile = await profile_of(client, family)
    assert await action(client, carrier, "games.test", profile) == "allow"
    assert len(runtime.subjects) == 1  # remembered: the next check reads no database
    entries = f"/v1/children/{family.child_id}/filter-profile/entries"
    added = await client.post(
        entries, headers=family.guardian.headers, json={"host": "games.test", "action": "block"}
    )
    assert added.status_code == 201, added.text
    assert await action(client, carrier, "games.test", profile) == "block"
    assert await action(client, family.device_headers, "games.test") == "block"
    removed = await client.delete(
        f"{entries}/{added.json()['id']}", headers=family.guardian.headers
    )
    assert removed.status_code == 204
    assert await action(client, carrier, "games.test", profile) == "allow"
    opened = await client.patch(
        f"/v1/children/{family.child_id}/filter-profile",
        headers=family.guardian.headers,
        json={"categories": {"drugs": {"mode": "off"}}},
    )
    assert opened.status_code == 200, opened.text
    assert await action(client, carrier, "weed.test", profile) == "allow"


async def test_an_expiring_entry_ends_on_time(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    carrier: dict[str, str],
    family: FamilyWorld,
    remembering: None,
) -> None:
    profile = await profile_of(client, family)
    added = await client.post(
        f"/v1/children/{family.child_id}/filter-profile/entries",
        headers=family.guardian.headers,
        json={
            "host": "weed.test",
            "action": "allow",
            "expires_at": (clock.now() + timedelta(minutes=30)).isoformat(),
        },
    )
    assert added.status_code == 201, added.text
    assert await action(client, carrier, "weed.test", profile) == "allow"
    clock.advance(timedelta(minutes=30))
    assert await action(client, carrier, "weed.test", profile) == "block"


async def test_a_revoked_device_is_refused_at_once(
    client: httpx.AsyncClient, family: FamilyWorld, remembering: None
) -> None:
    assert await action(client, family.device_headers, "ok.test") == "allow"
    revoked = await client.delete(
        f"/v1/devices/{family.device_id}", headers=family.guardian.headers
    )
    assert revoked.status_code == 204, revoked.text
    refused = await check(client, family.device_headers, "ok.test")
    assert refused.status_code == 401
    assert refused.json()["error"] == "InvalidFilterCaller"


async def test_a_line_that_stops_being_a_child_sim_stops_counting_at_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    family: FamilyWorld,
    remembering: None,
) -> None:
    profile = await profile_of(client, family)
    assert await action(client, carrier, "ok.test", profile) == "allow"
    key = (keyed_hash(runtime.secret, carrier["Authorization"].removeprefix("Bearer ")), profile)
    remembered = runtime.subjects.get(key, runtime.clock.now())
    assert remembered is not None
    assert str(remembered.child_id) == family.child_id
    line = await client.get(f"/carrier/v1/lines/{family.line}", headers=carrier)
    changed = await client.put(
        f"/carrier/v1/lines/{family.line}",
        headers=carrier,
        json={"guardian_phone": line.json()["guardian_phone"], "is_child_sim": False},
    )
    assert changed.status_code == 200, changed.text
    assert runtime.subjects.get(key, runtime.clock.now()) is None
    assert await action(client, carrier, "ok.test", profile) == "allow"
    now_counted = runtime.subjects.get(key, runtime.clock.now())
    assert now_counted is not None
    assert now_counted.child_id is None  # verdicts count for nobody


async def test_a_staff_token_is_refused_once_it_expires(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    staff: dict[str, str],
    remembering: None,
) -> None:
    assert await action(client, staff, "ok.test") == "allow"
    clock.advance(timedelta(hours=8))
    refused = await check(client, staff, "ok.test")
    assert refused.status_code == 401


async def test_a_busy_callers_subject_is_read_again_in_the_background(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    family: FamilyWorld,
    remembering: None,
) -> None:
    """Before it expires, a subject in use is read again while the checks go on answering
    from it: here a change made without a notice (straight in the database) shows once the
    background read is done, and no check waited for it."""
    ticks = Ticks()
    runtime.subjects = SubjectCache(600, clock=ticks)
    profile = await profile_of(client, family)
    assert await action(client, carrier, "games.test", profile) == "allow"
    async with transaction(runtime.sessions) as session:
        row = await profiles_repository.by_child(session, uuid.UUID(family.child_id))
        assert row is not None
        entry = EntryCreate(host="games.test", action="block")
        await profiles.add_entry(session, row, entry, actor="test", now=runtime.clock.now())
    ticks.now += 300
    # Answered from the remembered subject (a read would have found the entry), which is
    # read again meanwhile.
    assert await action(client, carrier, "games.test", profile) == "allow"
    for _ in range(200):
        if await action(client, carrier, "games.test", profile) == "block":
            break
        await asyncio.sleep(0.01)
    assert await action(client, carrier, "games.test", profile) == "block"
