"""A guardian's download of everything held about a child, and the removal of all of it.

The export: every table holding rows by child id is in it, with no secret, ciphertext or
caller address; the words of messages only in the age band whose guardians read whole
conversations; audited for the child's device; limited per account; refused like every
monitored read (410 from 18, 403 off a child SIM). The removal: nothing about the child is
left in the database or the cache, and the staff's audit log keeps a record without
personal data."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.child_data.export import child_tables
from parental.commands.models import CommandAudio, DeviceCommand
from parental.kit.cache import MemoryCache, RedisCache
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.parental.children.test_removal import seed_telemetry
from tests.parental.factories import FamilyWorld, register_line, sign_in
from tests.parental.test_locations import fix, latest, minor_turning_18_tomorrow, upload

HIDDEN = {"token_hash", "code_hash", "key_hash", "sealed", "sealed_excerpt", "key_id", "ip"}
RISKY = "хочу покончить с собой"


def export_url(world: FamilyWorld) -> str:
    return f"/v1/children/{world.child_id}/export"


async def exported(client: httpx.AsyncClient, world: FamilyWorld) -> dict[str, Any]:
    response = await client.get(export_url(world), headers=world.guardian.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith("attachment;")
    body: dict[str, Any] = response.json()
    return body


def keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_in(inner)


async def test_everything_held_about_the_child_is_in_the_export(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    await seed_telemetry(client, runtime, family, uuid.UUID(family.child_id))

    document = await exported(client, family)

    assert document["format"] == "child-export/1"
    assert (document["child"]["name"], document["child"]["birthdate"]) == ("Aigerim", "2015-03-08")
    assert document["child"]["monitoring"]["active"] is True
    assert document["line"]["msisdn"] == family.line
    assert {t.name for t in child_tables()} <= set(document)  # every table with a child id
    assert [d["id"] for d in document["devices"]] == [family.device_id]
    assert len(document["location_fixes"]) == 2
    assert [p["name"] for p in document["geofence_places"]] == ["School"]
    assert document["geofence_events"]
    assert {a["kind"] for a in document["alarms"]} >= {"sos"}
    assert document["usage_sessions"]
    assert document["screen_time_policies"]
    assert [r["kind"] for r in document["screen_time_requests"]] == ["extra_time"]
    assert [t["title"] for t in document["screen_time_tasks"]] == ["Tidy your room"]
    assert [c["kind"] for c in document["device_commands"]] == ["ring"]
    # An 11-year-old's guardians read whole conversations, so the words are there.
    assert document["messages_shown"] == "words"
    [message] = document["conversation_messages"]
    assert (message["text"], message["labels"]) == (RISKY, ["self_harm"])
    [alert] = document["message_alerts"]
    assert RISKY in alert["excerpt"]
    assert "alarm.sos" in {n["kind"] for n in document["notifications"]}
    assert all(n["payload"]["data"].get("child_id") in (family.child_id, None)
               for n in document["notifications"])  # fmt: skip
    assert "child.added" in {e["action"] for e in document["audit_events"]}
    assert not HIDDEN & set(keys_in(document))

    # The child's device shows the download.
    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert "child.data_exported" in [e["action"] for e in seen.json()["items"]]


class TestAnOlderAgeBand:
    """Guardians of children from 10 read alerts only: the family's 11-year-old is one."""

    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(messages_transcripts_under_age=10)

    async def test_the_messages_are_exported_without_their_words(
        self, client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
    ) -> None:
        sent = {
            "app": "org.telegram.messenger",
            "conversation_id": "chat",
            "message_id": "1",
            "direction": "incoming",
            "sender_name": "Stranger",
            "text": RISKY,
            "sent_at": clock.now().isoformat(),
        }
        stored = await client.post(
            "/v1/device/messages", headers=family.device_headers, json={"messages": [sent]}
        )
        assert stored.json()["accepted"] == 1, stored.text

        document = await exported(client, family)

        assert document["messages_shown"] == "metadata"
        [message] = document["conversation_messages"]
        assert message["labels"] == ["self_harm"]
        assert not {"text", "sender_name", "conversation_title"} & set(message)
        [alert] = document["message_alerts"]
        assert "excerpt" not in alert
        assert RISKY not in json.dumps(document, ensure_ascii=False)
        assert "Stranger" not in json.dumps(document, ensure_ascii=False)


async def test_exports_are_limited_per_account(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    for _ in range(5):
        await exported(client, family)
    refused = await client.get(export_url(family), headers=family.guardian.headers)
    assert (refused.status_code, refused.json()["error"]) == (429, "TooManyRequests")
    assert int(refused.headers["retry-after"]) > 0


async def test_no_export_at_18_or_off_a_child_sim(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    await register_line(client, carrier, family.line, family.guardian.phone, is_child_sim=False)
    off = await client.get(export_url(family), headers=family.guardian.headers)
    assert (off.status_code, off.json()["error"]) == (403, "MonitoringInactive")
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    clock.advance(timedelta(days=1))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)
    adult = await client.get(export_url(teen), headers=teen.guardian.headers)
    assert (adult.status_code, adult.json()["error"]) == (410, "MonitoringEndedAdult")


async def cache_keys(runtime: Runtime) -> dict[str, bytes | None]:
    """Every key the shared cache holds, with its value (the in-process one's, or Redis's)."""
    cache = runtime.cache
    if isinstance(cache, MemoryCache):
        return {key: await cache.get(key) for key in list(cache._data)}
    assert isinstance(cache, RedisCache)
    redis = cache._redis
    # Keys of this cache without its prefix; the rate limiter's and others' as they are.
    return {
        key.decode().removeprefix(cache._prefix): await redis.get(key)
        for key in [k async for k in redis.scan_iter(match="*")]
        if await redis.type(key) == b"string"
    }


async def test_removing_a_child_leaves_nothing_about_them_in_the_database_or_cache(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    staff: dict[str, str],
) -> None:
    child_id = uuid.UUID(family.child_id)
    await seed_telemetry(client, runtime, family, child_id)
    await upload(client, family, fix(clock.now()))
    assert (await latest(client, family)).status_code == 200  # cached position, read grant
    async with transaction(runtime.sessions) as session:
        command = await session.scalar(select(DeviceCommand.id))
        assert command is not None
        session.add(
            CommandAudio(
                command_id=command,
                content_type="audio/ogg",
                size=4,
                sha256="0" * 64,
                data=b"OggS",
                uploaded_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=24),
            )
        )
    held = await cache_keys(runtime)
    assert any(family.child_id in key for key in held)  # the test can see what it looks for

    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text

    left = {k: v for k, v in (await cache_keys(runtime)).items() if family.child_id in k}
    # Only the new access version that voids every process's read grants, holding no data.
    assert set(left) == {f"access:child:{family.child_id}"}
    assert re.fullmatch(rb"[0-9a-f]{16}", left[f"access:child:{family.child_id}"] or b"")
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CommandAudio)) == 0
        for table in child_tables():
            if table.name == "audit_events":
                continue  # the family's record: see below
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.child_id == child_id)
            )
            assert count == 0, table.name
    # The staff's audit log keeps the removal, by ids and counts: no name, number or birthday.
    log = await client.get("/admin/v1/audit-events", headers=staff)
    [record] = [e for e in log.json()["items"] if e["action"] == "child.removed"]
    assert record["child_id"] == family.child_id
    assert record["details"]["erased"]["location_fixes"] == 3
    said = json.dumps(record, ensure_ascii=False)
    assert not {"Aigerim", family.line, "2015-03-08"} & set(re.findall(r"[\w+-]+", said))
