"""The guardian's in-app inbox: every notification written for the caller, newest first,
read or unread, paged; another guardian's are unknown; marking read changes nothing else."""

from __future__ import annotations

from datetime import timedelta

import httpx

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld
from tests.parental.notifications.test_notify import low_battery, prefer, sos


async def inbox(
    client: httpx.AsyncClient, family: FamilyWorld, **params: object
) -> dict[str, object]:
    response = await client.get("/v1/notifications", headers=family.guardian.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_inbox_shows_every_notification_newest_first_and_counts_unread(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    await prefer(
        client,
        family.guardian,
        quiet_hours=[{"days": every_day, "start": "13:00", "end": "15:00"}],
        timezone="Asia/Almaty",
    )
    assert (await low_battery(client, family)).status_code == 200  # held by quiet hours
    clock.advance(timedelta(minutes=1))
    assert (await sos(client, family, clock.now())).status_code == 201

    shown = await inbox(client, family)
    items = shown["items"]
    assert isinstance(items, list)
    assert [i["kind"] for i in items] == ["alarm.sos", "alarm.low_battery"]
    assert shown["unread"] == 2
    assert all(i["read_at"] is None and i["title"] and i["body"] for i in items)
    assert items[0]["data"]["child_id"] == family.child_id

    first = await inbox(client, family, limit=1)
    assert [i["kind"] for i in first["items"]] == ["alarm.sos"]  # type: ignore[union-attr]
    rest = await inbox(client, family, limit=1, cursor=first["next_cursor"])
    assert [i["kind"] for i in rest["items"]] == ["alarm.low_battery"]  # type: ignore[union-attr]
    assert rest["next_cursor"] is None


async def test_marking_read(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await low_battery(client, family)).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert (await sos(client, family, clock.now())).status_code == 201
    items = (await inbox(client, family))["items"]
    assert isinstance(items, list)
    newest = items[0]["id"]

    clock.advance(timedelta(minutes=1))
    read = await client.post(f"/v1/notifications/{newest}/read", headers=family.guardian.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] == clock.now().isoformat().replace("+00:00", "Z")
    again = await client.post(f"/v1/notifications/{newest}/read", headers=family.guardian.headers)
    assert again.json()["read_at"] == read.json()["read_at"]  # first reading stays
    unread = await inbox(client, family, unread="true")
    assert [i["kind"] for i in unread["items"]] == ["alarm.low_battery"]  # type: ignore[union-attr]
    assert unread["unread"] == 1

    marked = await client.post("/v1/notifications/read", headers=family.guardian.headers)
    assert marked.json() == {"marked": 1}
    assert (await inbox(client, family))["unread"] == 0


async def test_another_guardians_notifications_are_unknown(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    assert (await sos(client, family, clock.now())).status_code == 201
    items = (await inbox(client, family))["items"]
    assert isinstance(items, list)
    theirs = items[0]["id"]
    assert (await inbox(client, other_family))["items"] == []
    refused = await client.post(
        f"/v1/notifications/{theirs}/read", headers=other_family.guardian.headers
    )
    assert (refused.status_code, refused.json()["error"]) == (404, "NotificationNotFound")
    marked = await client.post("/v1/notifications/read", headers=other_family.guardian.headers)
    assert marked.json() == {"marked": 0}
    assert (await inbox(client, family))["unread"] == 1
    device = await client.get("/v1/notifications", headers=family.device_headers)
    assert device.status_code == 401
