"""The inbox stream through the API: a new notification reaches its guardian's open streams as
the very item of ``GET /v1/notifications``, and nobody else's; a reconnect with Last-Event-ID
first gets what it missed."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.notifications import live
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.parental.factories import FamilyWorld, Guardian
from tests.parental.notifications.conftest import enqueue
from tests.parental.notifications.test_notify import sos
from tests.parental.test_locations_live import next_line, served

STREAM = "/v1/notifications/stream"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(notification_stream_heartbeat_seconds=0.2)


def events(lines: list[str]) -> list[dict[str, str]]:
    """The SSE events among ``lines`` (comments and a lone ``retry`` left out), as fields."""
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in current:
                found.append(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = value
    if "data" in current:
        found.append(current)
    return found


async def inbox_items(
    client: httpx.AsyncClient, who: Guardian, *, limit: int = 50, offset: int = 0
) -> list[dict[str, object]]:
    """The guardian's inbox items, newest first, from the ``offset``-th (paged through)."""
    items: list[dict[str, object]] = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        response = await client.get("/v1/notifications", headers=who.headers, params=params)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if len(items) >= offset + limit or cursor is None:
            return items[offset : offset + limit]
        params["cursor"] = cursor


async def test_an_sos_reaches_its_guardians_stream_and_nobody_elses(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    async with (
        served(runtime) as http,
        http.stream("GET", STREAM, headers=family.guardian.headers) as mine,
        http.stream("GET", STREAM, headers=other_family.guardian.headers) as theirs,
    ):
        assert mine.status_code == 200
        assert mine.headers["content-type"].startswith("text/event-stream")
        my_lines, their_lines = mine.aiter_lines(), theirs.aiter_lines()
        await next_line(my_lines, ": open")
        await next_line(their_lines, ": open")
        assert (await sos(client, family, clock.now())).status_code == 201
        seen = await next_line(my_lines, "id:")
        # The other stream beats twice after the SOS was told: it had its chance to see it.
        unseen = await next_line(their_lines, ": ping") + await next_line(their_lines, ": ping")

    [event] = events(seen)
    [item] = await inbox_items(client, family.guardian)
    assert event["event"] == "notification"
    assert event["id"] == item["id"]
    assert json.loads(event["data"]) == item
    assert item["kind"] == "alarm.sos"
    assert events(unseen) == []


async def test_a_notice_naming_another_guardians_row_sends_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    assert (await sos(client, family, clock.now())).status_code == 201
    [item] = await inbox_items(client, family.guardian)
    theirs = live.inbox_channel(uuid.UUID(other_family.guardian.account_id))
    async with (
        served(runtime) as http,
        http.stream("GET", STREAM, headers=other_family.guardian.headers) as stream,
    ):
        lines = stream.aiter_lines()
        await next_line(lines, ": open")
        await runtime.notices.publish(theirs, f"{item['id']},not-an-id")
        unseen = await next_line(lines, ": ping") + await next_line(lines, ": ping")
    assert events(unseen) == []


async def resumed(client: httpx.AsyncClient, who: Guardian, last_event_id: str) -> httpx.Response:
    """A short stream (its lifetime is set low by the caller) read to its end."""
    return await client.get(STREAM, headers={**who.headers, "Last-Event-ID": last_event_id})


async def test_a_reconnect_first_gets_what_it_missed(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"notification_stream_max_seconds": 0.5})
    for key in ("first", "second", "third"):
        assert await enqueue(runtime, family.guardian.account_id, key)
        clock.advance(timedelta(minutes=1))
    assert await enqueue(runtime, other_family.guardian.account_id, "theirs")
    newest_first = await inbox_items(client, family.guardian)
    first, second, third = reversed(newest_first)

    response = await resumed(client, family.guardian, str(first["id"]))
    assert response.status_code == 200
    assert response.text.startswith(": open\nretry: 5000\n\n")
    sent = events(response.text.splitlines())
    assert [e["id"] for e in sent] == [second["id"], third["id"]]
    assert [json.loads(e["data"]) for e in sent] == [second, third]
    assert response.text.endswith(": ping\n\n")  # then live, until its lifetime ended

    [theirs] = await inbox_items(client, other_family.guardian)
    foreign = await resumed(client, family.guardian, str(theirs["id"]))
    assert events(foreign.text.splitlines()) == []  # another guardian's id resumes nothing
    newest = await resumed(client, family.guardian, str(third["id"]))
    assert events(newest.text.splitlines()) == []


async def test_a_resume_sends_at_most_a_hundred(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"notification_stream_max_seconds": 0.3})
    for n in range(102):
        assert await enqueue(runtime, family.guardian.account_id, f"n{n}")
        clock.advance(timedelta(seconds=1))
    newest_first = await inbox_items(client, family.guardian, limit=100)
    newest_first += await inbox_items(client, family.guardian, limit=100, offset=100)
    assert len(newest_first) == 102
    oldest = str(newest_first[-1]["id"])
    sent = events((await resumed(client, family.guardian, oldest)).text.splitlines())
    assert len(sent) == 100
    assert [e["id"] for e in sent] == [i["id"] for i in reversed(newest_first[1:-1])]


async def test_a_bad_last_event_id_or_no_token_is_refused(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    bad = await resumed(client, family.guardian, "not-an-id")
    assert bad.status_code == 422
    assert (await client.get(STREAM)).status_code == 401
