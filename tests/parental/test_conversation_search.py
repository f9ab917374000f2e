"""Guardians of the youngest find messages by the classifier's labels, never by their words:
the conversations with a message of a label, and the messages of a label across every
conversation, page by page, each read in the log the child's device shows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.settings import ParentalSettings
from tests.parental.factories import FamilyWorld
from tests.parental.test_conversation_alerts import GROOMING, HARM, seen_by_child
from tests.parental.test_conversations_ingest import message, upload


async def get(
    client: httpx.AsyncClient, family: FamilyWorld, path: str, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/v1/children/{family.child_id}/{path}", headers=family.guardian.headers, params=params
    )


@pytest.fixture
async def chats(client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld) -> None:
    """Grooming in two conversations (one of them twice), self-harm in a third, and a
    conversation with nothing risky."""
    sent = await upload(
        client,
        family,
        message(clock, 1, text=GROOMING, conversation_id="park", conversation_title="Парк"),
        message(clock, 2, text="Привет", conversation_id="park", conversation_title="Парк"),
        message(clock, 3, text=GROOMING + "!", conversation_id="park", conversation_title="Парк"),
        message(clock, 4, text=GROOMING, conversation_id="game", conversation_title="Игра"),
        message(clock, 5, text=HARM, conversation_id="diary", conversation_title="Дневник"),
        message(clock, 6, text="Сәлем!", conversation_id="grandma", conversation_title="Әже"),
    )
    assert sent.json()["accepted"] == 6, sent.text


@pytest.mark.usefixtures("chats")
async def test_the_conversations_with_a_label(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    everything = await get(client, family, "conversations")
    assert [c["title"] for c in everything.json()["items"]] == ["Парк", "Игра", "Дневник", "Әже"]
    grooming = await get(client, family, "conversations", label="grooming")
    assert grooming.status_code == 200, grooming.text
    assert [(c["title"], c["messages"]) for c in grooming.json()["items"]] == [
        ("Парк", 3),  # every message of the conversation is counted, not only the labelled
        ("Игра", 1),
    ]
    harm = await get(client, family, "conversations", label="self_harm")
    assert [c["title"] for c in harm.json()["items"]] == ["Дневник"]
    assert (await get(client, family, "conversations", label="drugs")).json()["items"] == []
    bad = await get(client, family, "conversations", label="homework")
    assert bad.status_code == 422
    assert await seen_by_child(client, family) == ["messages.conversations_viewed"] * 4


@pytest.mark.usefixtures("chats")
async def test_the_messages_of_a_label_across_conversations_page_by_page(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    first = await get(client, family, "messages", label="grooming", limit=2)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["label"] == "grooming"
    assert [(m["conversation_title"], m["text"]) for m in body["items"]] == [
        ("Парк", GROOMING),  # newest first: sent a minute ago
        ("Парк", GROOMING + "!"),
    ]
    assert all(m["labels"] == ["grooming"] for m in body["items"])
    rest = await get(client, family, "messages", label="grooming", cursor=body["next_cursor"])
    assert [(m["conversation_title"], m["text"]) for m in rest.json()["items"]] == [
        ("Игра", GROOMING)
    ]
    assert rest.json()["next_cursor"] is None
    # Each message names its conversation, whose transcript opens with it.
    park = body["items"][0]["conversation"]
    transcript = await get(client, family, f"conversations/{park}/messages")
    assert len(transcript.json()["items"]) == 3
    harm = await get(client, family, "messages", label="self_harm")
    assert [m["text"] for m in harm.json()["items"]] == [HARM]
    assert (await get(client, family, "messages", label="violence")).json()["items"] == []

    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    searched = [e for e in seen.json()["items"] if e["action"] == "messages.label_searched"]
    assert len(searched) == 4
    details = [e["details"] for e in searched]
    assert {"label": "grooming", "conversations": [park], "apps": ["org.telegram.messenger"]} in (
        details
    )


@pytest.mark.usefixtures("chats")
async def test_a_label_must_be_one_of_the_classifiers(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    for params in ({"label": "homework"}, {"label": "Self_Harm"}, {}):
        refused = await get(client, family, "messages", **params)
        assert refused.status_code == 422, params
    bad_cursor = await get(client, family, "messages", label="grooming", cursor="x")
    assert bad_cursor.status_code == 400
    assert await seen_by_child(client, family) == []  # nothing was read


@pytest.mark.usefixtures("chats")
async def test_another_familys_guardian_finds_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    theirs = other_family.guardian.headers
    for path in ("conversations?label=grooming", "messages?label=grooming"):
        response = await client.get(f"/v1/children/{family.child_id}/{path}", headers=theirs)
        assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound"), path
    own = await client.get(
        f"/v1/children/{other_family.child_id}/messages?label=grooming", headers=theirs
    )
    assert own.json()["items"] == []  # their own child's messages: none of the family's
    assert await seen_by_child(client, family) == []


class TestAnOlderChild:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(messages_transcripts_under_age=10)  # the child is 11

    @pytest.mark.usefixtures("chats")
    async def test_finds_no_messages_only_alerts(
        self, client: httpx.AsyncClient, family: FamilyWorld
    ) -> None:
        for path in ("messages", "conversations"):
            refused = await get(client, family, path, label="grooming")
            assert refused.status_code == 403, path
            assert refused.json()["error"] == "TranscriptsNotForThisAge"
        alerts = await get(client, family, "message-alerts", label="grooming")
        assert len(alerts.json()["items"]) == 2
        assert "messages.label_searched" not in await seen_by_child(client, family)
