"""The block page server and "ask my parent", end to end: a line bound through the carrier API,
the page requested from that line's address, the request filed, decided and expiring."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from filters.blockpage.texts import TEXTS
from filters.reports.models import FilterReport, FilterReportSubmission
from filters.unblock.events import UnblockRequested
from filters.unblock.models import UnblockRequest
from parental.blockpage import create_blockpage_app
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from tests.parental.factories import FamilyWorld, publish_lists

CHILD_IP = "10.20.30.40"
STRANGER_IP = "192.0.2.77"
ASK = "/.child-sim/ask"
REPORT = "/.child-sim/report"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(limit_unblock_requests_per_line="3/hour")


async def publish_blocked(runtime: Runtime) -> None:
    """Version 1: pills.test in drugs, cut.test in self_harm."""
    await publish_lists(
        runtime, {"drugs": ["127.0.0.1 pills.test"], "self_harm": ["127.0.0.1 cut.test"]}
    )


@pytest.fixture
async def published(runtime: Runtime) -> None:
    await publish_blocked(runtime)


@pytest.fixture
async def bound(client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld) -> None:
    """The family's child line holds CHILD_IP."""
    response = await client.post(
        "/carrier/v1/bindings",
        headers=carrier,
        json={"msisdn": family.line, "ip": CHILD_IP, "event": "start", "session_id": "s1"},
    )
    assert response.status_code in (200, 201), response.text


@asynccontextmanager
async def page_client(runtime: Runtime, source: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser at ``source`` talking to the block page server (started after the binding,
    so its index has it)."""
    app = create_blockpage_app(runtime)
    transport = httpx.ASGITransport(app=app, client=(source, 51000))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://pills.test") as c,
    ):
        yield c


def form_of(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'name="(host|token|lang)" value="([^"]*)"', page))
    return {k: html.unescape(v) for k, v in fields.items()}


async def verdict(client: httpx.AsyncClient, family: FamilyWorld, host: str) -> str:
    response = await client.post(
        "/v1/filter/check", headers=family.device_headers, json={"items": [host]}
    )
    assert response.status_code == 200, response.text
    action: str = response.json()["results"][0]["action"]
    return action


async def count(runtime: Runtime, model: type[object]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_page_speaks_the_childs_language_and_names_the_category(
    runtime: Runtime, published: None, bound: None
) -> None:
    async with page_client(runtime, CHILD_IP) as page:
        ru = await page.get("/some/path?q=1", headers={"Accept-Language": "ru-RU,en;q=0.5"})
        kk = await page.get("/")
        en = await page.get("/", headers={"Accept-Language": "en-GB"})
    assert ru.status_code == 403
    assert ru.headers["content-type"].startswith("text/html")
    assert ru.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in ru.headers["content-security-policy"]
    assert '<html lang="ru">' in ru.text
    assert "Наркотики" in ru.text
    assert "Продажа и пропаганда наркотиков." in ru.text
    assert '<span class="host">pills.test</span>' in ru.text
    assert 'action="/.child-sim/ask"' in ru.text
    assert '<html lang="kk">' in kk.text
    assert "Есірткі" in kk.text
    assert "Drugs" in en.text


async def test_self_harm_shows_the_help_line(
    runtime: Runtime, published: None, bound: None
) -> None:
    async with page_client(runtime, CHILD_IP) as page:
        response = await page.get("/", headers={"Host": "cut.test", "Accept-Language": "ru"})
    assert '<a href="tel:150">150</a>' in response.text
    assert "Национальный телефон доверия" in response.text
    assert TEXTS["because"]["ru"] not in response.text


async def test_hostile_host_headers_print_nothing_raw(runtime: Runtime, published: None) -> None:
    async with page_client(runtime, STRANGER_IP) as page:
        for host in ('"><script>alert(1)</script>', "evil.test<svg onload=x>", "[::1]:80"):
            response = await page.get("/", headers={"Host": host})
            assert response.status_code == 200
            assert "<script>alert" not in response.text
            assert "<svg" not in response.text
            assert TEXTS["about"]["kk"] in response.text
        own = await page.get("/", headers={"Host": "block.child-sim.invalid"})
    assert own.status_code == 200
    assert TEXTS["about"]["kk"] in own.text


async def test_an_unknown_source_gets_the_default_profile_and_cannot_ask(
    runtime: Runtime, published: None, bound: None
) -> None:
    async with page_client(runtime, STRANGER_IP) as page:
        shown = await page.get("/", headers={"Accept-Language": "en"})
        assert "Drugs" in shown.text
        assert ASK not in shown.text
        assert html.escape(TEXTS["no_child"]["en"]) in shown.text
        refused = await page.post(ASK, data=form_of(shown.text))
    assert refused.status_code == 403
    assert html.escape(TEXTS["no_child"]["en"]) in refused.text
    assert await count(runtime, UnblockRequest) == 0


async def test_ask_my_parent_end_to_end(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
    bound: None,
) -> None:
    heard: list[UnblockRequested] = []

    async def hear(event: UnblockRequested) -> None:
        heard.append(event)

    runtime.bus.subscribe(UnblockRequested, hear)
    async with page_client(runtime, CHILD_IP) as page:
        shown = await page.get("/", headers={"Accept-Language": "en"})
        asked = await page.post(ASK, data=form_of(shown.text))
        again = await page.post(ASK, data=form_of(shown.text))  # grouped into the open one
    assert asked.status_code == 200, asked.text
    assert html.escape(TEXTS["asked"]["en"]) in asked.text
    assert again.status_code == 200
    assert [(e.host, e.category, e.ask_count) for e in heard] == [
        ("pills.test", "drugs", 1),
        ("pills.test", "drugs", 2),
    ]

    listed = await client.get(
        f"/v1/children/{family.child_id}/unblock-requests", headers=family.guardian.headers
    )
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert (item["host"], item["category"], item["status"], item["ask_count"]) == (
        "pills.test",
        "drugs",
        "open",
        2,
    )
    assert await verdict(client, family, "pills.test") == "block"

    url = f"/v1/children/{family.child_id}/unblock-requests/{item['id']}/decision"
    decided = await client.post(
        url, headers=family.guardian.headers, json={"decision": "allow_once"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "allowed"
    assert decided.json()["allowed_until"].startswith("2026-11-25T10:00:00")
    profile = await client.get(
        f"/v1/children/{family.child_id}/filter-profile", headers=family.guardian.headers
    )
    assert [(e["host"], e["action"], e["scope"]) for e in profile.json()["entries"]] == [
        ("pills.test", "allow", "exact")
    ]
    assert await verdict(client, family, "pills.test") == "allow"
    async with page_client(runtime, CHILD_IP) as page:  # the phone's DNS cache still says here
        stale = await page.get("/", headers={"Accept-Language": "en"})
    assert stale.status_code == 200
    assert TEXTS["now_open"]["en"] in stale.text

    twice = await client.post(url, headers=family.guardian.headers, json={"decision": "deny"})
    assert twice.status_code == 409
    assert twice.json()["error"] == "UnblockRequestAlreadyDecided"

    seen = await client.get("/v1/device/unblock-requests", headers=family.device_headers)
    assert [(i["host"], i["decision"]) for i in seen.json()["items"]] == [
        ("pills.test", "allow_once")
    ]
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    actions = [e["action"] for e in events.json()["items"]]
    assert "filter.unblock_requested" in actions
    assert "filter.unblock_decided" in actions

    clock.advance(timedelta(minutes=61))
    assert await verdict(client, family, "pills.test") == "block"


async def test_the_form_token_is_bound_to_name_line_and_time(
    runtime: Runtime, clock: FrozenClock, published: None, bound: None
) -> None:
    async with page_client(runtime, CHILD_IP) as page:
        form = form_of((await page.get("/")).text)
        tampered = await page.post(ASK, data={**form, "token": form["token"][:-1] + "x"})
        other_name = await page.post(ASK, data={**form, "host": "cut.test"})
        missing = await page.post(ASK, data={"host": "pills.test"})
        clock.advance(timedelta(seconds=runtime.settings.blockpage_token_ttl_seconds))
        expired = await page.post(ASK, data=form)
    async with page_client(runtime, STRANGER_IP) as elsewhere:
        clock.advance(timedelta(seconds=-10))
        other_line = await elsewhere.post(ASK, data=form)
    for response in (tampered, other_name, missing, expired, other_line):
        assert response.status_code == 403
    assert TEXTS["expired"]["kk"] in tampered.text
    assert await count(runtime, UnblockRequest) == 0


async def test_asking_is_limited_per_line(runtime: Runtime, published: None, bound: None) -> None:
    async with page_client(runtime, CHILD_IP) as page:
        statuses = []
        for host in ("pills.test", "cut.test", "pills.test", "cut.test"):
            form = form_of((await page.get("/", headers={"Host": host})).text)
            statuses.append((await page.post(ASK, data=form)).status_code)
    assert statuses == [200, 200, 200, 429]
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(UnblockRequest).order_by(UnblockRequest.host)))
    assert [(r.host, r.ask_count) for r in rows] == [("cut.test", 1), ("pills.test", 2)]


async def test_a_mistake_is_reported_without_personal_data(
    runtime: Runtime, published: None, bound: None
) -> None:
    async with page_client(runtime, CHILD_IP) as page:
        form = form_of((await page.get("/", headers={"Accept-Language": "ru"})).text)
        response = await page.post(REPORT, data=form)
    assert response.status_code == 202
    assert TEXTS["reported"]["ru"] in response.text
    async with runtime.sessions() as session:
        report = await session.scalar(select(FilterReport))
        submission = await session.scalar(select(FilterReportSubmission))
    assert report is not None
    assert submission is not None
    assert (report.kind, report.host, report.verdict_category) == (
        "wrongly_blocked",
        "pills.test",
        "drugs",
    )
    assert (submission.reporter_type, submission.reporter_id, submission.child_id) == (
        "block_page",
        None,
        None,
    )


async def ask_once(runtime: Runtime, host: str) -> None:
    async with page_client(runtime, CHILD_IP) as page:
        form = form_of((await page.get("/", headers={"Host": host})).text)
        assert (await page.post(ASK, data=form)).status_code == 200


async def test_decisions_for_a_time_always_or_deny(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    published: None,
    bound: None,
) -> None:
    await ask_once(runtime, "pills.test")
    await ask_once(runtime, "cut.test")
    base = f"/v1/children/{family.child_id}/unblock-requests"
    items = {
        i["host"]: i["id"]
        for i in (await client.get(base, headers=family.guardian.headers)).json()["items"]
    }
    headers = family.guardian.headers
    bad = [
        {"decision": "allow_for"},
        {"decision": "allow_for", "duration_minutes": 30, "until": "2026-11-26T00:00:00Z"},
        {"decision": "allow_for", "until": "2026-11-24T00:00:00Z"},
        {"decision": "deny", "duration_minutes": 30},
    ]
    for body in bad:
        response = await client.post(
            f"{base}/{items['pills.test']}/decision", headers=headers, json=body
        )
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] == "InvalidUnblockDecision"
    timed = await client.post(
        f"{base}/{items['pills.test']}/decision",
        headers=headers,
        json={"decision": "allow_for", "duration_minutes": 30},
    )
    assert timed.json()["allowed_until"].startswith("2026-11-25T09:30:00")
    denied = await client.post(
        f"{base}/{items['cut.test']}/decision", headers=headers, json={"decision": "deny"}
    )
    assert denied.json()["status"] == "denied"
    assert await verdict(client, family, "cut.test") == "block"

    await ask_once(runtime, "cut.test")  # a new request: the denied one is closed
    listed = (await client.get(base, headers=headers)).json()["items"]
    assert sorted((i["host"], i["status"]) for i in listed) == [
        ("cut.test", "denied"),
        ("cut.test", "open"),
        ("pills.test", "allowed"),
    ]
    (fresh,) = [i for i in listed if i["status"] == "open"]
    always = await client.post(
        f"{base}/{fresh['id']}/decision", headers=headers, json={"decision": "allow_always"}
    )
    assert always.json()["allowed_until"] is None
    assert await verdict(client, family, "cut.test") == "allow"
    unknown = await client.post(
        f"{base}/00000000-0000-4000-8000-000000000000/decision",
        headers=headers,
        json={"decision": "deny"},
    )
    assert unknown.status_code == 404


async def test_requests_are_purged_after_their_retention(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    published: None,
    bound: None,
) -> None:
    await ask_once(runtime, "pills.test")
    days = runtime.settings.unblock_request_retention_days
    clock.advance(timedelta(days=days - 1))
    assert (await purge_expired(runtime)).unblock_requests == 0
    clock.advance(timedelta(days=2))
    assert (await purge_expired(runtime)).unblock_requests == 1
    assert await count(runtime, UnblockRequest) == 0
