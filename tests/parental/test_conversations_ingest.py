"""The device agent's messages through the API: per-item answers, once each, nothing in clear
in the database, readable with the keys (old ones too, until rekeyed), refused once monitoring
stops, purged after the retention."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from parental.app import create_app
from parental.conversations import Rekeyed, message_cipher, rekey_all
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.http import LARGER_BODY
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.conversations.models import ConversationMessage
from telemetry.conversations.schemas import MAX_BATCH, MAX_BATCH_BYTES, MAX_TEXT
from telemetry.conversations.service import open_message
from tests.parental.factories import FamilyWorld, register_line

KEY_1 = base64.b64encode(b"1" * 32).decode()
KEY_2 = base64.b64encode(b"2" * 32).decode()
RISKY = "я больше не могу, хочу покончить с собой"


def message(clock: FrozenClock, n: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "app": "org.telegram.messenger",
        "conversation_id": "chat-+77015550101",
        "conversation_title": "Класс 5Б",
        "message_id": f"m{n}",
        "direction": "incoming",
        "sender_name": "Арман",
        "text": f"Завтра контрольная по математике {n}",
        "sent_at": (clock.now() - timedelta(minutes=n)).isoformat(),
        **changes,
    }


async def upload(
    client: httpx.AsyncClient, family: FamilyWorld, *messages: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        "/v1/device/messages", headers=family.device_headers, json={"messages": list(messages)}
    )


async def stored_rows(runtime: Runtime) -> list[ConversationMessage]:
    async with transaction(runtime.sessions) as session:
        return list((await session.scalars(select(ConversationMessage))).all())


async def test_each_message_is_answered_and_stored_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    batch = [
        message(clock, 1),
        message(clock, 2),
        message(clock, 1),  # again in the same batch
        message(clock, 3, text="x" * 4001),
        message(clock, 4, text="  ", attachment=None),
        message(clock, 5, sent_at=(clock.now() + timedelta(hours=1)).isoformat()),
        message(clock, 6, sent_at=(clock.now() - timedelta(days=31)).isoformat()),
        message(clock, 7, text=None, attachment="voice"),
    ]
    response = await upload(client, family, *batch)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["status"], i["reason"]) for i in body["items"]] == [
        ("accepted", None),
        ("accepted", None),
        ("duplicate", None),
        ("rejected", "text_too_long"),
        ("rejected", "empty"),
        ("rejected", "in_future"),
        ("rejected", "too_old"),
        ("accepted", None),
    ]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (3, 1, 4)

    again = await upload(client, family, message(clock, 1), message(clock, 8))
    assert [i["status"] for i in again.json()["items"]] == ["duplicate", "accepted"]
    assert len(await stored_rows(runtime)) == 4


async def test_nothing_that_says_who_or_what_is_stored_in_clear(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    # Ids long enough that random ciphertext cannot contain them by chance (a two-letter id
    # turned up in a nonce about once in a thousand runs).
    sent = message(clock, message_id="msg-2f9c41d7-clear")
    assert (await upload(client, family, sent)).status_code == 200
    async with transaction(runtime.sessions) as session:
        raw = (await session.execute(text("SELECT * FROM conversation_messages"))).one()
    columns = repr(tuple(v for v in raw if not isinstance(v, bytes)))
    sealed = b"".join(v for v in raw if isinstance(v, bytes))
    for secret in ("контрольная", "Арман", "Класс 5Б", "+77015550101", "chat-+7701", "2f9c41d7"):
        assert secret not in columns
        assert secret.encode() not in sealed

    [row] = await stored_rows(runtime)
    opened = open_message(message_cipher(runtime), row)
    assert (opened.text, opened.sender_name, opened.conversation_title) == (
        "Завтра контрольная по математике 1",
        "Арман",
        "Класс 5Б",
    )


async def test_bad_batches_are_refused_whole(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    too_many = [message(clock, n) for n in range(501)]
    for body in (
        {"messages": []},
        {"messages": too_many},
        {"messages": [message(clock, direction="sideways")]},
        {"messages": [message(clock, sent_at="2026-11-25T09:00:00")]},  # no zone
        {"messages": [message(clock, attachment="file", content="...")]},
    ):
        response = await client.post(
            "/v1/device/messages", headers=family.device_headers, json=body
        )
        assert response.status_code == 422, response.text
    guardian = await client.post(
        "/v1/device/messages", headers=family.guardian.headers, json={"messages": []}
    )
    assert guardian.status_code == 401
    assert await stored_rows(runtime) == []


def longest(clock: FrozenClock, n: int) -> dict[str, Any]:
    """A legal message at its longest, every character four bytes of UTF-8."""
    wide = "🙂"
    return {
        "app": "a" * 255,
        "conversation_id": wide * 255,
        "conversation_title": wide * 200,
        "message_id": f"{n:03}" + wide * 252,
        "direction": "outgoing",
        "sender_name": wide * 200,
        "text": wide * MAX_TEXT,
        "sent_at": (clock.now() - timedelta(minutes=1)).isoformat(),
        "attachment": "location",
    }


async def test_a_full_batch_at_its_longest_fits_the_routes_body_limit(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    batch = [longest(clock, n) for n in range(MAX_BATCH)]
    body = json.dumps({"messages": batch}, ensure_ascii=False).encode()
    assert 9 * runtime.settings.max_body_bytes < len(body) <= MAX_BATCH_BYTES
    headers = {**family.device_headers, "content-type": "application/json"}
    response = await client.post("/v1/device/messages", headers=headers, content=body)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["accepted"] == MAX_BATCH
    [stored] = {open_message(message_cipher(runtime), r).text for r in await stored_rows(runtime)}
    assert stored == "🙂" * MAX_TEXT

    padded = body[:-1] + b" " * (MAX_BATCH_BYTES - len(body) + 1) + b"}"
    refused = await client.post("/v1/device/messages", headers=headers, content=padded)
    assert refused.status_code == 413
    assert refused.json() == {
        "error": "PayloadTooLarge",
        "detail": f"The request body is larger than {MAX_BATCH_BYTES} bytes.",
    }
    other = await client.put(
        "/v1/device/push-token",
        headers=headers,
        content=b" " * (1 + runtime.settings.max_body_bytes),
    )
    assert other.status_code == 413  # the app's limit stays for every other route
    assert len(await stored_rows(runtime)) == MAX_BATCH


def test_the_upload_states_its_body_limit() -> None:
    operation = create_app().openapi()["paths"]["/v1/device/messages"]["post"]
    assert operation[LARGER_BODY] == MAX_BATCH_BYTES
    assert f"{MAX_BATCH_BYTES:,} bytes" in operation["description"]
    assert "413" in operation["responses"]


async def test_nothing_is_collected_once_monitoring_stops(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
    family: FamilyWorld,
) -> None:
    await register_line(client, carrier, family.line, family.guardian.phone, active=False)
    response = await upload(client, family, message(clock))
    assert response.status_code == 403
    assert response.json()["error"] == "MonitoringInactive"
    assert await stored_rows(runtime) == []


async def test_messages_are_purged_after_the_retention(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, message(clock, 1), message(clock, 100))
    clock.advance(timedelta(days=30, minutes=-50))
    report = await purge_expired(runtime)
    assert report.conversation_messages == 1  # the one sent 100 minutes ago
    clock.advance(timedelta(minutes=60))
    assert (await purge_expired(runtime)).conversation_messages == 1
    assert await stored_rows(runtime) == []


class TestKeyRotation:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(message_keys={"k1": KEY_1}, message_key_id="k1")

    async def test_old_rows_stay_readable_and_rekey_moves_them(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        clock: FrozenClock,
        family: FamilyWorld,
    ) -> None:
        await upload(client, family, message(clock, 1), message(clock, 2))
        assert {r.key_id for r in await stored_rows(runtime)} == {"k1"}

        runtime.settings = ParentalSettings(
            message_keys={"k1": KEY_1, "k2": KEY_2}, message_key_id="k2"
        )
        await upload(client, family, message(clock, 3), message(clock, 1))
        rows = await stored_rows(runtime)
        assert sorted(r.key_id for r in rows) == ["k1", "k1", "k2"]
        cipher = message_cipher(runtime)
        assert {open_message(cipher, r).text for r in rows} == {
            f"Завтра контрольная по математике {n}" for n in (1, 2, 3)
        }

        assert await rekey_all(runtime, batch=1) == Rekeyed(messages=2, alerts=0)
        runtime.settings = ParentalSettings(message_keys={"k2": KEY_2}, message_key_id="k2")
        rows = await stored_rows(runtime)
        assert {r.key_id for r in rows} == {"k2"}
        cipher = message_cipher(runtime)
        assert len({open_message(cipher, r).text for r in rows}) == 3

    async def test_rekey_moves_the_alerts_excerpts_and_the_old_key_can_go(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        clock: FrozenClock,
        family: FamilyWorld,
    ) -> None:
        # README's steps: add a key and make it current, rekey, remove the old key.
        await upload(client, family, message(clock, 1, text=RISKY))
        runtime.settings = ParentalSettings(
            message_keys={"k1": KEY_1, "k2": KEY_2}, message_key_id="k2"
        )
        await upload(client, family, message(clock, 2, text=RISKY, conversation_id="other-chat"))
        assert await rekey_all(runtime, batch=1) == Rekeyed(messages=1, alerts=1)
        assert await rekey_all(runtime) == Rekeyed(messages=0, alerts=0)
        runtime.settings = ParentalSettings(message_keys={"k2": KEY_2}, message_key_id="k2")

        alerts = f"/v1/children/{family.child_id}/message-alerts"
        listed = await client.get(alerts, headers=family.guardian.headers)
        assert len(listed.json()["items"]) == 2
        for alert in listed.json()["items"]:
            detail = await client.get(f"{alerts}/{alert['id']}", headers=family.guardian.headers)
            assert detail.status_code == 200, detail.text
            assert "покончить с собой" in detail.json()["excerpt"]
            assert detail.json()["excerpt_unavailable"] is False

    async def test_an_excerpt_under_a_removed_key_is_flagged_not_a_server_error(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        clock: FrozenClock,
        family: FamilyWorld,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        await upload(client, family, message(clock, 1, text=RISKY))
        # The old key removed without a rekey: the alert stands, its words are lost.
        runtime.settings = ParentalSettings(message_keys={"k2": KEY_2}, message_key_id="k2")
        alerts = f"/v1/children/{family.child_id}/message-alerts"
        [alert] = (await client.get(alerts, headers=family.guardian.headers)).json()["items"]
        with caplog.at_level(logging.ERROR, logger="telemetry.conversations.alerts"):
            detail = await client.get(f"{alerts}/{alert['id']}", headers=family.guardian.headers)
        assert detail.status_code == 200, detail.text
        body = detail.json()
        assert (body["excerpt"], body["excerpt_unavailable"]) == (None, True)
        assert (body["label"], body["id"]) == ("self_harm", alert["id"])
        assert "unknown key 'k1'" in caplog.text
