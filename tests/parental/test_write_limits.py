"""Rate limits on every write (issue 9): each POST, PUT, PATCH and DELETE either counts limits
of its own (``OWN_LIMITS``, and a real request proves it counts them) or the general per-caller
write limit (proved on every one of them), answered 429 with Retry-After; commands answer their
quotas the same way."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from parental import write_limits
from parental.app import create_app
from parental.kit.ratelimit import RateLimiter, Rule
from parental.runtime import Runtime
from tests.conftest import api_client
from tests.parental.factories import FamilyWorld, sign_in, staff_headers
from tests.parental.test_authorization import PUSH_TOKEN, ROUTES

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def write_routes() -> set[tuple[str, str]]:
    spec = create_app().openapi()
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method.upper() in WRITES
    }


def generally_limited() -> list[tuple[str, str]]:
    exempt = write_limits.OWN_LIMITS.keys() | write_limits.NOT_WRITES.keys()
    return sorted(write_routes() - exempt)


def concrete(path: str) -> str:
    url = re.sub(r"\{(\w+)\}", "00000000-0000-4000-8000-000000000000", path)
    return url.replace("/lines/00000000-0000-4000-8000-000000000000", "/lines/+77070000001")


def test_every_write_is_limited_one_way_or_the_other() -> None:
    routes = write_routes()
    own, reads = write_limits.OWN_LIMITS.keys(), write_limits.NOT_WRITES.keys()
    assert own - routes == set(), "OWN_LIMITS names routes that no longer exist"
    assert reads - routes == set(), "NOT_WRITES names routes that no longer exist"
    assert own & reads == set()
    assert len(generally_limited()) > 50  # the rest: the general limit, proved below


def test_the_openapi_document_shows_the_429_of_every_write() -> None:
    spec = create_app().openapi()
    for method, path in write_routes() - write_limits.NOT_WRITES.keys():
        assert "429" in spec["paths"][path][method.lower()]["responses"], (method, path)


def lower_limits(runtime: Runtime) -> None:
    """Two writes a minute per caller, one ring an hour; set once the fixtures have written,
    and with the counts so far forgotten."""
    runtime.settings = runtime.settings.model_copy(
        update={"limit_writes_per_caller": "2/minute", "command_quota_ring": "1/hour"}
    )


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["error"] == "TooManyRequests"
    assert body["retry_after"] == int(response.headers["retry-after"])


async def test_the_general_limit_answers_every_other_write(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Each route gets a credential of its own (an unknown token is counted by its hash), so
    each is proved to count: the third write is refused before anything else is looked at."""
    lower_limits(runtime)
    routes = generally_limited()
    assert routes
    for method, path in routes:
        headers = {"Authorization": f"Bearer unknown-{uuid.uuid4().hex}"}
        body = ROUTES[(method, path)].body or None
        for _ in range(2):
            allowed = await client.request(method, concrete(path), headers=headers, json=body)
            assert allowed.status_code != 429, (method, path, allowed.text)
        refused = await client.request(method, concrete(path), headers=headers, json=body)
        assert refused.status_code == 429, (method, path, refused.text)
        assert_limited(refused)


async def test_a_subject_shares_its_allowance_across_tokens_and_routes(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    lower_limits(runtime)
    await runtime.limiter.reset()  # the fixtures' writes were counted under the default
    again = await sign_in(client, runtime, family.guardian.phone)  # a second access token
    assert again.access_token != family.guardian.access_token
    first = await client.patch("/v1/me", headers=family.guardian.headers, json={"locale": "kk"})
    assert first.status_code == 200, first.text
    second = await client.post("/v1/families", headers=again.headers, json={"name": "Second"})
    assert second.status_code in (201, 409), second.text
    refused = await client.patch("/v1/me", headers=again.headers, json={"locale": "en"})
    assert_limited(refused)
    me = await client.get("/v1/me", headers=family.guardian.headers)  # reads are not counted
    assert me.status_code == 200
    assert me.json()["locale"] == "kk"  # the refused write changed nothing
    other = await client.patch(
        "/v1/me", headers=other_family.guardian.headers, json={"locale": "en"}
    )
    assert other.status_code == 200, other.text


async def test_devices_carriers_and_staff_are_counted_each(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, carrier: dict[str, str]
) -> None:
    staff = await staff_headers(client, runtime)
    lower_limits(runtime)
    await runtime.limiter.reset()
    beat = {"battery_pct": 50, "charging": False, "app_version": "1.0.0"}
    for _ in range(2):
        ok = await client.post("/v1/device/heartbeat", headers=family.device_headers, json=beat)
        assert ok.status_code in (200, 204), ok.text
    assert_limited(
        await client.post("/v1/device/heartbeat", headers=family.device_headers, json=beat)
    )
    line = {"guardian_phone": "+77015550999", "is_child_sim": True}
    for number in ("+77070000011", "+77070000012"):
        ok = await client.put(f"/carrier/v1/lines/{number}", headers=carrier, json=line)
        assert ok.status_code in (200, 201), ok.text
    assert_limited(await client.put("/carrier/v1/lines/+77070000013", headers=carrier, json=line))
    unknown = await client.get("/carrier/v1/lines/+77070000013", headers=carrier)
    assert unknown.status_code == 404  # the refused write stored nothing
    category = {"key": "limited", "name": "Limited"}
    for _ in range(2):
        await client.post("/admin/v1/filter/categories", headers=staff, json=category)
    assert_limited(await client.post("/admin/v1/filter/categories", headers=staff, json=category))


async def test_commands_answer_their_quota_with_retry_after(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    lower_limits(runtime)
    url = f"/v1/children/{family.child_id}/commands"
    first = await client.post(url, headers=family.guardian.headers, json={"kind": "ring"})
    assert first.status_code in (201, 202), first.text
    over = await client.post(url, headers=family.guardian.headers, json={"kind": "ring"})
    assert over.status_code == 429, over.text
    assert int(over.headers["retry-after"]) >= 1
    assert over.json()["error"] == "CommandOverQuota"


class Recorder(RateLimiter):
    """The runtime's limiter, noting the rules it is asked to count."""

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner
        self.rules: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def hit(self, rule: Rule, *identifiers: str, detail: str | None = None) -> None:
        self.rules.append(rule.name)
        await self.inner.hit(rule, *identifiers, detail=detail)


@pytest.fixture
async def recording(runtime: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, Recorder]]:
    recorder = Recorder(runtime.limiter)
    runtime.limiter = recorder
    try:
        async with api_client(runtime) as c:
            yield c, recorder
    finally:
        runtime.limiter = recorder.inner


def own_limit_requests() -> dict[tuple[str, str], tuple[str | None, Any]]:
    """A request each route of ``OWN_LIMITS`` takes far enough to count its rules: the
    caller (None: none) and the body."""
    fixes = ROUTES[("POST", "/v1/device/locations")].body
    usage = ROUTES[("POST", "/v1/device/usage")].body
    return {
        ("POST", "/v1/auth/sign-in-codes"): (None, {"phone": "+77015550111", "locale": "ru"}),
        ("POST", "/v1/auth/tokens"): (None, {"phone": "+77015550111", "code": "000000"}),
        ("POST", "/v1/device/pair"): (
            None,
            {"code": "ABCDEFGHJK", "name": "Phone", "platform": "android"},
        ),
        ("POST", "/admin/v1/auth/tokens"): (None, {"username": "nobody", "password": "wrong"}),
        ("POST", "/v1/children/{child_id}/filter-reports"): (
            "guardian",
            {"kind": "should_be_blocked", "target": "casino.test"},
        ),
        ("POST", "/v1/device/filter-reports"): (
            "device",
            {"kind": "wrongly_blocked", "target": "school.test"},
        ),
        ("POST", "/v1/filter/reports"): (
            None,
            {"kind": "wrongly_blocked", "target": "school.test"},
        ),
        ("PUT", "/v1/push-tokens"): ("guardian", PUSH_TOKEN),
        ("DELETE", "/v1/push-tokens/{token_id}"): ("guardian", None),
        ("POST", "/v1/device/locations"): ("device", fixes),
        ("POST", "/v1/device/usage"): ("device", usage),
        ("POST", "/v1/device/messages"): ("device", {}),
        ("POST", "/v1/device/screen-time/requests"): ("device", {}),
        ("POST", "/v1/device/screen-time/tasks/{task_id}/done"): ("device", None),
    }


async def test_routes_with_limits_of_their_own_count_them_and_not_the_general_one(
    recording: tuple[httpx.AsyncClient, Recorder], family: FamilyWorld
) -> None:
    client, recorder = recording
    requests = own_limit_requests()
    assert requests.keys() == write_limits.OWN_LIMITS.keys()
    callers = {"guardian": family.guardian.headers, "device": family.device_headers, None: {}}
    for (method, path), (caller, body) in requests.items():
        url = concrete(path.replace("{child_id}", family.child_id))
        recorder.rules.clear()
        response = await client.request(method, url, headers=callers[caller], json=body)
        assert response.status_code < 500, (method, path, response.text)
        declared = write_limits.OWN_LIMITS[(method, path)]
        assert set(declared) <= set(recorder.rules), (method, path, recorder.rules)
        assert write_limits.RULE_NAME not in recorder.rules, (method, path)
