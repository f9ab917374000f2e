"""How the guardians are told of risky messages: one notice per conversation and upload naming
every label, at most ``message_alert_notices_per_hour`` an hour per child (the first self-harm
alert of an hour always), the rest gathered into one notice per period, rewritten until it is
sent at the period's end; every alert still stored and listed. Two uploads at once raise one
alert for a conversation and label, and count the cap one after the other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import DATABASE_URL, START
from tests.parental.factories import FamilyWorld
from tests.parental.test_conversation_alerts import GROOMING, HARM
from tests.parental.test_conversations_ingest import message, upload

EVERY_LABEL = (
    f"{HARM}. {GROOMING}. купить закладку мефедрон. ты тупой урод, тебя все ненавидят. "
    "я тебя убью, зарежу. скинь интимное фото голой"
)
BULLYING = "ты тупой урод, тебя все ненавидят"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    # The defaults (5 an hour, gathered per quarter of an hour); tokens that outlast the test.
    return ParentalSettings(access_token_ttl_seconds=24 * 3600)


async def listed_alerts(client: httpx.AsyncClient, family: FamilyWorld) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/children/{family.child_id}/message-alerts",
        headers=family.guardian.headers,
        params={"limit": 100},
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def inbox(client: httpx.AsyncClient, family: FamilyWorld) -> list[dict[str, Any]]:
    """The guardian's message notices, oldest first."""
    response = await client.get(
        "/v1/notifications", headers=family.guardian.headers, params={"limit": 100}
    )
    assert response.status_code == 200, response.text
    items = [n for n in response.json()["items"] if n["kind"].startswith("messages.")]
    return sorted(items, key=lambda n: (n["created_at"], n["data"].get("since", "")))


def gathered(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in notices if "since" in n["data"]]


def told_one_by_one(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in notices if "alert_id" in n["data"]]


async def chats(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld, text: str, *names: str
) -> None:
    """One risky message in each of the conversations ``names``, in one upload."""
    batch = [
        message(clock, 1, text=text, conversation_id=name, message_id=f"{name}-{clock.now()}")
        for name in names
    ]
    response = await upload(client, family, *batch)
    assert response.json()["accepted"] == len(names), response.text


async def test_a_message_with_every_label_is_six_alerts_and_one_notice(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, message(clock, 1, text=EVERY_LABEL))
    assert sorted(a["label"] for a in await listed_alerts(client, family)) == [
        "bullying",
        "drugs",
        "grooming",
        "self_harm",
        "sexual",
        "violence",
    ]
    [notice] = await inbox(client, family)
    assert notice["kind"] == "messages.self_harm"  # through quiet hours, never switched off
    labels = notice["data"]["labels"].split(",")
    assert labels[0] == "self_harm"
    assert sorted(labels[1:]) == ["bullying", "drugs", "grooming", "sexual", "violence"]
    assert notice["data"]["label"] == "self_harm"
    # In the guardian's language (Kazakh): self-harm first, the other labels after it (as
    # many as a phone shows), and no word of the message.
    assert "өзіне зиян келтіру не суицид" in notice["body"]
    assert "сондай-ақ: кездесуге көндіру" in notice["body"]
    assert "мефедрон" not in notice["body"]


async def test_self_harm_in_thirty_chats_is_five_notices_and_one_that_gathers_the_rest(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await chats(client, clock, family, HARM, *(f"chat-{n}" for n in range(30)))
    assert len(await listed_alerts(client, family)) == 30  # every alert is listed
    notices = await inbox(client, family)
    assert len(told_one_by_one(notices)) == 5
    [rest] = gathered(notices)
    assert rest["kind"] == "messages.self_harm"
    assert (rest["data"]["alerts"], rest["data"]["conversations"]) == ("25", "25")
    assert rest["data"]["labels"] == "self_harm"
    assert "25" in rest["body"]
    # Sent when its quarter of an hour ends (09:00-09:15 UTC), not at once.
    async with transaction(runtime.sessions) as session:
        row = await session.scalar(
            select(PushOutboxRow).where(PushOutboxRow.dedup_key.startswith("messages.gathered:"))
        )
    assert row is not None
    assert row.next_attempt_at == datetime(2026, 11, 25, 9, 15, tzinfo=UTC)


async def test_the_cap_counts_an_hour_and_a_gathered_notice_is_rewritten_until_sent(
    client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
) -> None:
    # 09:00: grooming in six chats: five told, one gathered.
    await chats(client, clock, family, GROOMING, *(f"g{n}" for n in range(6)))
    notices = await inbox(client, family)
    assert len(told_one_by_one(notices)) == 5
    [rest] = gathered(notices)
    assert (rest["kind"], rest["data"]["alerts"]) == ("messages.risk", "1")
    marked = await client.post(
        f"/v1/notifications/{rest['id']}/read", headers=family.guardian.headers
    )
    assert marked.status_code in (200, 204), marked.text

    # 09:05: bullying in two more chats: the same notice, rewritten, unread again.
    clock.advance(timedelta(minutes=5))
    await chats(client, clock, family, BULLYING, "b1", "b2")
    notices = await inbox(client, family)
    assert len(told_one_by_one(notices)) == 5
    [rest] = gathered(notices)
    assert (rest["data"]["alerts"], rest["data"]["labels"]) == ("3", "bullying,grooming")
    assert rest["read_at"] is None

    # 09:10: the hour's first self-harm is told at once, past the cap.
    clock.advance(timedelta(minutes=5))
    await chats(client, clock, family, HARM, "h1")
    notices = await inbox(client, family)
    assert [n["kind"] for n in told_one_by_one(notices)][-1] == "messages.self_harm"
    assert len(told_one_by_one(notices)) == 6

    # 09:12: the next one is gathered, and the gathered notice becomes a self-harm one.
    clock.advance(timedelta(minutes=2))
    await chats(client, clock, family, HARM, "h2")
    notices = await inbox(client, family)
    assert len(told_one_by_one(notices)) == 6
    [rest] = gathered(notices)
    assert rest["kind"] == "messages.self_harm"
    assert (rest["data"]["alerts"], rest["data"]["labels"]) == ("4", "self_harm,bullying,grooming")

    # 09:16: the next quarter of an hour has its own gathered notice.
    clock.advance(timedelta(minutes=4))
    await chats(client, clock, family, BULLYING, "b3")
    rests = gathered(await inbox(client, family))
    assert [(n["kind"], n["data"]["alerts"]) for n in rests] == [
        ("messages.self_harm", "4"),
        ("messages.risk", "1"),
    ]

    # 10:17: nothing raised in the hour before: told at once again.
    clock.advance(timedelta(hours=1, minutes=1))
    await chats(client, clock, family, BULLYING, "b4")
    notices = await inbox(client, family)
    assert len(told_one_by_one(notices)) == 7
    assert len(gathered(notices)) == 2
    assert len(await listed_alerts(client, family)) == 12


class TestACarrierSetCap:
    @pytest.fixture
    def parental_settings(self) -> ParentalSettings:
        return ParentalSettings(
            message_alert_notices_per_hour=1,
            message_alert_gather_minutes=60,
            access_token_ttl_seconds=24 * 3600,
        )

    async def test_the_cap_and_the_period_are_settings(
        self, client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
    ) -> None:
        await chats(client, clock, family, GROOMING, "a", "b", "c")
        notices = await inbox(client, family)
        assert len(told_one_by_one(notices)) == 1
        [rest] = gathered(notices)
        assert rest["data"]["since"] == "2026-11-25T09:00:00+00:00"
        assert rest["data"]["until"] == "2026-11-25T10:00:00+00:00"
        assert rest["data"]["alerts"] == "2"


class TickingClock(FrozenClock):
    """A frozen clock that moves a microsecond each time it is read, as a real one would
    between two uploads that take the child's lock in turn."""

    def now(self) -> datetime:
        self.advance(timedelta(microseconds=1))
        return super().now()


@pytest.mark.skipif(not DATABASE_URL, reason="SQLite serialises writing transactions itself")
class TestTwoUploadsAtOnce:
    @pytest.fixture
    def clock(self) -> FrozenClock:
        return TickingClock(START)

    async def test_raise_one_alert_and_count_the_cap_in_turn(
        self, client: httpx.AsyncClient, clock: FrozenClock, family: FamilyWorld
    ) -> None:
        same_chat = [message(clock, n, text=HARM, message_id=f"same-{n}") for n in range(2)]
        answers = await asyncio.gather(*(upload(client, family, m) for m in same_chat))
        assert [a.json()["accepted"] for a in answers] == [1, 1]
        [alert] = await listed_alerts(client, family)
        assert alert["messages"] == 2
        assert len(await inbox(client, family)) == 1

        # Six more chats at once, an upload each: the cap (5 an hour) is counted in turn.
        await asyncio.gather(*(chats(client, clock, family, GROOMING, f"c{n}") for n in range(6)))
        notices = await inbox(client, family)
        assert len(told_one_by_one(notices)) == 5
        [rest] = gathered(notices)
        assert rest["data"]["alerts"] == "2"
