"""The sampled query log through the real check API: flushed rows, the guardian's paged read
(filters, audit row, other families, monitoring), and its purge once the clock has moved on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from filters.activity import service as activity
from filters.activity.models import LoggedQuery
from filters.activity.recorder import ActivityRecorder
from parental.filter_activity import flush_activity
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.runtime import Runtime
from parental.worker import purge_expired
from tests.filters.activity.test_recorder import result
from tests.parental.factories import FamilyWorld, publish_lists

LISTS = {"drugs": ["||weed.test^"], "gambling": ["||casino.test^"]}
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def published(runtime: Runtime) -> None:
    await publish_lists(runtime, LISTS)


def queries_url(family: FamilyWorld) -> str:
    return f"/v1/children/{family.child_id}/filter-activity/queries"


async def check(client: httpx.AsyncClient, family: FamilyWorld, *items: str) -> None:
    response = await client.post(
        "/v1/filter/check", headers=family.device_headers, json={"items": list(items)}
    )
    assert response.status_code == 200, response.text


async def stored(runtime: Runtime) -> list[tuple[str, str, int]]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(LoggedQuery).order_by(LoggedQuery.host))
        return [(r.host, r.action, r.count) for r in rows]


async def read(client: httpx.AsyncClient, family: FamilyWorld, **params: Any) -> httpx.Response:
    return await client.get(queries_url(family), headers=family.guardian.headers, params=params)


async def test_flushes_of_one_minute_from_two_processes_add_up_in_one_row(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, published: None
) -> None:
    await check(client, family, "weed.test", "https://weed.test/shop", "ok.test", "fine.test")
    await flush_activity(runtime)
    assert await stored(runtime) == [("ok.test", "allow", 1), ("weed.test", "block", 2)]
    await check(client, family, "weed.test")
    await flush_activity(runtime)
    # Another process (the DNS front end) logs the same minute with its own recorder.
    dns_process = ActivityRecorder(runtime.bus)
    weed = result("weed.test", "block", "drugs")
    now = runtime.clock.now()
    await dns_process.record(uuid.UUID(family.child_id), "Asia/Almaty", [weed] * 3, now)
    async with transaction(runtime.sessions) as session:
        await activity.flush(session, dns_process.take(now))
    assert await stored(runtime) == [("ok.test", "allow", 1), ("weed.test", "block", 6)]
    # Of the day's allowed lookups (ok.test, fine.test, site2 ...) the 1st and 21st are kept.
    await check(client, family, *(f"site{i}.test" for i in range(2, 22)))
    await flush_activity(runtime)
    assert [host for host, action, _ in await stored(runtime) if action == "allow"] == [
        "ok.test",
        "site20.test",
    ]


async def test_the_guardian_pages_through_the_log_newest_first_and_the_child_sees_it(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
) -> None:
    for minute in range(3):
        await check(client, family, f"m{minute}.weed.test", f"m{minute}.casino.test")
        await flush_activity(runtime)
        clock.advance(MINUTE)
    pages: list[list[tuple[str, str]]] = []
    cursor: str | None = None
    while True:
        response = await read(client, family, limit=4, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([(i["occurred_at"], i["host"]) for i in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [4, 2]
    flat = [item for page in pages for item in page]
    assert [at for at, _ in flat] == sorted((at for at, _ in flat), reverse=True)
    assert {host for _, host in flat} == {
        f"m{m}.{name}.test" for m in range(3) for name in ("weed", "casino")
    }
    assert flat[0][0] == "2026-11-25T09:02:00Z"
    first = (await read(client, family, limit=1)).json()["items"][0]
    assert first["action"] == "block"
    assert first["category"] in ("drugs", "gambling")
    assert first["count"] == 1
    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    actions = [e["action"] for e in seen.json()["items"]]
    assert actions.count("filter.query_log_viewed") == 3


async def test_the_log_filters_by_action_and_period(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
) -> None:
    await check(client, family, "weed.test", "ok.test")  # 09:00, the day's first allowed
    clock.advance(MINUTE)
    await check(client, family, "casino.test")  # 09:01
    clock.advance(MINUTE)
    await check(client, family, "weed.test")  # 09:02
    await flush_activity(runtime)

    async def hosts(**params: Any) -> list[tuple[str, str]]:
        response = await read(client, family, **params)
        assert response.status_code == 200, response.text
        return [(i["occurred_at"][11:16], i["host"]) for i in response.json()["items"]]

    assert await hosts(action="allow") == [("09:00", "ok.test")]
    assert await hosts(action="block") == [
        ("09:02", "weed.test"),
        ("09:01", "casino.test"),
        ("09:00", "weed.test"),
    ]
    assert await hosts(since="2026-11-25T09:01:00Z") == [
        ("09:02", "weed.test"),
        ("09:01", "casino.test"),
    ]
    earliest = await hosts(until="2026-11-25T14:01:00+05:00")  # 09:01 UTC, not included
    assert sorted(earliest) == [("09:00", "ok.test"), ("09:00", "weed.test")]
    assert await hosts(
        since="2026-11-25T09:01:00Z", until="2026-11-25T09:02:00Z", action="block"
    ) == [("09:01", "casino.test")]


async def test_bad_input_is_refused_and_writes_no_audit_row(
    client: httpx.AsyncClient, family: FamilyWorld, published: None
) -> None:
    period = await read(client, family, since="2026-11-25T10:00:00Z", until="2026-11-25T09:00:00Z")
    assert (period.status_code, period.json()["error"]) == (400, "InvalidPeriod")
    cursor = await read(client, family, cursor="not-a-cursor")
    assert (cursor.status_code, cursor.json()["error"]) == (400, "InvalidCursor")
    for params in (
        {"since": "2026-11-25T09:00:00"},  # no offset: which 09:00?
        {"action": "maybe"},
        {"limit": "0"},
        {"limit": "101"},
    ):
        response = await read(client, family, **params)
        assert response.status_code == 422, (params, response.text)
    seen = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert "filter.query_log_viewed" not in [e["action"] for e in seen.json()["items"]]


async def test_another_familys_guardian_gets_404_and_sees_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
    published: None,
) -> None:
    await check(client, family, "weed.test")
    await flush_activity(runtime)
    response = await client.get(queries_url(family), headers=other_family.guardian.headers)
    assert (response.status_code, response.json()["error"]) == (404, "ChildNotFound")
    own = await read(client, other_family)
    assert own.json() == {"items": [], "next_cursor": None}


async def test_the_log_is_refused_once_monitoring_stops(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    published: None,
) -> None:
    await check(client, family, "weed.test")
    await flush_activity(runtime)
    gone = await client.delete(f"/carrier/v1/lines/{family.line}", headers=carrier)
    assert gone.status_code == 200
    refused = await read(client, family)
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")


async def test_the_worker_purges_the_log_after_7_days(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
) -> None:
    clock.advance(timedelta(seconds=30))  # 09:00:30: the row is the minute from 09:00
    await check(client, family, "weed.test")
    clock.advance(MINUTE)
    await check(client, family, "casino.test")
    await flush_activity(runtime)
    assert clock.now() == datetime(2026, 11, 25, 9, 1, 30, tzinfo=UTC)
    clock.advance(timedelta(days=7) - timedelta(seconds=90))  # 7 days after 09:00, to the second
    assert (await purge_expired(runtime)).filter_query_log == 0
    clock.advance(timedelta(seconds=1))
    assert (await purge_expired(runtime)).filter_query_log == 1
    assert await stored(runtime) == [("casino.test", "block", 1)]
    clock.advance(MINUTE)
    report = await purge_expired(runtime)
    assert report.filter_query_log == 1
    assert await stored(runtime) == []
