"""Security headers on every answer (issue 9): the routes', the ASGI fast paths' (a location
read and upload, a filter check), the error pages' (404, 405, 413, 422, 429, 500), the
documentation's and the block page's; Strict-Transport-Security only behind TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from parental.kit.clock import FrozenClock
from parental.kit.headers import API_CSP, DOCS_CSP, SecurityHeaders
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import api_client
from tests.parental.factories import FamilyWorld, publish_lists
from tests.parental.test_blockpage import page_client
from tests.parental.test_locations import fix, latest, upload

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_secured(response: httpx.Response, *, csp: str = API_CSP, private: bool = True) -> None:
    """``response`` carries each security header once, with the expected values."""
    for name, value in ALWAYS.items():
        assert response.headers.get_list(name) == [value], (name, response.request.url)
    assert response.headers.get_list("content-security-policy") == [csp], response.request.url
    if private:
        assert response.headers["cache-control"] == "no-store", response.request.url
    assert "strict-transport-security" not in response.headers


async def test_api_answers_and_fast_paths_carry_the_headers(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    await publish_lists(runtime, {"drugs": ["127.0.0.1 pills.test"]})
    # The first upload and read go through the routes, which leave the grants the fast paths
    # answer the second ones from (tests/parental/test_locations_fast*.py).
    for _ in range(2):
        uploaded = await upload(client, family, fix(clock.now() - timedelta(minutes=1)))
        assert uploaded.status_code == 200, uploaded.text
        assert_secured(uploaded)
    for _ in range(2):
        read = await latest(client, family)
        assert read.status_code == 200, read.text
        assert_secured(read)
    for _ in range(2):
        checked = await client.post("/v1/filter/check", headers=carrier, json={"items": ["a.test"]})
        assert checked.status_code == 200, checked.text
        assert_secured(checked)
    me = await client.get("/v1/me", headers=family.guardian.headers)
    assert me.status_code == 200
    assert_secured(me)
    line = await client.get(f"/carrier/v1/lines/{family.line}", headers=carrier)
    assert line.status_code == 200
    assert_secured(line)


async def test_error_answers_carry_the_headers(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    missing = await client.get("/v1/no-such-thing")
    assert missing.status_code == 404
    assert_secured(missing)
    outside = await client.get("/nowhere")
    assert outside.status_code == 404
    assert_secured(outside, private=False)
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405
    assert_secured(wrong_method, private=False)
    invalid = await client.post("/v1/families", headers=family.guardian.headers, json={})
    assert invalid.status_code == 422
    assert_secured(invalid)
    unauthenticated = await client.get("/v1/me")
    assert unauthenticated.status_code == 401
    assert_secured(unauthenticated)
    too_large = await client.post(
        "/v1/families",
        headers={**family.guardian.headers, "content-type": "application/json"},
        content=b" " * 2_000_000,
    )
    assert too_large.status_code == 413
    assert_secured(too_large)


async def test_a_routes_own_headers_are_kept(client: httpx.AsyncClient) -> None:
    """A route's own cache policy wins and no header is sent twice; health is not private."""
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert_secured(health, private=False)
    assert "cache-control" not in health.headers


async def test_the_documentation_pages_may_load_what_they_show(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        assert page.status_code == 200
        assert_secured(page, csp=DOCS_CSP, private=False)
    spec = await client.get("/openapi.json")
    assert_secured(spec, private=False)


async def test_an_unexpected_error_carries_the_headers() -> None:
    """The framework's 500 comes from its outermost middleware, still inside ours."""
    app = FastAPI()

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    secured = SecurityHeaders(app, private_prefixes=("/v1/",))
    transport = httpx.ASGITransport(app=secured, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        response = await c.get("/v1/boom")
    assert response.status_code == 500
    assert_secured(response)


async def test_a_stream_keeps_its_own_cache_policy() -> None:
    """Headers a response sets (in any case) are not added again."""

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        assert callable(send)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"Cache-Control", b"no-cache"), (b"x-frame-options", b"SAMEORIGIN")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    secured = SecurityHeaders(app, private_prefixes=("/v1/",))  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=secured), base_url="http://test"
    ) as c:
        response = await c.get("/v1/stream")
    assert response.headers.get_list("cache-control") == ["no-cache"]
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.fixture
async def tls_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    runtime.settings = ParentalSettings(behind_tls=True)
    async with api_client(runtime) as c:
        yield c


async def test_hsts_only_behind_tls(tls_client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/v1/me", "/nowhere"):
        response = await tls_client.get(path)
        assert response.headers["strict-transport-security"] == "max-age=31536000", path


BLOCKPAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


async def test_the_block_page_may_render_and_nothing_else(runtime: Runtime) -> None:
    """Its inline style and its forms posting back to the page's own name are allowed, every
    answer (the 405 of a wrong method too) is uncached, and it never sends HSTS."""
    runtime.settings = ParentalSettings(behind_tls=True)
    async with page_client(runtime, "192.0.2.77") as page:
        shown = await page.get("/")
        assert shown.status_code in (200, 403)
        assert "<style>" in shown.text
        assert_secured(shown, csp=BLOCKPAGE_CSP)
        wrong_method = await page.delete("/.child-sim/ask")
        assert wrong_method.status_code == 405
        assert_secured(wrong_method, csp=BLOCKPAGE_CSP)
