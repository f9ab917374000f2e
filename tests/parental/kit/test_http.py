"""Request hygiene: size limits, strict JSON bodies and JSON error bodies, with no side effects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from parental.runtime import Runtime
from parental.sms.sender import LogSmsSender
from tests.parental.factories import Guardian, sign_in

PHONE = "+77011234567"


@pytest.fixture
async def guardian(client: httpx.AsyncClient, runtime: Runtime) -> Guardian:
    return await sign_in(client, runtime, PHONE)


async def _family_id(client: httpx.AsyncClient, guardian: Guardian) -> str | None:
    me = await client.get("/v1/me", headers=guardian.headers)
    assert me.status_code == 200, me.text
    family_id: str | None = me.json()["family_id"]
    return family_id


def _oversized(runtime: Runtime) -> bytes:
    """A well-formed family body one byte over the limit."""
    limit = runtime.settings.max_body_bytes
    shell = json.dumps({"name": ""}).encode()
    body = json.dumps({"name": "x" * (limit + 1 - len(shell))}).encode()
    assert len(body) == limit + 1
    return body


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_declared_oversized_body_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, guardian: Guardian
) -> None:
    response = await client.post(
        "/v1/families",
        content=_oversized(runtime),
        headers={**guardian.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert str(runtime.settings.max_body_bytes) in response.json()["detail"]
    assert await _family_id(client, guardian) is None


async def test_streamed_oversized_body_without_length_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, guardian: Guardian
) -> None:
    request = client.build_request(
        "POST",
        "/v1/families",
        content=_chunks(_oversized(runtime)),
        headers={**guardian.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"

    response = await client.send(request)

    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert await _family_id(client, guardian) is None


async def test_a_body_at_the_limit_is_read(
    client: httpx.AsyncClient, runtime: Runtime, guardian: Guardian
) -> None:
    body = _oversized(runtime)[:-3] + b'"}'  # one "x" less: exactly at the limit
    assert len(body) == runtime.settings.max_body_bytes

    streamed = await client.post(
        "/v1/families",
        content=_chunks(body),
        headers={**guardian.headers, "Content-Type": "application/json"},
    )

    # Read in full and judged on its content (the name is too long), not refused for its size.
    assert streamed.status_code == 422
    assert streamed.json()["issues"][0]["loc"] == ["body", "name"]


async def test_a_declared_length_that_is_not_a_number_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/sign-in-codes",
        content=b'{"phone": "+77011234567"}',
        headers={"Content-Type": "application/json", "Content-Length": "lots"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


@pytest.mark.parametrize(
    ("content", "loc", "issue_type"),
    [
        pytest.param(
            b'{"name": "Family", "owner": "me"}',
            ["body", "owner"],
            "extra_forbidden",
            id="unknown-field",
        ),
        pytest.param(b'{"name": 123}', ["body", "name"], "string_type", id="wrong-type"),
        pytest.param(b'{"name": ["a"]}', ["body", "name"], "string_type", id="list-for-str"),
        pytest.param(b"{}", ["body", "name"], "missing", id="missing-field"),
        pytest.param(b'{"name": "Fam', ["body", 9], "json_invalid", id="malformed-json"),
    ],
)
async def test_invalid_bodies_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    guardian: Guardian,
    content: bytes,
    loc: list[str | int],
    issue_type: str,
) -> None:
    response = await client.post(
        "/v1/families",
        content=content,
        headers={**guardian.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "ValidationError"
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert [(i["loc"], i["type"]) for i in body["issues"]] == [(loc, issue_type)]
    assert await _family_id(client, guardian) is None
    # The same guardian with a valid body does get a family: the check above can fail.
    created = await client.post("/v1/families", headers=guardian.headers, json={"name": "Family"})
    assert created.status_code == 201, created.text
    assert await _family_id(client, guardian) == created.json()["id"]


async def test_an_unknown_field_in_a_public_body_is_refused_before_any_sms(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE, "debug": True})

    assert response.status_code == 422
    assert response.json()["issues"][0]["loc"] == ["body", "debug"]
    assert isinstance(runtime.sms, LogSmsSender)
    assert runtime.sms.last_to(PHONE) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nothing-here"), ("POST", "/v1/nothing-here"), ("GET", "/")],
)
async def test_unknown_route_is_a_json_404(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "NotFound", "detail": "Not Found"}


async def test_wrong_method_is_a_json_405_and_changes_nothing(
    client: httpx.AsyncClient, guardian: Guardian
) -> None:
    response = await client.delete("/v1/me", headers=guardian.headers)

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "MethodNotAllowed"
    assert "GET" in response.headers["allow"]
    me = await client.get("/v1/me", headers=guardian.headers)
    assert me.status_code == 200
    assert me.json()["id"] == guardian.account_id


async def test_error_bodies_never_echo_the_request(
    client: httpx.AsyncClient, guardian: Guardian
) -> None:
    secret_looking = "s3cr3t-" + "z" * 20
    payload: dict[str, Any] = {"name": "Family", "token": secret_looking}

    response = await client.post("/v1/families", headers=guardian.headers, json=payload)

    assert response.status_code == 422
    assert secret_looking not in response.text
