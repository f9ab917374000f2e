"""``/v1/filter/check`` answered by the framework-free path, and everything it hands back to
the documented route: the answers and errors are the same either way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld
from tests.parental.test_filtering import publish

ITEMS = ["https://WWW.Weed.test/shop?x=1", "help.weed.test", "pills.test", "ok.test"]


@pytest.fixture
async def published(runtime: Runtime) -> None:
    await publish(runtime)


async def answers(
    client: httpx.AsyncClient, headers: dict[str, str], runtime: Runtime
) -> list[Any]:
    """The same requests with the fast path caching (it answers) and not (the route does)."""
    out = []
    for ttl in (1.0, 0.0):
        runtime.subjects.clear()
        runtime.subjects.ttl = ttl
        post = await client.post("/v1/filter/check", headers=headers, json={"items": ITEMS})
        get = await client.get("/v1/filter/check", headers=headers, params={"url": ITEMS[0]})
        out.append((post.status_code, post.json(), get.status_code, get.json()))
    return out


async def test_the_fast_path_answers_exactly_as_the_route(
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    family: FamilyWorld,
    published: None,
) -> None:
    for headers in (carrier, family.device_headers):
        fast, slow = await answers(client, headers, runtime)
        assert fast == slow
        assert fast[0] == 200
        assert [r["action"] for r in fast[1]["results"]] == ["block", "allow", "block", "allow"]


async def test_the_fast_path_remembers_callers_for_a_moment(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], published: None
) -> None:
    runtime.subjects.clear()
    response = await client.get("/v1/filter/check", headers=carrier, params={"url": "a.test"})
    assert response.status_code == 200
    # Only the fast path fills the cache: it answered.
    assert len(runtime.subjects) == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"json": {"items": ["a.test"]}}, 401, "InvalidFilterCaller"),
        ({"json": {"items": ["a.test"]}, "auth": "Bearer sk_nope"}, 401, "InvalidFilterCaller"),
        ({"json": {"items": ["a.test"]}, "auth": "Basic eDp5"}, 401, "InvalidFilterCaller"),
        ({"json": {"items": ["ok.test", "a..b"]}}, 400, "InvalidItem"),
        ({"json": {"items": []}}, 422, "ValidationError"),
        ({"json": {"items": ["a.test"] * 1001}}, 422, "ValidationError"),
        ({"json": {"items": ["x" * 4097]}}, 422, "ValidationError"),
        ({"json": {"items": ["a.test"], "extra": 1}}, 422, "ValidationError"),
        ({"json": {"items": [1]}}, 422, "ValidationError"),
        ({"json": {"items": ["a.test"], "profile": "nope"}}, 404, "ProfileNotFound"),
        ({"json": {"items": ["a.test"], "profile": 5}}, 422, "ValidationError"),
        ({"json": ["a.test"]}, 422, "ValidationError"),
        ({"content": b"{not json", "type": "application/json"}, 422, "ValidationError"),
    ],
)
async def test_what_the_fast_path_cannot_answer_gets_the_routes_error(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    published: None,
    kwargs: dict[str, Any],
    status: int,
    error: str,
) -> None:
    headers = dict(carrier)
    if "auth" in kwargs:
        headers["Authorization"] = kwargs["auth"]
    elif kwargs == {"json": {"items": ["a.test"]}}:
        headers = {}
    if "type" in kwargs:
        headers["Content-Type"] = kwargs["type"]
    body = {k: v for k, v in kwargs.items() if k in ("json", "content")}
    response = await client.post("/v1/filter/check", headers=headers, **body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


async def test_get_errors_and_no_published_version(
    client: httpx.AsyncClient, carrier: dict[str, str]
) -> None:
    nothing = await client.get("/v1/filter/check", headers=carrier, params={"url": "a.test"})
    assert nothing.status_code == 503
    assert nothing.json()["error"] == "NoPublishedVersion"
    for params in ({}, {"url": ""}, {"url": "a.test", "profile": "p" * 65}):
        response = await client.get("/v1/filter/check", headers=carrier, params=params)
        assert response.status_code == 422, params


async def test_a_body_over_the_limit_is_refused_before_the_fast_path(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], published: None
) -> None:
    items = ["a" * 4000 + ".test"] * 300  # about 1.2 MB
    response = await client.post("/v1/filter/check", headers=carrier, json={"items": items})
    assert response.status_code == 413
