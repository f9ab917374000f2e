"""POST and GET /v1/filter/check against a published version, as each allowed caller."""

from __future__ import annotations

import httpx
import pytest

from filters.curation import publishing
from filters.curation import service as curation
from filters.engine.formats import parse
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld

ADBLOCK = ["||weed.test^", "@@||help.weed.test^"]
HOSTS = ["127.0.0.1 pills.test"]


async def publish(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await curation.seed_categories(session, now=now)
        source = await curation.create_source(
            session, name="drugs", category_key="drugs", kind="file", now=now
        )
        rules, report = parse(ADBLOCK)
        hosts, _ = parse(HOSTS)
        await curation.replace_rules(
            session, source, rules + hosts, report=report, actor="test", now=now
        )
        version = await publishing.publish(
            session, snapshot_path=runtime.snapshots.path_for_number, actor="test", now=now
        )
    await runtime.snapshots.publish(str(version.number), runtime.notices)


@pytest.fixture
async def published(runtime: Runtime) -> None:
    await publish(runtime)


async def test_the_carrier_checks_a_batch_in_order(
    client: httpx.AsyncClient, carrier: dict[str, str], published: None
) -> None:
    items = [
        "https://WWW.Weed.test/shop?x=1",
        "help.weed.test",
        "pills.test",
        "www.pills.test",
        "ok.test",
    ]
    response = await client.post("/v1/filter/check", headers=carrier, json={"items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == "1"
    assert [r["input"] for r in body["results"]] == items
    assert [r["action"] for r in body["results"]] == ["block", "allow", "block", "allow", "allow"]
    first = body["results"][0]
    assert first["normalized"] == "www.weed.test/shop"
    assert first["categories"] == ["drugs"]
    assert first["rule"] == {
        "host": "weed.test",
        "scope": "subtree",
        "path": "",
        "action": "block",
        "source_id": first["rule"]["source_id"],
        "source_name": "drugs",
        "version": "1",
    }
    assert body["results"][4]["rule"] is None


async def test_device_and_staff_may_check_and_parents_may_not(
    client: httpx.AsyncClient, family: FamilyWorld, staff: dict[str, str], published: None
) -> None:
    for headers in (family.device_headers, staff):
        response = await client.get(
            "/v1/filter/check", params={"url": "weed.test"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["action"] == "block"
    for headers in ({}, family.guardian.headers, {"Authorization": "Bearer sk_nope"}):
        response = await client.get(
            "/v1/filter/check", params={"url": "weed.test"}, headers=headers
        )
        assert response.status_code == 401
        assert response.json()["error"] == "InvalidFilterCaller"


async def test_bad_input_is_a_clear_error(
    client: httpx.AsyncClient, carrier: dict[str, str], published: None
) -> None:
    bad = await client.post(
        "/v1/filter/check", headers=carrier, json={"items": ["ok.test", "a..b", "x.test"]}
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "InvalidItem"
    assert bad.json()["detail"].startswith("items[1]:")
    too_many = await client.post(
        "/v1/filter/check", headers=carrier, json={"items": ["a.test"] * 1001}
    )
    assert too_many.status_code == 422
    empty = await client.post("/v1/filter/check", headers=carrier, json={"items": []})
    assert empty.status_code == 422
    unknown = await client.post(
        "/v1/filter/check", headers=carrier, json={"items": ["a.test"], "profile": "p1"}
    )
    assert unknown.status_code == 404


async def test_before_any_publish_the_service_says_so(
    client: httpx.AsyncClient, carrier: dict[str, str]
) -> None:
    response = await client.get("/v1/filter/check", params={"url": "a.test"}, headers=carrier)
    assert response.status_code == 503
    assert response.json()["error"] == "NoPublishedVersion"


async def test_a_new_version_is_answered_at_once(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], published: None
) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        source = await curation.create_source(
            session, name="more", category_key="gambling", kind="file", now=now
        )
        rules, report = parse(["casino.test"])
        await curation.replace_rules(session, source, rules, report=report, actor="t", now=now)
        version = await publishing.publish(
            session, snapshot_path=runtime.snapshots.path_for_number, actor="t", now=now
        )
    await runtime.snapshots.publish(str(version.number), runtime.notices)
    response = await client.get("/v1/filter/check", params={"url": "casino.test"}, headers=carrier)
    assert response.json()["version"] == "2"
    assert response.json()["results"][0]["categories"] == ["gambling"]
