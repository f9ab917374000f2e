"""Risky messages through the API: classified on upload, one alert per conversation and label
in a while, told to the guardians without quoting, read by the guardians as the child's age
band allows (excerpts; whole conversations for the youngest), every read audited for the
child, the mode shown on the child's device."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_conversations_ingest import message, upload

HARM = "я больше не могу, хочу покончить с собой"
GROOMING = "ne govori roditelyam, davai vstretimsya"
HARMLESS = "эта контрольная меня убивает, ха-ха"


async def alerts(client: httpx.AsyncClient, family: FamilyWorld) -> dict[str, Any]:
    response = await client.get(
        f"/v1/children/{family.child_id}/message-alerts", headers=family.guardian.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def inbox_kinds(client: httpx.AsyncClient, family: FamilyWorld) -> list[str]:
    response = await client.get("/v1/notifications", headers=family.guardian.headers)
    return [n["kind"] for n in response.json()["items"]]


async def seen_by_child(client: httpx.AsyncClient, family: FamilyWorld) -> list[str]:
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    # One frozen instant: sorted, not in the order they were written.
    return sorted(
        e["action"] for e in events.json()["items"] if e["action"].startswith("messages.")
    )


async def test_a_risky_message_alerts_the_guardians_once_per_conversation_and_label(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    response = await upload(
        client,
        family,
        message(clock, 1, text=HARMLESS),
        message(clock, 2, text=HARM),
        message(clock, 3, text=HARM + "!"),  # the same conversation, minutes apart
        message(clock, 4, text=GROOMING, conversation_id="other-chat"),
    )
    assert response.json()["accepted"] == 4
    shown = await alerts(client, family)
    assert shown["mode"] == "transcripts"  # the child is 11
    assert sorted((a["label"], a["messages"]) for a in shown["items"]) == [
        ("grooming", 1),
        ("self_harm", 2),
    ]
    kinds = await inbox_kinds(client, family)
    assert sorted(kinds) == ["messages.risk", "messages.self_harm"]
    told = (await client.get("/v1/notifications", headers=family.guardian.headers)).json()
    for notice in told["items"]:
        assert "покончить" not in notice["body"]
        assert "roditelyam" not in notice["body"]
        assert "Telegram" in notice["body"]

    # Later in the window: counted in, nobody told again; after it: a new alert.
    clock.advance(timedelta(minutes=30))
    await upload(client, family, message(clock, 10, text=HARM, message_id="later"))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert sorted(await inbox_kinds(client, family)) == ["messages.risk", "messages.self_harm"]
    clock.advance(timedelta(hours=2))
    await upload(client, family, message(clock, 10, text=HARM, message_id="much-later"))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert sorted(await inbox_kinds(client, family)) == [
        "messages.risk",
        "messages.self_harm",
        "messages.self_harm",
    ]


async def test_the_excerpt_shows_the_trigger_and_the_child_sees_who_read_it(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    long_text = "Сегодня был странный день в школе и на тренировке. " * 3 + HARM
    await upload(client, family, message(clock, 1, text=long_text))
    [alert] = (await alerts(client, family))["items"]
    assert "excerpt" not in alert
    detail = await client.get(
        f"/v1/children/{family.child_id}/message-alerts/{alert['id']}",
        headers=family.guardian.headers,
    )
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert "покончить с собой" in body["excerpt"]
    assert body["excerpt"].startswith("…")
    assert len(body["excerpt"]) < len(long_text)
    assert body["rule_id"].startswith("self_harm")
    assert await seen_by_child(client, family) == [
        "messages.alerts_viewed",
        "messages.excerpt_viewed",
    ]


async def test_harmless_messages_raise_nothing(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, message(clock, 1, text=HARMLESS), message(clock, 2))
    assert (await alerts(client, family))["items"] == []
    assert await inbox_kinds(client, family) == []


async def test_a_young_childs_guardians_read_whole_conversations(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(
        client,
        family,
        message(clock, 1),
        message(clock, 2, direction="outgoing", sender_name=None, text="Ок, спасибо"),
        message(clock, 3, conversation_id="grandma", conversation_title="Әже", text="Сәлем!"),
    )
    listed = await client.get(
        f"/v1/children/{family.child_id}/conversations", headers=family.guardian.headers
    )
    assert listed.status_code == 200, listed.text
    chats = listed.json()["items"]
    assert [(c["title"], c["messages"]) for c in chats] == [("Класс 5Б", 2), ("Әже", 1)]
    path = f"/v1/children/{family.child_id}/conversations/{chats[0]['conversation']}/messages"
    first = await client.get(path, headers=family.guardian.headers, params={"limit": 1})
    assert [m["text"] for m in first.json()["items"]] == ["Завтра контрольная по математике 1"]
    rest = await client.get(
        path,
        headers=family.guardian.headers,
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
    )
    assert [m["text"] for m in rest.json()["items"]] == ["Ок, спасибо"]
    unknown = await client.get(
        f"/v1/children/{family.child_id}/conversations/{'0' * 64}/messages",
        headers=family.guardian.headers,
    )
    assert unknown.status_code == 404
    assert await seen_by_child(client, family) == [
        "messages.conversations_viewed",
        "messages.transcript_viewed",
        "messages.transcript_viewed",
    ]
    mode = await client.get("/v1/device/messages/mode", headers=family.device_headers)
    assert mode.json() == {
        "mode": "transcripts",
        "transcripts_until": "2028-03-08",  # born 2015-03-08: 13
        "alerts_until": "2033-03-08",
    }


class TestAnOlderChild:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        # The carrier's band: whole conversations only under 10; the child is 11.
        return ParentalSettings(messages_transcripts_under_age=10)

    async def test_gets_alerts_with_excerpts_only(
        self, client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
    ) -> None:
        await upload(client, family, message(clock, 1, text=HARM))
        shown = await alerts(client, family)
        assert shown["mode"] == "alerts"
        assert len(shown["items"]) == 1
        refused = await client.get(
            f"/v1/children/{family.child_id}/conversations", headers=family.guardian.headers
        )
        assert refused.status_code == 403
        assert refused.json()["error"] == "TranscriptsNotForThisAge"
        mode = await client.get("/v1/device/messages/mode", headers=family.device_headers)
        assert mode.json()["mode"] == "alerts"
        assert mode.json()["transcripts_until"] is None
        assert "messages.conversations_viewed" not in await seen_by_child(client, family)


async def test_another_family_reaches_nothing(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await upload(client, family, message(clock, 1, text=HARM))
    [alert] = (await alerts(client, family))["items"]
    theirs = other_family.guardian.headers
    for path in (
        f"/v1/children/{family.child_id}/message-alerts",
        f"/v1/children/{family.child_id}/message-alerts/{alert['id']}",
        f"/v1/children/{family.child_id}/conversations",
        f"/v1/children/{other_family.child_id}/message-alerts/{alert['id']}",
        f"/v1/children/{other_family.child_id}/conversations/{alert['conversation']}/messages",
    ):
        assert (await client.get(path, headers=theirs)).status_code == 404, path
    assert await seen_by_child(client, family) == ["messages.alerts_viewed"]


async def test_alerts_outlive_messages_and_go_after_their_own_retention(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, message(clock, 1, text=HARM))
    clock.advance(timedelta(days=31))
    report = await purge_expired(runtime)
    assert (report.conversation_messages, report.message_alerts) == (1, 0)
    clock.advance(timedelta(days=60))
    assert (await purge_expired(runtime)).message_alerts == 1


async def test_guardians_search_by_label_never_by_text(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(
        client,
        family,
        message(clock, 1, text=HARM),
        message(clock, 2, text="Привет"),
        message(clock, 3, text=GROOMING),
        message(clock, 4, text=GROOMING, conversation_id="other-chat"),
    )
    headers = family.guardian.headers
    alerts_path = f"/v1/children/{family.child_id}/message-alerts"
    grooming = await client.get(alerts_path, headers=headers, params={"label": "grooming"})
    assert [a["label"] for a in grooming.json()["items"]] == ["grooming", "grooming"]
    bad = await client.get(alerts_path, headers=headers, params={"label": "homework"})
    assert bad.status_code == 422
    conversation = next(
        a["conversation"]
        for a in (await alerts(client, family))["items"]
        if a["label"] == "self_harm"
    )
    path = f"/v1/children/{family.child_id}/conversations/{conversation}/messages"
    found = await client.get(path, headers=headers, params={"label": "self_harm"})
    assert [m["text"] for m in found.json()["items"]] == [HARM]
    paged = await client.get(path, headers=headers, params={"label": "grooming", "limit": 1})
    assert [m["text"] for m in paged.json()["items"]] == [GROOMING]
    assert paged.json()["next_cursor"] is None
    nothing = await client.get(path, headers=headers, params={"label": "drugs"})
    assert nothing.status_code == 200
    assert nothing.json()["items"] == []
