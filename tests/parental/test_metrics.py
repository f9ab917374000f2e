"""Prometheus metrics (issue 9): ``/metrics`` after real requests, labelled by route template
and never by an id; the filter's verdicts, push results, purges, ingestion and the outbox
backlog counted where the work happens; the DNS front end's own counters.

The metrics are the process's (prometheus-client's default registry), shared by every test:
each test reads a value before and after, and checks the difference."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from filters.check.metrics import category_label
from filters.check.schemas import CheckResult
from filters.dns.frontend import FrontEndStats
from filters.dns.metrics import render
from filters.dns.server_metrics import front_end_metrics
from parental.app import FAST_PATTERNS
from parental.kit.clock import FrozenClock
from parental.kit.metrics import serve_metrics
from parental.kit.observe import UNMATCHED, ObservedRequests
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.metrics import BacklogGauges
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.worker import purge_expired
from tests.conftest import api_client
from tests.fakes import fcm as answers
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import FamilyWorld
from tests.parental.notifications.conftest import (
    add_phone,
    enqueue,
    fcm_token,
    fixed_token_sender,
    guardian,
    push_settings,
)
from tests.parental.test_filtering import publish

Labels = dict[str, str]


@pytest.fixture
def fcm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFcm]:
    """The fake FCM server, straight (as in tests/parental/notifications/conftest.py)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with FakeFcm().running() as server:
        yield server


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str, name: str) -> list[Labels]:
    """The label sets of ``name``'s samples in a scrape."""
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


async def test_requests_are_counted_by_route_template_never_by_id(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, carrier: dict[str, str]
) -> None:
    await publish(runtime)
    child = "/v1/children/{child_id}"
    before = value("parental_http_requests_total", route=child, method="GET", status="2xx")
    missing = value("parental_http_requests_total", route=UNMATCHED, method="GET", status="4xx")
    fast = value(
        "parental_http_requests_total", route="/v1/filter/check", method="GET", status="2xx"
    )

    for _ in range(3):
        response = await client.get(
            f"/v1/children/{family.child_id}", headers=family.guardian.headers
        )
        assert response.status_code == 200, response.text
    assert (await client.get(f"/nowhere/{family.child_id}")).status_code == 404
    runtime.subjects.clear()
    runtime.subjects.ttl = 1.0  # the fast path answers the second check (no framework route)
    for _ in range(2):
        checked = await client.get("/v1/filter/check", headers=carrier, params={"url": "a.test"})
        assert checked.status_code == 200, checked.text

    scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert (
        value("parental_http_requests_total", route=child, method="GET", status="2xx") == before + 3
    )
    assert (
        value("parental_http_requests_total", route=UNMATCHED, method="GET", status="4xx")
        == missing + 1
    )
    assert (
        value("parental_http_requests_total", route="/v1/filter/check", method="GET", status="2xx")
        == fast + 2
    )
    assert value("parental_http_request_duration_seconds_count", route=child, method="GET") >= 3
    labels = scraped(scrape.text, "parental_http_requests_total")
    assert {"route": child, "method": "GET", "status": "2xx"} in labels
    routes = " ".join(label["route"] for label in labels)
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", routes), routes  # no id is a label
    assert family.child_id not in scrape.text
    assert family.line not in scrape.text


async def test_a_fast_path_answer_is_labelled_by_its_template() -> None:
    """A fast path answers before the framework routes: the middleware names its template."""

    async def fast_answer(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    observed = ObservedRequests(fast_answer, fast_patterns=FAST_PATTERNS)
    template = "/v1/children/{child_id}/location"
    before = value("parental_http_requests_total", route=template, method="GET", status="2xx")
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    path = f"/v1/children/{uuid.uuid4()}/location"
    await observed({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)  # type: ignore[arg-type]
    assert (
        value("parental_http_requests_total", route=template, method="GET", status="2xx")
        == before + 1
    )


def verdict_counts() -> dict[tuple[str, str], float]:
    return {
        (sample.labels["action"], sample.labels["category"]): sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == "parental_filter_verdicts_total"
    }


async def test_a_filter_check_counts_its_verdicts_by_category(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> None:
    await publish(runtime)
    items = ["https://www.weed.test/shop", "pills.test", "ok.test", "help.weed.test"]
    results = []
    for ttl in (0.0, 1.0):  # the route, then the fast path: both count
        runtime.subjects.clear()
        runtime.subjects.ttl = ttl
        before = verdict_counts()
        response = await client.post("/v1/filter/check", headers=carrier, json={"items": items})
        assert response.status_code == 200, response.text
        results = [CheckResult(**{**r, "rule": None}) for r in response.json()["results"]]
        expected: dict[tuple[str, str], int] = {}
        for result in results:
            key = (result.action, category_label(result))
            expected[key] = expected.get(key, 0) + 1
        assert expected.get(("block", "drugs"), 0) >= 1
        for key, count in expected.items():
            assert verdict_counts().get(key, 0.0) == before.get(key, 0.0) + count, key


async def test_a_dispatch_counts_fcm_results_by_error(
    client: httpx.AsyncClient, runtime: Runtime, fcm: FakeFcm
) -> None:
    runtime.push = fixed_token_sender(runtime.settings)
    parent = await guardian(client, runtime)
    good, gone = fcm_token("good"), fcm_token("gone")
    await add_phone(client, parent, good)
    await add_phone(client, parent, gone)
    fcm.script(gone, answers.unregistered())
    delivered = value("parental_push_sends_total", result="delivered", error="none")
    unregistered = value(
        "parental_push_sends_total", result="token_gone", error="UnregisteredError"
    )

    await enqueue(runtime, parent.account_id, "metrics:1")
    report = await dispatch_round(runtime)

    assert report.sent == 1
    assert value("parental_push_sends_total", result="delivered", error="none") == delivered + 1
    assert (
        value("parental_push_sends_total", result="token_gone", error="UnregisteredError")
        == unregistered + 1
    )


async def test_the_outbox_backlog_is_measured_when_scraped(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    parent = await guardian(client, runtime)
    await enqueue(runtime, parent.account_id, "backlog:1")
    clock.advance(timedelta(seconds=90))
    await enqueue(runtime, parent.account_id, "backlog:2")

    await BacklogGauges(every=0).refresh(runtime)  # push is off here: the rows wait

    assert value("parental_push_outbox_pending") == 2
    assert value("parental_push_outbox_due") == 2
    assert value("parental_push_outbox_oldest_due_age_seconds") == 90


async def test_a_purge_counts_what_it_deleted_per_data_class(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": "+77015550123"})
    assert sent.status_code == 202, sent.text
    before = value("parental_purged_rows_total", data="codes_and_tokens")
    clock.advance(timedelta(days=3))

    report = await purge_expired(runtime)

    assert report.codes_and_tokens >= 1
    after = value("parental_purged_rows_total", data="codes_and_tokens")
    assert after == before + report.codes_and_tokens


async def test_uploads_count_their_items_by_outcome(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, clock: FrozenClock
) -> None:
    fix = {
        "fixed_at": clock.now().isoformat(),
        "latitude": 43.24,
        "longitude": 76.89,
        "accuracy_m": 20,
    }
    accepted = value("parental_ingested_items_total", kind="location_fixes", status="accepted")
    duplicate = value("parental_ingested_items_total", kind="location_fixes", status="duplicate")

    for _ in range(2):
        response = await client.post(
            "/v1/device/locations", headers=family.device_headers, json={"fixes": [fix]}
        )
        assert response.status_code == 200, response.text

    assert (
        value("parental_ingested_items_total", kind="location_fixes", status="accepted")
        == accepted + 1
    )
    assert (
        value("parental_ingested_items_total", kind="location_fixes", status="duplicate")
        == duplicate + 1
    )


@pytest.fixture
def other_settings(runtime: Runtime) -> Iterator[Runtime]:
    saved = runtime.settings
    yield runtime
    runtime.settings = saved


async def test_metrics_can_be_turned_off_or_need_a_token(other_settings: Runtime) -> None:
    runtime = other_settings
    runtime.settings = runtime.settings.model_copy(update={"metrics_enabled": False})
    async with api_client(runtime) as client:
        off = await client.get("/metrics")
        assert off.status_code == 404
        assert off.json()["error"] == "MetricsOff"

    runtime.settings = runtime.settings.model_copy(
        update={"metrics_enabled": True, "metrics_token": SecretStr("scrape-secret")}
    )
    async with api_client(runtime) as client:
        refused = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert refused.json()["error"] == "InvalidMetricsToken"
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert allowed.status_code == 200
        assert "parental_http_requests_total" in allowed.text


def test_the_dns_front_end_exports_queries_answers_and_verdicts() -> None:
    stats = FrontEndStats(queries=5)
    stats.rcodes.update({0: 3, 2: 1, 5: 1})
    blocked = CheckResult("x.test", "x.test", "block", ["adult"], None)
    stats.count_verdict(blocked, 4)
    stats.count_verdict(CheckResult("ok.test", "ok.test", "allow", [], None))

    text = render(front_end_metrics(stats))

    assert "parental_dns_queries_total 5" in text
    assert 'parental_dns_answers_total{rcode="NOERROR"} 3' in text
    assert 'parental_dns_answers_total{rcode="SERVFAIL"} 1' in text
    assert 'parental_dns_answers_total{rcode="REFUSED"} 1' in text
    assert 'parental_dns_verdicts_total{action="block",category="adult"} 4' in text
    assert 'parental_dns_verdicts_total{action="allow",category="none"} 1' in text


def test_the_workers_listener_serves_the_same_metrics(free_tcp_port: int) -> None:
    server, thread = serve_metrics("127.0.0.1", free_tcp_port)
    try:
        response = httpx.get(f"http://127.0.0.1:{free_tcp_port}/metrics", trust_env=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert response.status_code == 200
    assert "# TYPE parental_purged_rows_total counter" in response.text
