"""Risky messages through the API: classified on upload, one alert per conversation and label
in a while, told to the guardians without quoting, read by the guardians as the child's age
band allows (excerpts; whole conversations for the youngest), every read audited for the
child, the mode shown on the child's device."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from telemetry.conversations.events import (
    MessageAlertRaised,
    RiskyMessage,
    RiskyMessageStored,
    SelfHarmMessage,
)
from telemetry.conversations.reading import birthday, mode_for
from telemetry.conversations.schemas import MessagesMode
from tests.parental.factories import (
    FamilyWorld,
    add_child,
    pair_device,
    register_line,
    sign_in,
)
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
    await upload(
        client,
        family,
        message(clock, 1, text=long_text),
        message(clock, 2, text=GROOMING, conversation_id="other-chat"),
    )
    listed = (await alerts(client, family))["items"]
    alert = next(a for a in listed if a["label"] == "self_harm")
    # The list carries each alert's excerpt, as opening one does.
    assert "покончить с собой" in alert["excerpt"]
    assert alert["excerpt"].startswith("…")
    assert len(alert["excerpt"]) < len(long_text)
    assert [a["excerpt_unavailable"] for a in listed] == [False, False]
    detail = await client.get(
        f"/v1/children/{family.child_id}/message-alerts/{alert['id']}",
        headers=family.guardian.headers,
    )
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["excerpt"] == alert["excerpt"]
    assert body["rule_id"].startswith("self_harm")
    # Reading the list is reading its excerpts: one row per read, naming them.
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    read = [e for e in events.json()["items"] if e["action"] == "messages.excerpt_viewed"]
    assert len(read) == 2
    from_list = next(e for e in read if "alert_ids" in e["details"])
    assert from_list["details"]["excerpts"] == 2
    assert sorted(from_list["details"]["alert_ids"]) == sorted(a["id"] for a in listed)
    assert await seen_by_child(client, family) == [
        "messages.excerpt_viewed",
        "messages.excerpt_viewed",
    ]
    # A list that shows no excerpt is only a look at the alerts.
    drugs = await client.get(
        f"/v1/children/{family.child_id}/message-alerts",
        headers=family.guardian.headers,
        params={"label": "drugs"},
    )
    assert drugs.json()["items"] == []
    assert "messages.alerts_viewed" in await seen_by_child(client, family)


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
        [alert] = shown["items"]
        assert "покончить с собой" in alert["excerpt"]  # the band that sees excerpts
        searched = await client.get(
            f"/v1/children/{family.child_id}/messages",
            headers=family.guardian.headers,
            params={"label": "self_harm"},
        )
        assert searched.json()["error"] == "TranscriptsNotForThisAge"
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
        f"/v1/children/{family.child_id}/conversations?label=self_harm",
        f"/v1/children/{family.child_id}/messages?label=self_harm",
    ):
        assert (await client.get(path, headers=theirs)).status_code == 404, path
    assert await seen_by_child(client, family) == ["messages.excerpt_viewed"]


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


# The family's child, born 2015-03-08, turns 18 at midnight in Almaty (UTC+5).
EIGHTEENTH = datetime(2033, 3, 7, 19, 0, tzinfo=UTC)


async def test_nothing_is_read_at_18_whatever_the_consents(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, message(clock, 1, text=HARM))
    [alert] = (await alerts(client, family))["items"]
    base = f"/v1/children/{family.child_id}"
    reads = (
        f"{base}/message-alerts",
        f"{base}/message-alerts/{alert['id']}",
        f"{base}/conversations",
        f"{base}/conversations/{alert['conversation']}/messages",
    )
    seen = await seen_by_child(client, family)
    # The eve: 17, and from 14 the child's own consent is needed (never given here).
    clock.set(EIGHTEENTH - timedelta(seconds=1))
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    for path in reads:
        refused = await client.get(path, headers=family.guardian.headers)
        assert (refused.status_code, refused.json()["error"]) == (403, "ConsentRequired"), path

    clock.set(EIGHTEENTH)  # 18: final, whatever else is missing
    for path in reads:
        ended = await client.get(path, headers=family.guardian.headers)
        assert (ended.status_code, ended.json()["error"]) == (410, "MonitoringEndedAdult"), path
    mode = await client.get("/v1/device/messages/mode", headers=family.device_headers)
    assert mode.json() == {"mode": "off", "transcripts_until": None, "alerts_until": "2033-03-08"}
    assert await seen_by_child(client, family) == seen  # nothing refused was noted as read


@pytest.mark.parametrize(
    ("born", "today", "expected"),
    [
        ("2013-06-15", "2026-06-14", MessagesMode.TRANSCRIPTS),  # 12 the day before
        ("2013-06-15", "2026-06-15", MessagesMode.ALERTS),  # 13
        ("2008-06-15", "2026-06-14", MessagesMode.ALERTS),  # 17
        ("2008-06-15", "2026-06-15", MessagesMode.OFF),  # 18
        # Born on 29 February: in a common year the birthday is the 28th.
        ("2012-02-29", "2025-02-27", MessagesMode.TRANSCRIPTS),
        ("2012-02-29", "2025-02-28", MessagesMode.ALERTS),
        ("2012-02-29", "2030-02-27", MessagesMode.ALERTS),
        ("2012-02-29", "2030-02-28", MessagesMode.OFF),
    ],
)
def test_the_mode_changes_on_the_birthday(born: str, today: str, expected: MessagesMode) -> None:
    birthdate, day = date.fromisoformat(born), date.fromisoformat(today)
    assert mode_for(birthdate, day, transcripts_under_age=13, active=True) is expected
    assert mode_for(birthdate, day, transcripts_under_age=13, active=False) is MessagesMode.OFF


def test_the_bands_end_is_the_first_day_of_the_next_mode() -> None:
    # The device is shown birthday(...) as the band's end: the mode must change that very day,
    # for whatever band the carrier sets (16: 29 February 2028 is a leap day).
    for born in ("2012-02-29", "2016-02-29", "2013-06-15", "2013-03-01"):
        birthdate = date.fromisoformat(born)
        for under in (10, 13, 16):
            for age, before, after in (
                (under, MessagesMode.TRANSCRIPTS, MessagesMode.ALERTS),
                (18, MessagesMode.ALERTS, MessagesMode.OFF),
            ):
                ends = birthday(birthdate, age)
                eve = ends - timedelta(days=1)
                assert mode_for(birthdate, eve, transcripts_under_age=under, active=True) is before
                assert mode_for(birthdate, ends, transcripts_under_age=under, active=True) is after
    assert birthday(date(2012, 2, 29), 13) == date(2025, 2, 28)
    assert birthday(date(2012, 2, 29), 16) == date(2028, 2, 29)


class TestAChildBornOn29February:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(messages_transcripts_under_age=11)

    async def test_the_device_is_shown_the_day_the_mode_changes(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        clock: FrozenClock,
        carrier: dict[str, str],
        family: FamilyWorld,
    ) -> None:
        line = "+77071234568"
        await register_line(client, carrier, line, family.guardian.phone)
        child = await add_child(client, family.guardian, line, birthdate="2016-02-29")
        device_id, token = await pair_device(client, family.guardian, child["id"])
        leapling = FamilyWorld(
            family.guardian, family.family_id, child["id"], line, device_id, token
        )
        # 27 February 2027, 23:59:59 in Almaty: still 10.
        clock.set(datetime(2027, 2, 27, 18, 59, 59, tzinfo=UTC))
        leapling.guardian = await sign_in(client, runtime, family.guardian.phone)
        mode = await client.get("/v1/device/messages/mode", headers=leapling.device_headers)
        assert mode.json()["mode"] == "transcripts"
        changes_on = mode.json()["transcripts_until"]
        assert changes_on == "2027-02-28"
        assert (await alerts(client, leapling))["mode"] == "transcripts"

        clock.set(datetime(2027, 2, 27, 19, 0, tzinfo=UTC))  # midnight: the 28th
        mode = await client.get("/v1/device/messages/mode", headers=leapling.device_headers)
        assert mode.json() == {
            "mode": "alerts",
            "transcripts_until": None,
            "alerts_until": "2034-02-28",
        }
        assert (await alerts(client, leapling))["mode"] == "alerts"
        refused = await client.get(
            f"/v1/children/{leapling.child_id}/conversations", headers=leapling.guardian.headers
        )
        assert refused.json()["error"] == "TranscriptsNotForThisAge"


async def test_every_risky_message_publishes_an_event_and_the_notices_stay_grouped(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    stored: list[RiskyMessageStored] = []
    raised: list[MessageAlertRaised] = []

    async def on_stored(event: RiskyMessageStored) -> None:
        stored.append(event)

    async def on_raised(event: MessageAlertRaised) -> None:
        raised.append(event)

    runtime.bus.subscribe(RiskyMessageStored, on_stored)
    runtime.bus.subscribe(MessageAlertRaised, on_raised)
    first, second = message(clock, 2, text=HARM), message(clock, 3, text=HARM + "!")
    grooming = message(clock, 4, text=GROOMING, conversation_id="other-chat")
    await upload(client, family, message(clock, 1, text=HARMLESS), first, second, grooming)

    listed = {a["label"]: a for a in (await alerts(client, family))["items"]}
    harm, secret = listed["self_harm"], listed["grooming"]
    # The guardians' events: one per alert, the self-harm one its own class.
    by_class = {type(e): e for e in raised}
    assert len(raised) == 2
    assert set(by_class) == {SelfHarmMessage, RiskyMessage}
    told = by_class[SelfHarmMessage]
    assert (str(told.alert_id), str(told.child_id), told.label) == (
        harm["id"],
        family.child_id,
        "self_harm",
    )
    assert (told.app, told.sent_at.isoformat()) == ("org.telegram.messenger", second["sent_at"])
    assert (str(by_class[RiskyMessage].alert_id), by_class[RiskyMessage].label) == (
        secret["id"],
        "grooming",
    )
    # Every risky message: the one counted into the open alert too, oldest first.
    assert [(e.label, e.sent_at.isoformat(), e.conversation) for e in stored] == [
        ("grooming", grooming["sent_at"], secret["conversation"]),
        ("self_harm", second["sent_at"], harm["conversation"]),
        ("self_harm", first["sent_at"], harm["conversation"]),
    ]
    for event in stored:
        assert (str(event.child_id), event.app, event.direction) == (
            family.child_id,
            "org.telegram.messenger",
            "incoming",
        )
        assert event.severity == "high"
        assert event.rule_id.startswith(event.label)
        assert "покончить" not in event.model_dump_json()

    # Later in the window: an event for the message, no new alert, nobody told again.
    clock.advance(timedelta(minutes=30))
    later = message(clock, 10, text=HARM, message_id="later")
    await upload(client, family, later)
    assert [e.sent_at.isoformat() for e in stored[3:]] == [later["sent_at"]]
    assert len(raised) == 2
    family.guardian = await sign_in(client, runtime, family.guardian.phone)
    assert sorted(await inbox_kinds(client, family)) == ["messages.risk", "messages.self_harm"]
