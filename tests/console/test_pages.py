"""Each console page renders, and each action goes through the admin API's own route (the
audit rows say so): look-ups, entries, sources and imports, the review queue, versions."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from filters.curation.models import Entry, Version
from filters.reports.models import FilterReport
from parental.audit.models import AuditEvent
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.console.helpers import Enrolled
from tests.parental.factories import publish_lists


async def _audit(runtime: Runtime, prefix: str = "") -> list[AuditEvent]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.occurred_at, AuditEvent.action)
        )
        return list(rows)


async def _post(
    client: httpx.AsyncClient, path: str, csrf: str, status: int = 303, **data: Any
) -> httpx.Response:
    response = await client.post(f"/console{path}", data={"csrf": csrf, **data})
    assert response.status_code == status, response.text
    return response


async def _page(client: httpx.AsyncClient, path: str, status: int = 200) -> str:
    response = await client.get(f"/console{path}")
    assert response.status_code == status, response.text
    return response.text


def _verdicts(html: str) -> dict[str, str]:
    """Profile -> verdict, from the look-up page's table."""
    return dict(re.findall(r'<tr data-profile="([^"]+)">.*?<span class="badge (\w+)">', html, re.S))


async def test_every_page_renders_before_anything_is_published(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    for path in ["/", "/lookup", "/entries", "/sources", "/versions", "/reports", "/activity"]:
        html = await _page(client, path)
        assert 'name="csrf"' in html  # the sign-out form at least
        assert "<label" in html or path == "/"
    assert "Nothing published yet." in await _page(client, "/versions")
    assert "NoPublishedVersion" in await _page(client, "/lookup?target=a.test", status=503)


async def test_a_look_up_shows_the_verdicts_the_rule_its_source_and_its_history(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    await publish_lists(runtime, {"social": ["chat.test"], "gambling": ["casino.test"]})

    social = await _page(client, "/lookup?target=https://www.chat.test/room&band=13_15")
    unlisted = await _page(client, "/lookup?target=school.test")
    invalid = await _page(client, "/lookup?target=not a name", status=400)

    assert _verdicts(social) == {"default": "block", "13_15": "allow"}
    assert "<code>chat.test</code> (subtree, block)" in social
    assert "History of chat.test" in social
    assert "test" in social
    assert _verdicts(unlisted) == {"default": "allow"}
    assert "no rule: not listed" in unlisted
    assert "InvalidItem" in invalid
    await _page(client, "/lookup?target=a.test&band=adult", status=400)


async def test_entries_are_added_moved_and_removed_with_reasons_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, console: str, curator: Enrolled
) -> None:
    added = await _post(
        client,
        "/entries",
        console,
        target="casino.test",
        action="block",
        category="gambling",
        subdomains="on",
        reason="a casino",
    )
    entry_path = added.headers["location"].split("?")[0]
    entry_page = await _page(client, entry_path.removeprefix("/console") + "?notice=entry_added")
    assert "Entry added to the draft" in entry_page
    assert "a casino" in entry_page
    assert "curator" in entry_page
    listed = await _page(client, "/entries?q=casino&category=gambling&state=draft")
    assert "casino.test" in listed
    assert "casino.test" not in await _page(client, "/entries?q=casino&category=drugs")

    moved = await _post(
        client,
        f"{entry_path.removeprefix('/console')}/move",
        console,
        category="adult",
        reason="misfiled",
    )
    moved_id = moved.headers["location"].split("/")[-1].split("?")[0]
    await _post(client, f"/entries/{moved_id}/remove", console, reason="not a casino")
    missing_reason = await _post(
        client, f"/entries/{moved_id}/remove", console, status=400, reason=""
    )

    assert "reason" in missing_reason.text
    actions = [
        (e.action, e.actor_id, e.details.get("reason")) for e in await _audit(runtime, "curation.")
    ]
    staff_id = (await _audit(runtime, "staff.console_sign_in"))[0].actor_id
    assert sorted(actions) == [  # the clock stands still: the rows are equally old
        ("curation.entry_added", staff_id, "a casino"),
        ("curation.entry_added", staff_id, "misfiled"),
        ("curation.entry_removed", staff_id, "misfiled"),
        ("curation.entry_removed", staff_id, "not a casino"),
    ]
    async with runtime.sessions() as session:
        assert await session.scalar(select(Entry).where(Entry.id == uuid.UUID(moved_id)))


async def test_publishing_diffing_and_rolling_back(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    first = await publish_lists(runtime, {"gambling": ["casino.test"]})
    await _post(
        client,
        "/entries",
        console,
        target="bets.test",
        action="block",
        category="gambling",
        subdomains="on",
        reason="bets",
    )
    assert "bets.test" in await _page(client, "/versions")  # pending

    published = await _post(client, "/versions", console, note="bets blocked")
    assert published.headers["location"] == f"/console/versions?notice=published_{first + 1}"
    versions_page = await _page(client, "/versions?notice=published_2")
    assert "Version 2 published and in force." in versions_page
    assert "bets blocked" in versions_page
    assert runtime.snapshots.version == str(first + 1)
    diff = await _page(client, f"/versions/{first + 1}/diff")
    assert "1 rules added, 0 removed" in diff
    assert "<code>bets.test</code>" in diff
    assert "<code>bets.test</code>" in await _page(client, f"/diff?base=0&number={first + 1}")
    assert "VersionNotFound" in await _page(client, "/versions/99/diff", status=404)
    await _page(client, f"/versions/{2**40}/diff", status=400)

    nothing = await _post(client, "/versions", console, status=409, note="again")
    assert "NothingToPublish" in nothing.text
    await _post(client, f"/versions/{first}/rollback", console)
    assert runtime.snapshots.version == str(first + 2)
    assert _verdicts(await _page(client, "/lookup?target=bets.test")) == {"default": "allow"}

    audited = sorted((e.action, e.subject_id) for e in await _audit(runtime, "curation.version"))
    assert audited == [
        ("curation.version_published", str(first + 1)),
        ("curation.version_rolled_back", str(first + 2)),
    ]
    async with runtime.sessions() as session:
        rolled = await session.scalar(select(Version).where(Version.number == first + 2))
        assert rolled is not None
        assert rolled.rolled_back_to == first


async def _file(client: httpx.AsyncClient, kind: str, target: str) -> None:
    response = await client.post("/v1/filter/reports", json={"kind": kind, "target": target})
    assert response.status_code == 202, response.text


async def _reports(runtime: Runtime) -> dict[str, FilterReport]:
    async with runtime.sessions() as session:
        return {r.host: r for r in await session.scalars(select(FilterReport))}


async def test_the_review_queue_accepts_rejects_and_decides_in_bulk(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    await publish_lists(runtime, {"social": ["chat.test"]})
    await _file(client, "wrongly_blocked", "chat.test")
    await _file(client, "should_be_blocked", "casino.test")
    await _file(client, "should_be_blocked", "one.test")
    await _file(client, "should_be_blocked", "two.test")
    queue = await _page(client, "/reports")
    assert queue.count('<article class="card report"') == 4
    assert '<option value="oldest" selected>oldest first</option>' in queue  # the default
    assert "block page" in queue
    assert "social, source social" in queue

    reports = await _reports(runtime)
    await _post(
        client,
        f"/reports/{reports['casino.test'].id}/decision",
        console,
        decision="accept",
        category="gambling",
        note="a casino",
    )
    needs_note = await _post(
        client,
        f"/reports/{reports['chat.test'].id}/decision",
        console,
        status=400,
        decision="reject",
    )
    assert "NoteRequired" in needs_note.text
    twice = await _post(
        client,
        f"/reports/{reports['casino.test'].id}/decision",
        console,
        status=409,
        decision="reject",
        note="no",
    )
    assert "ReportAlreadyDecided" in twice.text
    response = await client.post(
        "/console/reports/bulk",
        data={
            "csrf": console,
            "report": [str(reports["one.test"].id), str(reports["two.test"].id)],
            "decision": "reject",
            "note": "not harmful",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("decided_2")
    await _post(client, "/reports/bulk", console, status=400, decision="reject", note="x")

    decided = {h: (r.status, r.decision_note) for h, r in (await _reports(runtime)).items()}
    assert decided == {
        "chat.test": ("open", None),
        "casino.test": ("accepted", "a casino"),
        "one.test": ("rejected", "not harmful"),
        "two.test": ("rejected", "not harmful"),
    }
    rows = await _audit(runtime, "filter.report_decided")
    assert sorted(r.details["decision"] for r in rows) == ["accepted", "rejected", "rejected"]
    assert {r.actor_type for r in rows} == {"staff"}
    assert "casino.test" in await _page(client, "/versions")  # pending until published


async def test_sources_are_added_configured_and_imported_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, console: str
) -> None:
    added = await _post(
        client,
        "/sources",
        console,
        name="Local list",
        category="adult",
        format="",
        licence="CC BY-NC-SA 4.0",
    )
    path = added.headers["location"].split("?")[0].removeprefix("/console")
    uploaded = await client.post(
        f"/console{path}/import",
        data={"csrf": console, "format": "domains"},
        files={"list": ("list.txt", b"porn.test\nsex.test\nnot a name\n", "text/plain")},
    )
    assert uploaded.status_code == 303, uploaded.text
    await runtime.imports.wait()  # imports run in the background (see test_import_jobs)
    clock.advance(timedelta(seconds=1))
    await _post(client, path, console, format="hosts", enabled="on")
    bad = await client.post(
        f"/console{path}/import",
        data={"csrf": console},
        files={"list": ("list.txt", b"!!!\n", "text/plain")},
    )
    await runtime.imports.wait()
    no_file = await _post(client, f"{path}/import", console, status=400)
    bad_interval = await _post(
        client,
        "/sources",
        console,
        status=400,
        name="u",
        category="adult",
        url="https://l.test/x",
        refresh_hours="0.01",
    )

    page = await _page(client, path)
    assert "2 accepted" in page
    assert "1 rejected" in page
    assert "not a name" in page
    assert "<option selected>hosts</option>" in page
    assert "licence CC BY-NC-SA 4.0" in page
    assert bad.status_code == 303
    assert "Import failed." in page
    assert "Not one rule could be read as hosts" in page
    assert "InvalidList" in no_file.text
    assert "refresh_interval_seconds" in bad_interval.text
    assert "Local list" in await _page(client, "/sources")
    assert "Local list" in await _page(client, "/")  # the dashboard's sources
    audited = sorted(e.action for e in await _audit(runtime, "curation.source"))
    assert audited == [
        "curation.source_created",
        "curation.source_imported",
        "curation.source_updated",
    ]


async def test_the_activity_page_lists_staff_actions_by_actor_and_kind(
    client: httpx.AsyncClient, runtime: Runtime, console: str
) -> None:
    await _post(
        client,
        "/entries",
        console,
        target="casino.test",
        action="block",
        category="gambling",
        reason="a casino",
    )
    staff_id = (await _audit(runtime, "staff.console_sign_in"))[0].actor_id

    everything = await _page(client, "/activity")
    entries_only = await _page(client, "/activity?action=curation.entry")
    by_nobody = await _page(client, f"/activity?actor=staff:{uuid.uuid4()}")

    assert "curation.entry_added" in everything
    assert "staff.console_sign_in" in everything
    assert "staff.second_factor_enrolled" in everything
    assert "curation.entry_added" in entries_only
    assert "staff.console_sign_in" not in entries_only
    assert f"/console/activity?actor=staff%3A{staff_id}" in everything
    assert "Nothing yet." in by_nobody
    await _page(client, "/activity?cursor=garbage", status=400)


@pytest.mark.parametrize(
    "path", ["/entries/not-an-id", f"/entries/{uuid.uuid4()}", f"/sources/{uuid.uuid4()}"]
)
async def test_unknown_or_malformed_ids_are_pages_with_the_error(
    client: httpx.AsyncClient, console: str, path: str
) -> None:
    response = await client.get(f"/console{path}")

    assert response.status_code in (400, 404)
    assert response.headers["content-type"].startswith("text/html")
