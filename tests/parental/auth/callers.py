"""A test client whose requests can come from any address, for limits kept per address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Receive, Scope, Send

from parental.app import create_app
from parental.runtime import Runtime

ADDRESS_HEADER = b"x-test-client-address"


def from_address(ip: str) -> dict[str, str]:
    """Headers that make the request arrive from ``ip`` (as a proxy the server trusts would)."""
    return {ADDRESS_HEADER.decode(): ip}


class _AddressFromHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == ADDRESS_HEADER:
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


@asynccontextmanager
async def address_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """Like the suite's ``client``; a request with ``from_address(ip)`` comes from ``ip``."""
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=_AddressFromHeader(app))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client
