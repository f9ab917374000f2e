"""The curation admin API over HTTP, with a staff token: categories, sources, imports (large
bodies included), URL refreshes against a real list server, entries, versions; the audit rows
every change leaves; the worker's scheduled refresh; and the whole path from an imported list
to a verdict and back through a rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from filters.curation import sources as curation_sources
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import refresh_due_sources
from tests.filters.curation.conftest import BLOCKLISTS
from tests.filters.curation.listserver import ListServer, list_server

API = "/admin/v1/filter"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
TEXTS = {"kk": "Қорқыныш", "ru": "Страшилки", "en": "Scary stories"}
BANDS = {"under_9": True, "9_12": True, "13_15": False, "16_17": False}


@pytest.fixture
def parental_settings() -> ParentalSettings:
    """The list server runs on 127.0.0.1, which sources may reach only when allowed."""
    return ParentalSettings(curation_source_private_networks=["127.0.0.0/8"])  # type: ignore[list-item]


@pytest.fixture
def server() -> Iterator[ListServer]:
    with list_server() as running:
        yield running


async def ok(response: httpx.Response | Any, status: int = 200) -> Any:
    response = await response if not isinstance(response, httpx.Response) else response
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def error(response: Any, status: int, code: str) -> None:
    response = await response
    assert response.status_code == status, response.text
    assert response.json()["error"] == code, response.text


async def audit_actions(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = await ok(client.get("/admin/v1/audit-events?limit=100", headers=headers))
    return [e for e in page["items"] if e["action"].startswith("curation.")]


async def new_source(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"name": "drugs-list", "category": "drugs", "kind": "file", **fields}
    created: dict[str, Any] = await ok(
        client.post(f"{API}/sources", headers=headers, json=body), 201
    )
    return created


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], source_id: str, text: bytes, **params: str
) -> httpx.Response:
    return await client.post(
        f"{API}/sources/{source_id}/imports",
        headers={**headers, "Content-Type": "text/plain; charset=utf-8"},
        params=params,
        content=text,
    )


async def check(client: httpx.AsyncClient, headers: dict[str, str], item: str) -> dict[str, Any]:
    body = await ok(client.post("/v1/filter/check", headers=headers, json={"items": [item]}))
    result: dict[str, Any] = body["results"][0]
    result["version"] = body["version"]
    return result


async def test_categories(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    listed = await ok(client.get(f"{API}/categories", headers=staff))
    drugs = next(c for c in listed["items"] if c["key"] == "drugs")
    assert (drugs["builtin"], drugs["kind"]) == (True, "block")
    assert drugs["names"] == {"kk": "Есірткі", "ru": "Наркотики", "en": "Drugs"}
    assert set(drugs["defaults"]) == set(BANDS)

    body = {"key": "creepy", "kind": "block", "names": TEXTS, "descriptions": TEXTS}
    created = await ok(
        client.post(f"{API}/categories", headers=staff, json={**body, "defaults": BANDS}), 201
    )
    assert (created["builtin"], created["defaults"], created["sources"]) == (False, BANDS, 0)
    await error(
        client.post(f"{API}/categories", headers=staff, json={**body, "defaults": BANDS}),
        409,
        "CategoryExists",
    )
    partial = {"under_9": True}
    await error(
        client.post(f"{API}/categories", headers=staff, json={**body, "defaults": partial}),
        422,
        "ValidationError",
    )
    renamed = await ok(
        client.patch(f"{API}/categories/drugs", headers=staff, json={"names": TEXTS})
    )
    assert renamed["names"] == TEXTS
    await error(
        client.patch(f"{API}/categories/drugs", headers=staff, json={"kind": "allow"}),
        409,
        "BuiltinCategory",
    )
    await error(client.delete(f"{API}/categories/drugs", headers=staff), 409, "BuiltinCategory")
    for method in ("PATCH", "DELETE"):
        await error(
            client.request(method, f"{API}/categories/nope", headers=staff, json={}),
            404,
            "CategoryNotFound",
        )
    await ok(client.delete(f"{API}/categories/creepy", headers=staff), 204)

    events = {e["action"]: e for e in await audit_actions(client, staff)}
    assert sorted(events) == [
        "curation.category_created",
        "curation.category_deleted",
        "curation.category_updated",
    ]
    assert {(e["actor_type"], e["subject_type"]) for e in events.values()} == {
        ("staff", "filter_category")
    }
    assert events["curation.category_updated"]["details"] == {"names": TEXTS}


async def test_sources(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    feed = await new_source(
        client,
        staff,
        name="feed",
        category="malware_phishing",
        kind="url",
        url="https://lists.test/phishing.txt",
        refresh_interval_seconds=3600,
        auto_publish=True,
        licence=" CC BY-SA 4.0 ",
    )
    assert feed["refresh_status"] is None
    assert feed["licence"] == "CC BY-SA 4.0"
    assert (feed["draft_entries"], feed["published"], feed["auto_publish"]) == (0, False, True)
    await error(
        client.post(
            f"{API}/sources",
            headers=staff,
            json={"name": "f", "category": "drugs", "kind": "file", "url": "https://x.test/"},
        ),
        400,
        "InvalidSource",
    )
    await error(
        client.post(
            f"{API}/sources", headers=staff, json={"name": "f", "category": "x", "kind": "file"}
        ),
        404,
        "CategoryNotFound",
    )
    await error(
        client.post(
            f"{API}/sources",
            headers=staff,
            json={"name": "feed", "category": "drugs", "kind": "file"},
        ),
        409,
        "SourceExists",
    )
    await error(
        client.post(
            f"{API}/sources",
            headers=staff,
            json={"name": "u", "category": "drugs", "kind": "url", "url": "ftp://x.test/l"},
        ),
        422,
        "ValidationError",
    )
    url = f"{API}/sources/{feed['id']}"
    changed = await ok(client.patch(url, headers=staff, json={"name": "phish", "enabled": False}))
    assert (changed["name"], changed["enabled"]) == ("phish", False)
    assert (await ok(client.get(url, headers=staff)))["name"] == "phish"
    listed = await ok(client.get(f"{API}/sources", headers=staff))
    assert [s["name"] for s in listed["items"]] == ["phish"]
    relicensed = await ok(client.patch(url, headers=staff, json={"licence": "GPL-3.0"}))
    assert relicensed["licence"] == "GPL-3.0"
    assert (await ok(client.patch(url, headers=staff, json={"licence": None})))["licence"] is None
    await error(
        client.patch(url, headers=staff, json={"licence": "x" * 201}), 422, "ValidationError"
    )

    for method, path in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/imports"),
        ("GET", "/imports"),
        ("POST", "/refresh"),
    ):
        await error(
            client.request(method, f"{API}/sources/{UNKNOWN}{path}", headers=staff, json={}),
            404,
            "SourceNotFound",
        )
    await ok(client.delete(url, headers=staff), 204)
    await error(client.get(url, headers=staff), 404, "SourceNotFound")
    events = await audit_actions(client, staff)
    assert sorted(e["action"] for e in events) == [
        "curation.source_created",
        "curation.source_deleted",
        *["curation.source_updated"] * 3,
    ]
    updates = [e for e in events if e["action"] == "curation.source_updated"]
    assert {e["subject_id"] for e in updates} == {feed["id"]}
    assert sorted((e["details"] for e in updates), key=str) == [
        {"licence": "GPL-3.0"},
        {"licence": None},
        {"name": "phish", "enabled": False},
    ]


async def test_import_answers_the_report_and_bad_lists_change_nothing(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    source = await new_source(client, staff)
    text = (
        b"# drugs\n0.0.0.0 weed.test\n0.0.0.0 weed.test\n0.0.0.0 bad..name\n127.0.0.1 pills.test\n"
    )
    report = await ok(upload(client, staff, source["id"], text), 201)
    assert (report["added"], report["removed"], report["unchanged"]) == (2, 0, 0)
    assert report["report"] == {
        "format": "hosts",
        "lines_read": 5,
        "accepted": 2,
        "duplicates": 1,
        "skipped": 1,
        "rejected": 1,
        "rejections": [
            {"line": 4, "text": "0.0.0.0 bad..name", "reason": "invalid name: empty-label"}
        ],
    }
    # The same names as AdBlock rules: the override wins over detection.
    again = await ok(
        upload(client, staff, source["id"], b"||weed.test^\n||pills.test^\n", format="adblock"),
        201,
    )
    assert (again["added"], again["removed"], again["report"]["format"]) == (2, 2, "adblock")
    await error(
        upload(client, staff, source["id"], b"a.test\n", format="nope"), 422, "ValidationError"
    )
    for junk in (b"", b"<html><head><title>502</title></head></html>\n" * 4):
        await error(upload(client, staff, source["id"], junk), 400, "InvalidList")
    listed = await ok(client.get(f"{API}/sources/{source['id']}", headers=staff))
    assert listed["draft_entries"] == 2
    assert listed["last_report"]["format"] == "adblock"
    imports = await ok(client.get(f"{API}/sources/{source['id']}/imports", headers=staff))
    assert [i["added"] for i in imports["items"]] == [2, 2]

    manual = await ok(
        client.post(
            f"{API}/sources",
            headers=staff,
            json={"name": "mine", "category": "drugs", "kind": "manual"},
        ),
        201,
    )
    await error(upload(client, staff, manual["id"], b"a.test\n"), 409, "ImportRefused")
    actions = [e["action"] for e in await audit_actions(client, staff)]
    assert actions.count("curation.source_imported") == 2


@pytest.mark.slow
async def test_import_takes_a_list_over_the_default_body_limit_and_refuses_a_huge_one(
    client: httpx.AsyncClient, runtime: Runtime, staff: dict[str, str]
) -> None:
    phishing = (BLOCKLISTS / "blocklistproject" / "phishing.domains.txt").read_bytes()
    assert len(phishing) > runtime.settings.max_body_bytes
    source = await new_source(client, staff, name="phishing", category="malware_phishing")
    report = await ok(upload(client, staff, source["id"], phishing), 201)
    assert report["report"]["format"] == "domains"
    assert report["added"] == report["report"]["accepted"] > 190_000

    async def huge() -> AsyncIterator[bytes]:  # streamed, no Content-Length
        chunk = b"0.0.0.0 x.test\n" * (1 << 16)
        for _ in range(curation_sources.MAX_LIST_BYTES // len(chunk) + 1):
            yield chunk

    too_big = await client.post(
        f"{API}/sources/{source['id']}/imports", headers=staff, content=huge()
    )
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["error"] == "PayloadTooLarge"
    declared = await client.post(
        f"{API}/sources/{source['id']}/imports",
        headers={**staff, "Content-Length": str(curation_sources.MAX_LIST_BYTES + 1)},
        content=b"a.test\n",
    )
    assert declared.status_code == 413, declared.text
    # The larger limit is the import's alone.
    elsewhere = await client.post(
        f"{API}/entries", headers={**staff, "Content-Type": "application/json"}, content=phishing
    )
    assert elsewhere.status_code == 413
    listed = await ok(client.get(f"{API}/sources/{source['id']}", headers=staff))
    assert listed["draft_entries"] == report["added"]


async def test_refresh_over_http(
    client: httpx.AsyncClient, staff: dict[str, str], server: ListServer
) -> None:
    server.publish(["||weed.test^"], etag='"1"', last_modified="Tue, 24 Nov 2026 10:00:00 GMT")
    feed = await new_source(
        client, staff, kind="url", url=server.url, refresh_interval_seconds=3600
    )
    url = f"{API}/sources/{feed['id']}/refresh"
    first = await ok(client.post(url, headers=staff))
    assert first["outcome"] == "updated"
    assert first["imported"]["report"]["format"] == "adblock"
    assert (first["imported"]["origin"], first["published_version"]) == ("refresh", None)
    assert first["source"]["draft_entries"] == 1
    second = await ok(client.post(url, headers=staff))
    assert (second["outcome"], second["imported"]) == ("not_modified", None)
    assert server.requests[-1]["if-none-match"] == '"1"'

    server.status = 500
    await error(client.post(url, headers=staff), 502, "RefreshFailed")
    listed = await ok(client.get(f"{API}/sources", headers=staff))
    [row] = listed["items"]
    assert (row["refresh_status"], row["last_error"]) == (
        "failed",
        "HTTP 500 Internal Server Error",
    )
    assert row["last_error_at"] is not None
    assert row["draft_entries"] == 1  # the last good rules
    actions = [e["action"] for e in await audit_actions(client, staff)]
    # The failure's audit row is kept although the request failed.
    assert sorted(actions)[-3:] == [
        "curation.source_refresh_failed",
        "curation.source_refreshed",
        "curation.source_refreshed",
    ]

    # With auto_publish, a refresh that changed the list is in force when the answer comes.
    server.status = 200
    await ok(
        client.patch(f"{API}/sources/{feed['id']}", headers=staff, json={"auto_publish": True})
    )
    server.publish(["||weed.test^", "||pills.test^"], etag='"2"', last_modified="")
    published = await ok(client.post(url, headers=staff))
    assert (published["outcome"], published["published_version"]) == ("updated", 1)
    assert (await check(client, staff, "www.pills.test"))["action"] == "block"

    file = await new_source(client, staff, name="file")
    await error(
        client.post(f"{API}/sources/{file['id']}/refresh", headers=staff), 409, "NotRefreshable"
    )


async def test_entries(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    source = await new_source(client, staff)
    await ok(upload(client, staff, source["id"], b"weed.test\n"), 201)
    added = await ok(
        client.post(
            f"{API}/entries",
            headers=staff,
            json={
                "category": "self_harm",
                "target": "https://forum.test/threads/9",
                "action": "block",
                "reason": "report 12",
            },
        ),
        201,
    )
    assert (added["source_name"], added["scope"], added["path"]) == (
        "manual:self_harm",
        "url",
        "/threads/9",
    )
    assert added["state"] == "draft"
    assert added["added_by"].startswith("staff:")
    named = await ok(
        client.post(
            f"{API}/entries",
            headers=staff,
            json={
                "source_id": source["id"],
                "target": "pills.test",
                "subdomains": False,
                "action": "block",
                "reason": "seen on a forum",
            },
        ),
        201,
    )
    assert named["scope"] == "exact"
    bad = {"category": "drugs", "target": "a.test", "action": "block"}
    await error(client.post(f"{API}/entries", headers=staff, json=bad), 422, "ValidationError")
    bad["reason"] = "r"
    bad["source_id"] = source["id"]
    await error(client.post(f"{API}/entries", headers=staff, json=bad), 400, "InvalidEntry")
    await error(
        client.post(
            f"{API}/entries",
            headers=staff,
            json={"source_id": UNKNOWN, "target": "a.test", "action": "block", "reason": "r"},
        ),
        404,
        "SourceNotFound",
    )

    page = await ok(
        client.get(f"{API}/entries", headers=staff, params={"suffix": "test", "limit": 2})
    )
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await ok(
        client.get(
            f"{API}/entries",
            headers=staff,
            params={"suffix": "test", "cursor": page["next_cursor"]},
        )
    )
    assert {e["host"] for e in page["items"] + rest["items"]} == {
        "weed.test",
        "pills.test",
        "forum.test",
    }
    await error(client.get(f"{API}/entries?cursor=garbage", headers=staff), 400, "InvalidCursor")
    await error(client.get(f"{API}/entries?category=nope", headers=staff), 404, "CategoryNotFound")

    removed = await ok(
        client.request(
            "DELETE", f"{API}/entries/{named['id']}", headers=staff, json={"reason": "typo"}
        )
    )
    assert (removed["state"], removed["removal_reason"]) == ("removed", "typo")
    await error(
        client.request(
            "DELETE", f"{API}/entries/{named['id']}", headers=staff, json={"reason": "again"}
        ),
        404,
        "EntryNotFound",
    )
    await error(
        client.request("DELETE", f"{API}/entries/{added['id']}", headers=staff, json={}),
        422,
        "ValidationError",
    )
    history = await ok(client.get(f"{API}/entries/{named['id']}", headers=staff))
    assert history["rows"][0]["removed_by"] == removed["removed_by"]
    assert (history["imported"], history["live_in"]) == (None, [])
    for method in ("GET", "DELETE"):
        await error(
            client.request(method, f"{API}/entries/{UNKNOWN}", headers=staff, json={"reason": "r"}),
            404,
            "EntryNotFound",
        )
    actions = [e["action"] for e in await audit_actions(client, staff)]
    assert (actions.count("curation.entry_added"), actions.count("curation.entry_removed")) == (
        2,
        1,
    )


async def test_versions(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    await error(client.post(f"{API}/versions", headers=staff, json={}), 409, "NothingToPublish")
    source = await new_source(client, staff)
    await ok(upload(client, staff, source["id"], b"a.test\nb.test\n"), 201)
    one = await ok(client.post(f"{API}/versions", headers=staff, json={"note": "first"}), 201)
    assert (one["number"], one["note"], one["counts"]["rules"]) == (1, "first", 2)
    assert one["sources"] == [{"id": source["id"], "name": "drugs-list", "category": "drugs"}]
    await error(client.post(f"{API}/versions", headers=staff, json={}), 409, "NothingToPublish")
    await ok(upload(client, staff, source["id"], b"b.test\nc.test\n"), 201)
    await ok(client.post(f"{API}/versions", headers=staff, json={}), 201)

    diff = await ok(client.get(f"{API}/versions/2/diff", headers=staff))
    assert (diff["base"], diff["added_total"], diff["removed_total"]) == (1, 1, 1)
    assert [(r["host"], r["source_name"]) for r in diff["added"]] == [("c.test", "drugs-list")]
    assert [r["host"] for r in diff["removed"]] == ["a.test"]
    everything = await ok(client.get(f"{API}/versions/2/diff?base=0&limit=1", headers=staff))
    assert (everything["added_total"], len(everything["added"])) == (2, 1)
    await error(client.get(f"{API}/versions/9/diff", headers=staff), 404, "VersionNotFound")
    await error(client.get(f"{API}/versions/2/diff?base=7", headers=staff), 404, "VersionNotFound")
    await error(client.get(f"{API}/versions/9", headers=staff), 404, "VersionNotFound")
    await error(client.post(f"{API}/versions/9/rollback", headers=staff), 404, "VersionNotFound")
    await error(client.post(f"{API}/versions/2/rollback", headers=staff), 409, "NothingToPublish")

    back = await ok(client.post(f"{API}/versions/1/rollback", headers=staff), 201)
    assert (back["number"], back["rolled_back_to"]) == (3, 1)
    listed = await ok(client.get(f"{API}/versions?limit=2", headers=staff))
    assert [v["number"] for v in listed["items"]] == [3, 2]
    older = await ok(client.get(f"{API}/versions?before=2", headers=staff))
    assert [v["number"] for v in older["items"]] == [1]
    source_now = await ok(client.get(f"{API}/sources/{source['id']}", headers=staff))
    assert source_now["published"]
    await error(
        client.delete(f"{API}/sources/{source['id']}", headers=staff), 409, "SourcePublished"
    )
    events = await audit_actions(client, staff)
    published = [e for e in events if e["action"] == "curation.version_published"]
    assert sorted(e["subject_id"] for e in published) == ["1", "2"]
    [rollback] = [e for e in events if e["action"] == "curation.version_rolled_back"]
    assert (rollback["subject_id"], rollback["details"]) == ("3", {"to": 1})


async def test_from_a_real_list_to_a_verdict_and_back(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    source = await new_source(client, staff, name="blp-drugs")
    text = (BLOCKLISTS / "blocklistproject" / "drugs.adguard.txt").read_bytes()
    imported = await ok(upload(client, staff, source["id"], text), 201)
    assert imported["report"]["format"] == "adblock"
    assert imported["added"] > 26_000
    await ok(client.post(f"{API}/versions", headers=staff, json={"note": "import"}), 201)

    blocked = await check(client, staff, "https://shop.0830bbs.com/cart")
    assert (blocked["action"], blocked["version"]) == ("block", "1")
    assert blocked["categories"] == ["drugs"]
    assert blocked["rule"]["host"] == "0830bbs.com"
    assert (blocked["rule"]["source_name"], blocked["rule"]["version"]) == ("blp-drugs", "1")
    assert blocked["rule"]["source_id"] == source["id"]

    page = await ok(
        client.get(
            f"{API}/entries", headers=staff, params={"suffix": "0830bbs.com", "state": "live"}
        )
    )
    [entry] = page["items"]
    await ok(
        client.request(
            "DELETE",
            f"{API}/entries/{entry['id']}",
            headers=staff,
            json={"reason": "a forum about bicycles"},
        )
    )
    await ok(client.post(f"{API}/versions", headers=staff, json={"note": "false positive"}), 201)
    allowed = await check(client, staff, "https://shop.0830bbs.com/cart")
    assert (allowed["action"], allowed["version"], allowed["rule"]) == ("allow", "2", None)

    await ok(client.post(f"{API}/versions/1/rollback", headers=staff), 201)
    again = await check(client, staff, "https://shop.0830bbs.com/cart")
    assert (again["action"], again["version"]) == ("block", "3")
    assert again["rule"]["source_name"] == "blp-drugs"

    history = await ok(client.get(f"{API}/entries/{entry['id']}", headers=staff))
    assert [(r["added_in"], r["removed_in"]) for r in history["rows"]] == [(1, 2), (3, None)]
    assert history["rows"][0]["removal_reason"] == "a forum about bicycles"
    assert history["imported"]["id"] == imported["id"]
    assert history["live_in"] == [{"first": 1, "last": 1}, {"first": 3, "last": None}]


async def test_the_worker_refreshes_due_sources_and_a_feed_publishes_itself(
    client: httpx.AsyncClient,
    runtime: Runtime,
    staff: dict[str, str],
    server: ListServer,
    clock: FrozenClock,
) -> None:
    server.publish(
        ["0.0.0.0 phish.test"], etag='"a"', last_modified="Tue, 24 Nov 2026 10:00:00 GMT"
    )
    await new_source(
        client,
        staff,
        name="feed",
        category="malware_phishing",
        kind="url",
        url=server.url,
        refresh_interval_seconds=3600,
        auto_publish=True,
    )
    first = await refresh_due_sources(runtime)
    assert (first.outcomes, first.published) == ({"feed": "updated"}, [1])
    assert runtime.snapshots.version == "1"
    assert (await check(client, staff, "phish.test"))["action"] == "block"

    assert await refresh_due_sources(runtime) == type(first)({}, [])  # not due yet
    clock.advance(timedelta(hours=1))
    server.status = 503
    failed = await refresh_due_sources(runtime)
    assert failed.outcomes == {"feed": "failed"}
    clock.advance(timedelta(minutes=15))  # retried sooner than the interval
    server.status = 200
    server.publish(
        ["0.0.0.0 phish2.test"], etag='"b"', last_modified="Wed, 25 Nov 2026 10:00:00 GMT"
    )
    second = await refresh_due_sources(runtime)
    assert (second.outcomes, second.published) == ({"feed": "updated"}, [2])
    assert (await check(client, staff, "phish.test"))["action"] == "allow"
    assert (await check(client, staff, "phish2.test"))["version"] == "2"

    events = await audit_actions(client, staff)
    refreshes = [(e["action"], e["actor_type"]) for e in events if "refresh" in e["action"]]
    assert refreshes == [
        ("curation.source_refreshed", "system"),
        ("curation.source_refresh_failed", "system"),
        ("curation.source_refreshed", "system"),
    ]
