"""Request size limits everywhere (issue 9): every write route refuses a body over its limit
(the app's, or the larger one a route declares: audio, list imports) with the machine-readable
413, whether the size is declared up front or only shows while the body streams in, and the
refused request changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from parental.app import create_app
from parental.kit.http import LARGER_BODY
from parental.models import Base
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.parental.factories import FamilyWorld, publish_lists
from tests.parental.test_authorization import ROUTES

SMALL_LIMIT = 4096
CHUNK = 1024 * 1024
NO_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def parental_settings() -> ParentalSettings:
    # A small app-wide limit keeps the walk quick; the routes' larger limits stay as declared.
    return ParentalSettings(max_body_bytes=SMALL_LIMIT, command_listen_guardian_min_hours=0)


def body_routes() -> list[tuple[str, str, int, str]]:
    """(method, path, limit, content type) of every route that takes a request body."""
    spec = create_app().openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            limit = max(SMALL_LIMIT, int(operation.get(LARGER_BODY, 0)))
            content_type = next(iter(operation["requestBody"]["content"]))
            found.append((method.upper(), path, limit, content_type))
    return sorted(found)


async def row_counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def streamed(size: int) -> AsyncIterator[bytes]:
    """``size`` bytes in chunks, without a Content-Length."""
    sent = 0
    while sent < size:
        part = min(CHUNK, size - sent)
        sent += part
        yield b"x" * part


def assert_refused(response: httpx.Response, limit: int, where: tuple[str, str]) -> None:
    assert response.status_code == 413, (where, response.status_code, response.text[:200])
    assert response.json() == {
        "error": "PayloadTooLarge",
        "detail": f"The request body is larger than {limit} bytes.",
    }, where


async def test_every_body_route_is_walked() -> None:
    routes = {(method, path) for method, path, _, _ in body_routes()}
    assert ("PUT", "/v1/device/commands/{command_id}/audio") in routes  # raw bytes, not JSON
    assert ("POST", "/admin/v1/filter/sources/{source_id}/imports") in routes
    assert len(routes) > 50
    assert routes <= ROUTES.keys()


async def test_an_oversized_body_is_refused_everywhere_and_changes_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    carrier: dict[str, str],
    staff: dict[str, str],
) -> None:
    # Real ids where a route would look one up before reading the body itself (the audio
    # upload and the list import read it after their checks).
    await publish_lists(runtime, {"drugs": ["127.0.0.1 pills.test"]})
    sources = await client.get("/admin/v1/filter/sources", headers=staff)
    assert sources.status_code == 200, sources.text
    listen = await client.post(
        f"/v1/children/{family.child_id}/commands",
        headers=family.guardian.headers,
        json={"kind": "listen", "seconds": 30},
    )
    assert listen.status_code == 201, listen.text
    ids = {
        "child_id": family.child_id,
        "family_id": family.family_id,
        "device_id": family.device_id,
        "command_id": listen.json()["id"],
        "source_id": sources.json()["items"][0]["id"],
        "msisdn": family.line,
    }
    callers = {
        "guardian": family.guardian.headers,
        "device": family.device_headers,
        "carrier": carrier,
        "filter": carrier,
        "zone": carrier,
        "staff": staff,
        "public": {},
    }
    before = await row_counts(runtime)
    for method, path, limit, content_type in body_routes():
        url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), NO_ID), path)
        headers = {**callers[ROUTES[(method, path)].caller], "content-type": content_type}
        declared = await client.request(method, url, headers=headers, content=b"x" * (limit + 1))
        assert_refused(declared, limit, (method, path))
        chunked = await client.request(method, url, headers=headers, content=streamed(limit + 1))
        assert_refused(chunked, limit, (method, path))
    assert await row_counts(runtime) == before


async def test_a_body_at_the_limit_is_read(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    """The limit is the largest body taken, not one byte less (a JSON body padded with
    spaces to exactly the limit, declared and streamed)."""
    raw = b'{"name": "Padded"}'
    padded = raw + b" " * (SMALL_LIMIT - len(raw))
    headers = {**family.guardian.headers, "content-type": "application/json"}
    for content in (padded, streamed_bytes(padded)):
        response = await client.patch(
            f"/v1/families/{family.family_id}", headers=headers, content=content
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Padded"


async def streamed_bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data[: len(data) // 2]
    yield data[len(data) // 2 :]
