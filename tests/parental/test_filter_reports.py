"""Filter reports over HTTP: guardians, the child's device and the block page file them,
curators decide them, and an accepted one is in force from the next publish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from filters.reports.events import FilterReportDecided
from filters.reports.models import FilterReport
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from tests.filters.reports.test_service import publish_draft
from tests.parental.factories import FamilyWorld
from tests.parental.test_filtering import publish

BLOCK_PAGE_LIMIT = 3
REPORTER_LIMIT = 6


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(
        limit_filter_reports_per_ip=f"{BLOCK_PAGE_LIMIT}/minute",
        limit_filter_reports_per_reporter=f"{REPORTER_LIMIT}/minute",
    )


def reports_url(world: FamilyWorld) -> str:
    return f"/v1/children/{world.child_id}/filter-reports"


async def file_as_guardian(
    client: httpx.AsyncClient, world: FamilyWorld, **body: Any
) -> dict[str, Any]:
    response = await client.post(reports_url(world), headers=world.guardian.headers, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def file_as_device(client: httpx.AsyncClient, world: FamilyWorld, **body: Any) -> None:
    response = await client.post(
        "/v1/device/filter-reports", headers=world.device_headers, json=body
    )
    assert response.status_code == 201, response.text


async def items(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["items"]
    return found


async def verdict(client: httpx.AsyncClient, headers: dict[str, str], target: str) -> str:
    response = await client.post("/v1/filter/check", headers=headers, json={"items": [target]})
    assert response.status_code == 200, response.text
    action: str = response.json()["results"][0]["action"]
    return action


async def report_hosts(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(FilterReport.host).order_by(FilterReport.host)))


async def test_a_guardian_reports_for_their_child_and_the_child_is_told(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    await publish(runtime)
    filed = await file_as_guardian(
        client,
        family,
        kind="wrongly_blocked",
        target="https://weed.test/garden",
        comment="Gardening homework",
    )
    assert filed["status"] == "open"
    assert (filed["reporter_type"], filed["child_id"], filed["comment"]) == (
        "guardian",
        family.child_id,
        "Gardening homework",
    )
    assert filed["verdict"] == {
        "action": "block",
        "category": "drugs",
        "source_id": filed["verdict"]["source_id"],
        "source_name": "drugs",
        "version": "1",
    }
    assert await items(client, reports_url(family), family.guardian.headers) == [filed]

    seen_by_child = await items(client, "/v1/device/audit-events", family.device_headers)
    [row] = [e for e in seen_by_child if e["action"] == "filter.report_filed"]
    assert (row["actor_type"], row["actor_id"]) == ("guardian", family.guardian.account_id)
    assert row["subject_id"] == filed["report_id"]
    assert row["details"] == {"kind": "wrongly_blocked", "host": "weed.test", "path": "/garden"}


async def test_a_guardian_cannot_report_for_another_familys_child(
    client: httpx.AsyncClient,
    family: FamilyWorld,
    other_family: FamilyWorld,
    staff: dict[str, str],
) -> None:
    theirs = reports_url(other_family)
    body = {"kind": "should_be_blocked", "target": "casino.test"}
    for response in (
        await client.post(theirs, headers=family.guardian.headers, json=body),
        await client.get(theirs, headers=family.guardian.headers),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "ChildNotFound"
    assert await items(client, theirs, other_family.guardian.headers) == []
    assert await items(client, "/admin/v1/filter-reports?status=any", staff) == []


async def test_the_childs_device_reports_and_each_side_sees_its_own_comments(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await publish(runtime)
    await file_as_device(
        client, family, kind="wrongly_blocked", target="pills.test", comment="For biology"
    )
    clock.advance(timedelta(minutes=1))
    await file_as_guardian(
        client, family, kind="should_be_blocked", target="casino.test", comment="Please"
    )

    by_device = await items(client, "/v1/device/filter-reports", family.device_headers)
    assert [(r["target"], r["reporter_type"], r["comment"]) for r in by_device] == [
        ("pills.test", "device", "For biology")
    ]
    assert by_device[0]["verdict"]["action"] == "block"
    for_guardian = await items(client, reports_url(family), family.guardian.headers)
    assert [(r["target"], r["reporter_type"], r["comment"]) for r in for_guardian] == [
        ("casino.test", "guardian", "Please"),
        ("pills.test", "device", None),  # the child wrote it for the curators
    ]
    audit = await items(client, "/v1/device/audit-events", family.device_headers)
    assert [
        (e["actor_type"], e["actor_id"]) for e in audit if e["action"] == "filter.report_filed"
    ] == [
        ("guardian", family.guardian.account_id),
        ("device", family.device_id),
    ]


async def test_the_block_page_reports_without_credentials_and_is_limited_per_address(
    client: httpx.AsyncClient, runtime: Runtime, staff: dict[str, str]
) -> None:
    await publish(runtime)
    body = {"kind": "wrongly_blocked", "target": "https://Weed.test/garden?x=1"}
    for _ in range(BLOCK_PAGE_LIMIT):
        response = await client.post("/v1/filter/reports", json=body)
        assert response.status_code == 202, response.text
        assert response.json() == {"kind": "wrongly_blocked", "target": "weed.test/garden"}
    limited = await client.post("/v1/filter/reports", json=body)
    assert limited.status_code == 429
    assert limited.json()["error"] == "TooManyRequests"
    assert int(limited.headers["Retry-After"]) >= 1

    [report] = await items(client, "/admin/v1/filter-reports", staff)
    assert report["reporter_count"] == BLOCK_PAGE_LIMIT
    detail = (await client.get(f"/admin/v1/filter-reports/{report['id']}", headers=staff)).json()
    assert {tuple(sorted(r)) for r in detail["reporters"]} == {
        ("comment", "created_at", "target", "type", "verdict")
    }
    assert {r["type"] for r in detail["reporters"]} == {"block_page"}
    log = await items(client, "/admin/v1/audit-events?limit=100", staff)
    assert "filter.report_filed" not in {e["action"] for e in log}


async def test_guardians_are_limited_too(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    body = {"kind": "should_be_blocked", "target": "casino.test"}
    for _ in range(REPORTER_LIMIT):  # the same report again is not counted twice, but limited
        await file_as_guardian(client, family, **body)
    limited = await client.post(reports_url(family), headers=family.guardian.headers, json=body)
    assert limited.status_code == 429
    assert len(await items(client, reports_url(family), family.guardian.headers)) == 1


async def test_bad_reports_are_clear_errors_and_change_nothing(
    client: httpx.AsyncClient, family: FamilyWorld, staff: dict[str, str]
) -> None:
    url = reports_url(family)
    headers = family.guardian.headers
    invalid = await client.post(
        url, headers=headers, json={"kind": "should_be_blocked", "target": "a..b"}
    )
    assert invalid.status_code == 400
    assert invalid.json()["error"] == "InvalidReportTarget"
    for body in (
        {"kind": "too_blocked", "target": "a.test"},
        {"kind": "should_be_blocked", "target": "a.test", "comment": "x" * 501},
        {"kind": "should_be_blocked", "target": ""},
        {"kind": "should_be_blocked", "target": "a.test", "child_id": family.child_id},
    ):
        response = await client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
    with_comment = await client.post(
        "/v1/filter/reports",
        json={"kind": "should_be_blocked", "target": "a.test", "comment": "I am Aigerim"},
    )
    assert with_comment.status_code == 422
    assert await items(client, url, headers) == []
    assert await items(client, "/admin/v1/filter-reports?status=any", staff) == []


async def test_an_accepted_report_blocks_from_the_next_publish(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    staff: dict[str, str],
) -> None:
    await publish(runtime)
    decided: list[FilterReportDecided] = []

    async def remember(event: FilterReportDecided) -> None:
        decided.append(event)

    runtime.bus.subscribe(FilterReportDecided, remember)
    filed = await file_as_guardian(client, family, kind="should_be_blocked", target="casino.test")
    received = await client.post(
        "/v1/filter/reports", json={"kind": "should_be_blocked", "target": "http://casino.test/"}
    )
    assert received.status_code == 202
    [queued] = await items(client, "/admin/v1/filter-reports", staff)
    assert (queued["id"], queued["reporter_count"], queued["status"]) == (
        filed["report_id"],
        2,
        "open",
    )
    assert queued["verdict"]["action"] == "allow"

    url = f"/admin/v1/filter-reports/{queued['id']}/decision"
    body = {"decision": "accept", "category": "gambling", "note": "An online casino."}
    accepted = await client.post(url, headers=staff, json=body)
    assert accepted.status_code == 200, accepted.text
    decision = accepted.json()["decision"]
    assert accepted.json()["status"] == "accepted"
    assert (decision["category"], decision["action"], decision["note"]) == (
        "gambling",
        "block",
        "An online casino.",
    )
    assert decision["entry_id"] is not None
    assert decision["decided_by"].startswith("staff:")

    assert await verdict(client, carrier, "www.casino.test") == "allow"  # until published
    await publish_draft(runtime)
    assert await verdict(client, carrier, "www.casino.test") == "block"

    [mine] = await items(client, reports_url(family), family.guardian.headers)
    assert (mine["status"], mine["decision_note"]) == ("accepted", "An online casino.")
    log = await items(client, "/admin/v1/audit-events?limit=100", staff)
    [row] = [e for e in log if e["action"] == "filter.report_decided"]
    assert row["actor_type"] == "staff"
    assert row["subject_id"] == queued["id"]
    assert row["details"] == {
        "decision": "accepted",
        "category": "gambling",
        "action": "block",
        "entry_id": decision["entry_id"],
    }
    assert [(e.report_id.hex, e.status) for e in decided] == [
        (queued["id"].replace("-", ""), "accepted")
    ]
    assert [r.id for r in decided[0].reporters] == [family.guardian.account_id]

    again = await client.post(url, headers=staff, json={"decision": "reject", "note": "No."})
    assert again.status_code == 409
    assert again.json()["error"] == "ReportAlreadyDecided"


async def test_an_accepted_wrongly_blocked_report_unblocks_for_the_childs_device(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, staff: dict[str, str]
) -> None:
    await publish(runtime)
    check = {"url": "weed.test"}
    blocked = await client.get("/v1/filter/check", params=check, headers=family.device_headers)
    assert blocked.json()["results"][0]["action"] == "block"
    await file_as_device(client, family, kind="wrongly_blocked", target="weed.test")
    [queued] = await items(client, "/admin/v1/filter-reports?category=drugs", staff)

    accepted = await client.post(
        f"/admin/v1/filter-reports/{queued['id']}/decision",
        headers=staff,
        json={"decision": "accept"},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["decision"]["category"] == "drugs"
    assert accepted.json()["decision"]["action"] == "allow"
    await publish_draft(runtime)
    allowed = await client.get("/v1/filter/check", params=check, headers=family.device_headers)
    assert allowed.json()["results"][0]["action"] == "allow"
    [own] = await items(client, "/v1/device/filter-reports", family.device_headers)
    assert own["status"] == "accepted"


async def test_a_rejection_needs_a_note_which_the_reporter_reads(
    client: httpx.AsyncClient, family: FamilyWorld, staff: dict[str, str]
) -> None:
    await file_as_device(client, family, kind="should_be_blocked", target="games.test")
    [queued] = await items(client, "/admin/v1/filter-reports", staff)
    url = f"/admin/v1/filter-reports/{queued['id']}/decision"
    for body, status, error in [
        ({"decision": "reject"}, 400, "NoteRequired"),
        ({"decision": "accept"}, 400, "CategoryRequired"),
        ({"decision": "accept", "category": "kids_allow"}, 400, "InvalidCategory"),
        ({"decision": "accept", "category": "gambling", "target": "a..b"}, 400, "InvalidEntry"),
        ({"decision": "maybe", "note": "?"}, 422, "RequestValidationError"),
    ]:
        response = await client.post(url, headers=staff, json=body)
        assert response.status_code == status, (body, response.text)
        if status == 400:
            assert response.json()["error"] == error
    unknown = await client.post(
        "/admin/v1/filter-reports/00000000-0000-4000-8000-000000000000/decision",
        headers=staff,
        json={"decision": "reject", "note": "No."},
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "ReportNotFound"
    assert (await client.get(url.removesuffix("/decision"), headers=staff)).json()[
        "status"
    ] == "open"

    rejected = await client.post(
        url, headers=staff, json={"decision": "reject", "note": "A puzzle site for children."}
    )
    assert rejected.status_code == 200, rejected.text
    [own] = await items(client, "/v1/device/filter-reports", family.device_headers)
    assert (own["status"], own["decision_note"]) == ("rejected", "A puzzle site for children.")
    assert await items(client, "/admin/v1/filter-reports", staff) == []
    assert [
        r["id"] for r in await items(client, "/admin/v1/filter-reports?status=rejected", staff)
    ] == [queued["id"]]


async def test_the_queue_is_filtered_and_paged(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    staff: dict[str, str],
) -> None:
    await publish(runtime)
    await file_as_guardian(client, family, kind="should_be_blocked", target="casino.test")
    clock.advance(timedelta(minutes=1))
    await file_as_guardian(client, family, kind="wrongly_blocked", target="pills.test")
    clock.advance(timedelta(minutes=1))
    await file_as_device(client, family, kind="wrongly_blocked", target="pills.test")

    everything = await items(client, "/admin/v1/filter-reports", staff)
    assert [(r["target"], r["reporter_count"]) for r in everything] == [
        ("pills.test", 2),
        ("casino.test", 1),
    ]
    first = await client.get("/admin/v1/filter-reports?limit=1", headers=staff)
    cursor = first.json()["next_cursor"]
    second = await client.get(
        "/admin/v1/filter-reports", params={"limit": 1, "cursor": cursor}, headers=staff
    )
    assert [r["target"] for r in first.json()["items"] + second.json()["items"]] == [
        "pills.test",
        "casino.test",
    ]
    assert second.json()["next_cursor"] is None
    oldest = await client.get("/admin/v1/filter-reports?limit=1&order=oldest", headers=staff)
    then = await client.get(
        "/admin/v1/filter-reports",
        params={"limit": 1, "order": "oldest", "cursor": oldest.json()["next_cursor"]},
        headers=staff,
    )
    assert [r["target"] for r in oldest.json()["items"] + then.json()["items"]] == [
        "casino.test",
        "pills.test",
    ]
    assert then.json()["next_cursor"] is None
    wanted = await items(client, "/admin/v1/filter-reports?kind=should_be_blocked", staff)
    assert [r["target"] for r in wanted] == ["casino.test"]
    assert await items(client, "/admin/v1/filter-reports?category=gambling", staff) == []
    bad_cursor = await client.get("/admin/v1/filter-reports?cursor=nope", headers=staff)
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["error"] == "InvalidCursor"
    bad_status = await client.get("/admin/v1/filter-reports?status=closed", headers=staff)
    assert bad_status.status_code == 422


async def test_the_worker_purges_decided_reports_after_retention_and_open_ones_after_theirs(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    staff: dict[str, str],
) -> None:
    await file_as_guardian(client, family, kind="should_be_blocked", target="old.test")
    clock.advance(timedelta(minutes=1))
    await file_as_guardian(client, family, kind="should_be_blocked", target="kept.test")
    [first, _] = await items(client, "/admin/v1/filter-reports", staff)
    assert first["target"] == "old.test"
    decided = await client.post(
        f"/admin/v1/filter-reports/{first['id']}/decision",
        headers=staff,
        json={"decision": "reject", "note": "No."},
    )
    assert decided.status_code == 200
    retention = timedelta(days=runtime.settings.filter_report_retention_days)

    clock.advance(retention)
    assert (await purge_expired(runtime)).filter_reports == 0
    clock.advance(timedelta(seconds=1))
    assert (await purge_expired(runtime)).filter_reports == 1

    assert await report_hosts(runtime) == ["kept.test"]  # tokens have long expired: read SQL
    # An open report waits for a curator, but not for ever: a year after it was last reported.
    open_retention = timedelta(days=runtime.settings.filter_report_open_retention_days)
    clock.advance(open_retention - retention - timedelta(seconds=2))
    assert (await purge_expired(runtime)).filter_reports == 0
    clock.advance(timedelta(seconds=2))
    assert (await purge_expired(runtime)).filter_reports == 1
    assert await report_hosts(runtime) == []
