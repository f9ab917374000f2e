"""The carrier's age policy (``/carrier/v1/age-policy``): stored, validated, audited, and
followed at once by everything that decides by a child's age: what guardians read of the
messages, the device's mode, the listening command and the child's own consent. The child of
``family`` is 11 (born 2015-03-08; the tests' clock is 2026-11-25)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from parental.age_policy import repository, service
from parental.age_policy.cache import AgePolicyCache
from parental.age_policy.models import AgePolicyRow
from parental.age_policy.policy import AgePolicy
from parental.audit.models import AuditEvent
from parental.kit.clock import FrozenClock
from parental.kit.db import create_engine, create_session_factory
from parental.kit.settings import KitSettings
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import START
from tests.parental.factories import FamilyWorld, staff_headers
from tests.parental.test_consent import HARM, child_consent, child_world, refused_for
from tests.parental.test_conversations_ingest import message, upload

PATH = "/carrier/v1/age-policy"
DEFAULTS = {
    "transcripts_under_age": 13,
    "excerpts_under_age": 18,
    "listen_age_bands": ["under_9", "9_12", "13_15"],
    "child_consent_age": 14,
}


@pytest.fixture
def parental_settings() -> ParentalSettings:
    # A guardian may listen from the start (the 72-hour rule has its own tests).
    return ParentalSettings(command_listen_guardian_min_hours=0)


async def put_policy(
    client: httpx.AsyncClient, carrier: dict[str, str], **changes: Any
) -> dict[str, Any]:
    response = await client.put(PATH, headers=carrier, json={**DEFAULTS, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def mode(client: httpx.AsyncClient, world: FamilyWorld) -> dict[str, Any]:
    response = await client.get("/v1/device/messages/mode", headers=world.device_headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def changes_audited(runtime: Runtime) -> list[AuditEvent]:
    async with runtime.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == "age_policy.changed")
        return list((await session.scalars(query)).all())


async def teen(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], birthdate: str
) -> FamilyWorld:
    """A child old enough to consent, who has consented to messages on the device."""
    world = await child_world(
        client, runtime, carrier, birthdate=birthdate, consents=["messages", "listening"]
    )
    assert (await child_consent(client, world, "messages", True)).status_code == 200
    return world


async def test_the_settings_are_the_policy_until_the_carrier_sets_one(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> None:
    before = await client.get(PATH, headers=carrier)
    assert before.json() == {
        **DEFAULTS,
        "source": "defaults",
        "updated_at": None,
        "updated_by": None,
    }

    body = await put_policy(
        client, carrier, transcripts_under_age=15, listen_age_bands=["9_12", "under_9", "9_12"]
    )
    expected = {
        **DEFAULTS,
        "transcripts_under_age": 15,
        "listen_age_bands": ["under_9", "9_12"],  # once each, youngest first
        "source": "carrier",
        "updated_at": START.isoformat().replace("+00:00", "Z"),
        "updated_by": "bss",
    }
    assert body == expected
    assert (await client.get(PATH, headers=carrier)).json() == expected

    [change] = await changes_audited(runtime)
    assert (change.actor_type, change.actor_id, change.subject_type) == (
        "carrier",
        "bss",
        "age_policy",
    )
    assert change.occurred_at == START
    assert change.details == {
        "old": DEFAULTS,
        "new": {**DEFAULTS, "transcripts_under_age": 15, "listen_age_bands": ["under_9", "9_12"]},
        "old_source": "defaults",
    }
    # The same policy again changes nothing and records nothing.
    await put_policy(
        client, carrier, transcripts_under_age=15, listen_age_bands=["under_9", "9_12"]
    )
    assert len(await changes_audited(runtime)) == 1


async def test_transcripts_follow_the_carriers_band_at_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    world = await teen(client, runtime, carrier, "2012-03-08")  # 14
    assert (await upload(client, world, message(clock, 1))).json()["accepted"] == 1
    conversations = f"/v1/children/{world.child_id}/conversations"
    refused = await client.get(conversations, headers=world.guardian.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "TranscriptsNotForThisAge")
    assert (await mode(client, world))["mode"] == "alerts"  # read, so this process holds it

    await put_policy(client, carrier, transcripts_under_age=15)
    # The next request of the process that made the change answers by it.
    shown = await client.get(conversations, headers=world.guardian.headers)
    assert shown.status_code == 200, shown.text
    assert len(shown.json()["items"]) == 1
    assert await mode(client, world) == {
        "mode": "transcripts",
        "transcripts_until": "2027-03-08",
        "alerts_until": "2030-03-08",
    }

    await put_policy(client, carrier, transcripts_under_age=13)
    refused = await client.get(conversations, headers=world.guardian.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "TranscriptsNotForThisAge")
    assert (await mode(client, world))["mode"] == "alerts"


async def test_past_the_excerpts_band_guardians_see_nothing_and_nothing_is_collected(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    world = await teen(client, runtime, carrier, "2010-03-08")  # 16
    assert (await upload(client, world, message(clock, 1, text=HARM))).json()["accepted"] == 1
    alerts = f"/v1/children/{world.child_id}/message-alerts"
    [alert] = (await client.get(alerts, headers=world.guardian.headers)).json()["items"]

    await put_policy(client, carrier, excerpts_under_age=16)
    for path in (
        alerts,
        f"{alerts}/{alert['id']}",
        f"/v1/children/{world.child_id}/conversations",
        f"/v1/children/{world.child_id}/conversations/{alert['conversation']}/messages",
    ):
        refused = await client.get(path, headers=world.guardian.headers)
        assert (refused.status_code, refused.json()["error"]) == (403, "MessagesNotForThisAge")
    assert await mode(client, world) == {
        "mode": "off",
        "transcripts_until": None,
        "alerts_until": "2026-03-08",  # the 16th birthday
    }
    sent = await upload(client, world, message(clock, 2, text=HARM, message_id="later"))
    assert (sent.status_code, sent.json()["error"]) == (403, "MessagesNotForThisAge")
    feed = await client.get("/v1/device/transparency", headers=world.device_headers)
    assert feed.json()["monitored"]["messages"] == {"mode": "off", "reasons": ["not_for_this_age"]}
    assert feed.json()["monitoring"]["active"] is True  # location and the rest go on

    await put_policy(client, carrier, excerpts_under_age=17)
    shown = await client.get(f"{alerts}/{alert['id']}", headers=world.guardian.headers)
    assert shown.status_code == 200, shown.text
    assert await mode(client, world) == {
        "mode": "alerts",
        "transcripts_until": None,
        "alerts_until": "2027-03-08",
    }


INVALID = [
    pytest.param(
        {"transcripts_under_age": 15, "excerpts_under_age": 14},
        ["body", "excerpts_under_age"],
        "age_bands_order",
        id="transcripts-after-excerpts",
    ),
    pytest.param(
        {"excerpts_under_age": 19},
        ["body", "excerpts_under_age"],
        "less_than_equal",
        id="excerpts-past-18",
    ),
    pytest.param(
        {"transcripts_under_age": -1},
        ["body", "transcripts_under_age"],
        "greater_than_equal",
        id="negative",
    ),
    pytest.param(
        {"child_consent_age": 19}, ["body", "child_consent_age"], "less_than_equal", id="consent"
    ),
    pytest.param(
        {"child_consent_age": "14"}, ["body", "child_consent_age"], "int_type", id="a-string"
    ),
    pytest.param(
        {"transcripts_under_age": True}, ["body", "transcripts_under_age"], "int_type", id="bool"
    ),
    pytest.param(
        {"listen_age_bands": ["18_plus"]}, ["body", "listen_age_bands", 0], "enum", id="band"
    ),
    pytest.param({"listen": True}, ["body", "listen"], "extra_forbidden", id="unknown-field"),
]


@pytest.mark.parametrize(("changes", "loc", "kind"), INVALID)
async def test_incoherent_policies_are_refused_and_nothing_changes(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    changes: dict[str, Any],
    loc: list[str | int],
    kind: str,
) -> None:
    stored = await put_policy(client, carrier, transcripts_under_age=10, excerpts_under_age=17)
    response = await client.put(
        PATH,
        headers=carrier,
        json={**DEFAULTS, "transcripts_under_age": 10, "excerpts_under_age": 17, **changes},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "ValidationError"
    assert [(i["loc"], i["type"]) for i in body["issues"]] == [(loc, kind)]
    assert (await client.get(PATH, headers=carrier)).json() == stored
    assert len(await changes_audited(runtime)) == 1


async def test_a_field_left_out_is_refused_not_defaulted(
    client: httpx.AsyncClient, carrier: dict[str, str]
) -> None:
    body = {k: v for k, v in DEFAULTS.items() if k != "listen_age_bands"}
    response = await client.put(PATH, headers=carrier, json=body)
    assert response.status_code == 422
    assert response.json()["issues"][0]["loc"] == ["body", "listen_age_bands"]
    assert (await client.get(PATH, headers=carrier)).json()["source"] == "defaults"


async def test_only_the_carrier_reads_or_changes_it(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], family: FamilyWorld
) -> None:
    staff = await staff_headers(client, runtime)
    for headers in (family.guardian.headers, family.device_headers, staff):
        read = await client.get(PATH, headers=headers)
        assert (read.status_code, read.json()["error"]) == (401, "InvalidServiceKey")
        changed = await client.put(
            PATH, headers=headers, json={**DEFAULTS, "transcripts_under_age": 17}
        )
        assert (changed.status_code, changed.json()["error"]) == (401, "InvalidServiceKey")
    assert (await client.get(PATH, headers=carrier)).json()["source"] == "defaults"
    assert await changes_audited(runtime) == []


async def test_listening_follows_the_carriers_bands(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld
) -> None:
    commands = f"/v1/children/{family.child_id}/commands"
    headers = family.guardian.headers

    await put_policy(client, carrier, listen_age_bands=["under_9"])
    refused = await client.post(commands, headers=headers, json={"kind": "listen"})
    assert (refused.status_code, refused.json()["error"]) == (403, "ListenNotForThisAge")
    feed = await client.get("/v1/device/transparency", headers=family.device_headers)
    assert feed.json()["monitored"]["listening"] == {"on": False, "reasons": ["not_for_this_age"]}

    await put_policy(client, carrier, listen_age_bands=["9_12"])
    allowed = await client.post(commands, headers=headers, json={"kind": "listen"})
    assert allowed.status_code == 201, allowed.text


async def test_the_childs_own_consent_follows_the_carriers_age(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, carrier: dict[str, str]
) -> None:
    world = await child_world(
        client, runtime, carrier, birthdate="2013-03-08", consents=["messages", "listening"]
    )  # 13
    early = await child_consent(client, world, "messages", True)
    assert (early.status_code, early.json()["error"]) == (409, "ChildConsentNotNeeded")
    assert (await upload(client, world, message(clock, 1))).json()["accepted"] == 1

    await put_policy(client, carrier, child_consent_age=13)
    refused_for(await upload(client, world, message(clock, 2)), "messages", ["child"])
    listen = await client.post(
        f"/v1/children/{world.child_id}/commands",
        headers=world.guardian.headers,
        json={"kind": "listen"},
    )
    refused_for(listen, "listening", ["child"])
    mine = await client.get("/v1/device/consents", headers=world.device_headers)
    assert (mine.json()["child_consent_age"], mine.json()["child_consent_from"]) == (
        13,
        "2026-03-08",
    )
    assert (await child_consent(client, world, "messages", True)).status_code == 200
    assert (await upload(client, world, message(clock, 2))).json()["accepted"] == 1

    await put_policy(client, carrier, child_consent_age=14)
    late = await child_consent(client, world, "listening", True)
    assert (late.status_code, late.json()["error"]) == (409, "ChildConsentNotNeeded")


async def test_another_process_follows_within_a_second(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    kit_settings: KitSettings,
) -> None:
    # Another process: its own engine on the same database, and its own cache and clock.
    engine = create_engine(kit_settings.resolved_database_url)
    sessions = create_session_factory(engine)
    ticks = [100.0]
    cache = AgePolicyCache(clock=lambda: ticks[0])

    async def seen_there() -> int:
        async with sessions() as session:
            policy = await service.current(session, runtime.settings, cache=cache)
        return policy.transcripts_under_age

    try:
        assert await seen_there() == 13
        await put_policy(client, carrier, transcripts_under_age=15)
        ticks[0] += 0.5
        assert await seen_there() == 13  # what it read within the second
        ticks[0] += 0.5
        assert await seen_there() == 15
    finally:
        await engine.dispose()


async def test_a_read_under_way_does_not_undo_a_change(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AgePolicyCache(clock=lambda: 0.0)
    changed = AgePolicy(15, 18, (), 14, updated_at=START, updated_by="bss")

    async def read_while_changed(session: Any) -> AgePolicy | None:
        cache.put(session, changed)  # committed and put while this read was on its way
        return None

    monkeypatch.setattr(repository, "stored", read_while_changed)
    async with runtime.sessions() as session:
        assert await cache.stored(session) is None  # that read answers what it read
        assert await cache.stored(session) == changed  # and the change stays


async def test_the_stored_bands_cannot_contradict_each_other(runtime: Runtime) -> None:
    """The table's checks hold whoever writes (the API's validation is not the only guard)."""
    row = {
        "id": 1,
        "transcripts_under_age": 15,
        "excerpts_under_age": 14,
        "listen_age_bands": [],
        "child_consent_age": 14,
        "updated_at": START,
        "updated_by": "x",
    }
    async with runtime.sessions() as session:
        with pytest.raises(IntegrityError):
            await session.execute(insert(AgePolicyRow).values(row))
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AgePolicyRow)) == 0
