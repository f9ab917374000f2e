"""Consent through the API: versioned per purpose, the child's own from the carrier's age, and
what a missing consent stops (uploads refused with ``ConsentRequired`` and nothing stored,
listening refused, message excerpts and transcripts not shown), on both sides."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.audit import service as audit
from parental.children import grants
from parental.children import repository as children_repository
from parental.consent import service as consent
from parental.consent.models import Party, Purpose
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.conversations.models import ConversationMessage
from telemetry.locations.models import LocationFix
from telemetry.usage.models import UsageSession
from tests.parental.factories import (
    FamilyWorld,
    create_family,
    pair_device,
    register_line,
    sign_in,
)
from tests.parental.test_conversations_ingest import message

VERSION = "2026-12"
HARM = "я больше не могу, хочу покончить с собой"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    # A guardian may listen from the start (the 72-hour rule has its own tests).
    return ParentalSettings(command_listen_guardian_min_hours=0, consent_text_version=VERSION)


async def child_world(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    *,
    birthdate: str,
    consents: list[str],
    phone: str = "+77015550140",
    line: str = "+77075550140",
) -> FamilyWorld:
    """A family whose child was added with exactly ``consents``."""
    guardian = await sign_in(client, runtime, phone)
    family_id = await create_family(client, guardian)
    await register_line(client, carrier, line, phone)
    body: dict[str, Any] = {"name": "Dana", "birthdate": birthdate, "msisdn": line}
    if consents:
        body |= {"consents": consents, "consent_text_version": VERSION}
    child = await client.post("/v1/children", headers=guardian.headers, json=body)
    assert child.status_code == 201, child.text
    device_id, token = await pair_device(client, guardian, child.json()["id"])
    return FamilyWorld(guardian, family_id, child.json()["id"], line, device_id, token)


async def set_consent(
    client: httpx.AsyncClient, family: FamilyWorld, purpose: str, granted: bool, **more: Any
) -> httpx.Response:
    return await client.put(
        f"/v1/children/{family.child_id}/consents",
        headers=family.guardian.headers,
        json={"purpose": purpose, "granted": granted, "text_version": VERSION, **more},
    )


async def child_consent(
    client: httpx.AsyncClient, family: FamilyWorld, purpose: str, granted: bool
) -> httpx.Response:
    return await client.put(
        "/v1/device/consents",
        headers=family.device_headers,
        json={"purpose": purpose, "granted": granted, "text_version": VERSION},
    )


async def consents(client: httpx.AsyncClient, family: FamilyWorld, **params: Any) -> Any:
    response = await client.get(
        f"/v1/children/{family.child_id}/consents", headers=family.guardian.headers, params=params
    )
    assert response.status_code == 200, response.text
    return response.json()


def by_purpose(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["purpose"]: p for p in body["purposes"]}


def refused_for(response: httpx.Response, purpose: str, missing: list[str]) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert (body["error"], body["purpose"], body["missing"]) == (
        "ConsentRequired",
        purpose,
        missing,
    )


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def fix(at: Any) -> dict[str, Any]:
    return {"fixed_at": at.isoformat(), "latitude": 43.2389, "longitude": 76.8897, "accuracy_m": 9}


async def upload_fix(client: httpx.AsyncClient, family: FamilyWorld, at: Any) -> httpx.Response:
    return await client.post(
        "/v1/device/locations", headers=family.device_headers, json={"fixes": [fix(at)]}
    )


async def upload_messages(
    client: httpx.AsyncClient, family: FamilyWorld, *items: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        "/v1/device/messages", headers=family.device_headers, json={"messages": list(items)}
    )


async def test_consents_are_versioned_per_purpose_with_every_change_kept(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    body = await consents(client, family)
    assert (body["text_version"], body["child_consent_age"]) == (VERSION, 14)
    state = by_purpose(body)
    # Location and app usage come with adding the child; the form gave the other two.
    for purpose in ("location", "app_usage"):
        assert state[purpose]["guardian"]["basis"] == "child_added"
        assert state[purpose]["effective"] is True
        assert state[purpose]["child"] is None
    for purpose in ("messages", "listening"):
        given = state[purpose]["guardian"]
        assert (given["granted"], given["basis"], given["text_version"]) == (
            True,
            "recorded",
            VERSION,
        )
        assert given["by"] == family.guardian.account_id
        assert state[purpose]["child_required"] is False  # the child is 11
    assert [(r["number"], r["purpose"]) for r in body["history"]] == [
        (2, "messages"),
        (1, "listening"),
    ]

    clock.advance(timedelta(minutes=1))
    withdrawn = await set_consent(client, family, "messages", False)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["effective"], withdrawn.json()["missing"]) == (False, ["guardian"])
    again = await set_consent(client, family, "messages", False)  # no change: no new row
    assert again.status_code == 200
    old_text = await set_consent(client, family, "messages", True, text_version="2025-01")
    assert (old_text.status_code, old_text.json()["error"]) == (409, "ConsentTextMismatch")
    assert (await set_consent(client, family, "location", False)).status_code == 200
    assert (await set_consent(client, family, "messages", True)).status_code == 200

    body = await consents(client, family)
    assert [(r["number"], r["purpose"], r["granted"]) for r in body["history"]] == [
        (5, "messages", True),
        (4, "location", False),
        (3, "messages", False),
        (2, "messages", True),
        (1, "listening", True),
    ]
    assert by_purpose(body)["location"]["guardian"]["basis"] == "recorded"
    assert by_purpose(body)["location"]["effective"] is False
    # Paged, newest first, each row once.
    seen, cursor = [], None
    while True:
        page = await consents(client, family, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [r["number"] for r in page["history"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    garbage = await client.get(
        f"/v1/children/{family.child_id}/consents",
        headers=family.guardian.headers,
        params={"cursor": "x1"},
    )
    assert (garbage.status_code, garbage.json()["error"]) == (400, "InvalidCursor")
    # Every change is in the log the child's device shows; an unchanged answer is not.
    events = await client.get(
        "/v1/device/audit-events", headers=family.device_headers, params={"limit": 100}
    )
    changes = [
        (e["action"], e["details"]["purpose"])
        for e in events.json()["items"]
        if e["action"].startswith("consent.")
    ]
    assert sorted(changes) == [
        ("consent.granted", "messages"),
        ("consent.withdrawn", "location"),
        ("consent.withdrawn", "messages"),
    ]


async def test_a_child_is_added_with_consents_to_the_current_text_only(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> None:
    guardian = await sign_in(client, runtime, "+77015550141")
    await create_family(client, guardian)
    await register_line(client, carrier, "+77075550141", guardian.phone)
    body = {
        "name": "Dana",
        "birthdate": "2016-01-01",
        "msisdn": "+77075550141",
        "consents": ["messages"],
    }
    for version in (None, "2025-01"):
        refused = await client.post(
            "/v1/children", headers=guardian.headers, json={**body, "consent_text_version": version}
        )
        assert (refused.status_code, refused.json()["error"]) == (409, "ConsentTextMismatch")
    assert (await client.get("/v1/children", headers=guardian.headers)).json()["items"] == []
    added = await client.post(
        "/v1/children", headers=guardian.headers, json={**body, "consent_text_version": VERSION}
    )
    assert added.status_code == 201, added.text


async def test_withdrawing_location_stops_uploads_the_fast_path_included(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
    family: FamilyWorld,
) -> None:
    now = clock.now()
    assert (await upload_fix(client, family, now - timedelta(minutes=3))).status_code == 200
    assert len(runtime.grants) == 1  # the next upload would take the fast path
    assert (await set_consent(client, family, "location", False)).status_code == 200
    assert len(runtime.grants) == 0

    refused_for(
        await upload_fix(client, family, now - timedelta(minutes=2)), "location", ["guardian"]
    )
    cells = await client.post(
        f"/carrier/v1/lines/{family.line}/locations",
        headers=carrier,
        json={"positions": [{**fix(now - timedelta(minutes=1)), "accuracy_m": 1500}]},
    )
    assert cells.status_code == 202, cells.text
    assert (cells.json()["status"], cells.json()["reason"]) == ("ignored", "no_consent")
    assert await count(runtime, LocationFix) == 1

    assert (await set_consent(client, family, "location", True)).status_code == 200
    assert (await upload_fix(client, family, now - timedelta(minutes=2))).status_code == 200
    assert await count(runtime, LocationFix) == 2


async def test_a_withdrawal_in_another_process_sends_the_upload_to_the_route(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await upload_fix(client, family, clock.now())).status_code == 200
    # Another process recorded the withdrawal and wrote a new access version after commit;
    # this process's grant is still in its memory.
    async with transaction(runtime.sessions) as session:
        child = await children_repository.get(session, uuid.UUID(family.child_id))
        assert child is not None
        await consent.change(
            session,
            runtime.settings,
            child=child,
            party=Party.GUARDIAN,
            purpose=Purpose.LOCATION,
            granted=False,
            text_version=None,
            actor=audit.Actor("guardian", family.guardian.account_id),
            now=clock.now(),
        )
    await grants.revoke(runtime.cache, [uuid.UUID(family.child_id)])
    assert len(runtime.grants) == 1
    refused = await upload_fix(client, family, clock.now() - timedelta(minutes=1))
    refused_for(refused, "location", ["guardian"])
    assert await count(runtime, LocationFix) == 1


async def test_withdrawing_app_usage_stops_usage_uploads(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    now = clock.now()
    session = {
        "kind": "screen",
        "started_at": (now - timedelta(minutes=20)).isoformat(),
        "ended_at": (now - timedelta(minutes=10)).isoformat(),
    }
    path, headers = "/v1/device/usage", family.device_headers
    assert (await set_consent(client, family, "app_usage", False)).status_code == 200
    refused_for(
        await client.post(path, headers=headers, json={"sessions": [session]}),
        "app_usage",
        ["guardian"],
    )
    assert await count(runtime, UsageSession) == 0
    assert (await set_consent(client, family, "app_usage", True)).status_code == 200
    stored = await client.post(path, headers=headers, json={"sessions": [session]})
    assert stored.status_code == 200, stored.text
    assert await count(runtime, UsageSession) == 1


async def test_messages_need_the_guardians_explicit_consent(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    world = await child_world(client, runtime, carrier, birthdate="2016-01-01", consents=[])
    mode = await client.get("/v1/device/messages/mode", headers=world.device_headers)
    assert mode.json()["mode"] == "off"  # the device knows not to upload
    refused_for(
        await upload_messages(client, world, message(clock, 1, text=HARM)), "messages", ["guardian"]
    )
    assert await count(runtime, ConversationMessage) == 0
    alerts = f"/v1/children/{world.child_id}/message-alerts"
    refused_for(await client.get(alerts, headers=world.guardian.headers), "messages", ["guardian"])

    assert (await set_consent(client, world, "messages", True)).status_code == 200
    mode = await client.get("/v1/device/messages/mode", headers=world.device_headers)
    assert mode.json()["mode"] == "transcripts"
    sent = await upload_messages(client, world, message(clock, 1, text=HARM))
    assert sent.json()["accepted"] == 1, sent.text
    shown = await client.get(alerts, headers=world.guardian.headers)
    [alert] = shown.json()["items"]

    # Withdrawn: what was collected is not shown either, excerpts and transcripts included.
    assert (await set_consent(client, world, "messages", False)).status_code == 200
    for url in (
        alerts,
        f"{alerts}/{alert['id']}",
        f"/v1/children/{world.child_id}/conversations",
        f"/v1/children/{world.child_id}/conversations/{alert['conversation']}/messages",
    ):
        refused_for(await client.get(url, headers=world.guardian.headers), "messages", ["guardian"])


async def test_from_14_the_child_consents_too_and_may_withdraw(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    # 13 today (2026-11-25, Almaty); 14 on 1 December.
    teen = await child_world(
        client, runtime, carrier, birthdate="2012-12-01", consents=["messages", "listening"]
    )
    young = await child_consent(client, teen, "messages", True)
    assert (young.status_code, young.json()["error"]) == (409, "ChildConsentNotNeeded")
    sent = await upload_messages(client, teen, message(clock, 1))
    assert sent.json()["accepted"] == 1, sent.text

    clock.advance(timedelta(days=6))  # 1 December, 14:00 in Almaty
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)  # a fresh access token
    refused_for(await upload_messages(client, teen, message(clock, 2)), "messages", ["child"])
    listen = await client.post(
        f"/v1/children/{teen.child_id}/commands",
        headers=teen.guardian.headers,
        json={"kind": "listen"},
    )
    refused_for(listen, "listening", ["child"])
    mine = await client.get("/v1/device/consents", headers=teen.device_headers)
    assert mine.json()["child_consent_from"] == "2026-12-01"
    messages = by_purpose(mine.json())["messages"]
    assert (messages["child_required"], messages["missing"]) == (True, ["child"])

    given = await child_consent(client, teen, "messages", True)
    assert given.status_code == 200, given.text
    assert given.json()["effective"] is True
    sent = await upload_messages(client, teen, message(clock, 2, text=HARM))
    assert sent.json()["accepted"] == 1, sent.text
    alerts = f"/v1/children/{teen.child_id}/message-alerts"
    assert (await client.get(alerts, headers=teen.guardian.headers)).status_code == 200

    # The child withdraws: shown to the guardian, nothing more collected or read.
    assert (await child_consent(client, teen, "messages", False)).status_code == 200
    seen = by_purpose(await consents(client, teen))["messages"]
    assert (seen["guardian"]["granted"], seen["child"]["granted"]) == (True, False)
    assert seen["child"]["by"] == teen.device_id
    refused_for(await upload_messages(client, teen, message(clock, 3)), "messages", ["child"])
    refused_for(await client.get(alerts, headers=teen.guardian.headers), "messages", ["child"])
    assert await count(runtime, ConversationMessage) == 2
    # Only the two purposes that ask the child can be answered from the device.
    other = await client.put(
        "/v1/device/consents",
        headers=teen.device_headers,
        json={"purpose": "location", "granted": False},
    )
    assert other.status_code == 422


async def test_listening_needs_consent_and_other_commands_do_not(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    path = f"/v1/children/{family.child_id}/commands"
    headers = family.guardian.headers
    assert (await set_consent(client, family, "listening", False)).status_code == 200
    refused_for(
        await client.post(path, headers=headers, json={"kind": "listen"}), "listening", ["guardian"]
    )
    assert (await client.post(path, headers=headers, json={"kind": "ring"})).status_code == 201
    assert (await set_consent(client, family, "listening", True)).status_code == 200
    allowed = await client.post(path, headers=headers, json={"kind": "listen"})
    assert allowed.status_code == 201, allowed.text
    # Withdrawn while the session runs: the recording is not taken.
    assert (await set_consent(client, family, "listening", False)).status_code == 200
    audio = await client.put(
        f"/v1/device/commands/{allowed.json()['id']}/audio",
        headers={**family.device_headers, "content-type": "audio/ogg"},
        content=b"OggS" + b"\0" * 100,
    )
    refused_for(audio, "listening", ["guardian"])
