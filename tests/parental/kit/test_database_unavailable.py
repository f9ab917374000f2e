"""A database that cannot be reached is a 503 ``DatabaseUnavailable`` with Retry-After, from
the route handlers and from middleware alike; any other database error is still a 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc
from starlette.types import ASGIApp, Receive, Scope, Send

from parental.kit.db import database_unreachable
from parental.kit.http import install_error_handlers


def _dbapi(orig: BaseException, *, invalidated: bool = False) -> exc.DBAPIError:
    return exc.DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def _adapted(driver: BaseException) -> exc.DBAPIError:
    """As SQLAlchemy's asyncpg dialect raises it: its adapter's error caused by asyncpg's."""
    try:
        try:
            raise driver
        except BaseException as cause:
            raise RuntimeError("adapter") from cause
    except RuntimeError as adapter:
        return _dbapi(adapter)


def _refused_elsewhere() -> ConnectionRefusedError:
    try:
        raise ConnectionRefusedError(111, "refused")  # raised here, not by the pool
    except ConnectionRefusedError as error:
        return error


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (_dbapi(ConnectionResetError(), invalidated=True), True),
        (_adapted(asyncpg.exceptions.CannotConnectNowError("starting up")), True),
        (_adapted(asyncpg.exceptions.ConnectionDoesNotExistError("closed")), True),
        (asyncpg.exceptions.AdminShutdownError("terminating"), True),
        (exc.TimeoutError("QueuePool limit reached"), True),
        (exc.InterfaceError("SELECT 1", {}, Exception("closed")), True),
        (exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
        (_adapted(ValueError("bad value")), False),
        (_refused_elsewhere(), False),
        (ValueError("unrelated"), False),
    ],
)
def test_which_errors_mean_the_database_is_unreachable(
    error: BaseException, unreachable: bool
) -> None:
    assert database_unreachable(error) is unreachable


class RaiseInMiddleware:
    """Middleware that fails as the fast paths do: past the routes' handlers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/middleware":
            raise _dbapi(ConnectionResetError(), invalidated=True)
        await self.app(scope, receive, send)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RaiseInMiddleware)

    @app.get("/restarting")
    async def restarting() -> None:
        raise _adapted(asyncpg.exceptions.CannotConnectNowError("starting up"))

    @app.get("/bug")
    async def bug() -> None:
        raise exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    return app


@pytest.mark.parametrize("path", ["/restarting", "/middleware"])
async def test_an_unreachable_database_is_a_503(path: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(path)
    assert response.status_code == 503
    assert response.json()["error"] == "DatabaseUnavailable"
    assert int(response.headers["Retry-After"]) > 0


async def test_other_database_errors_stay_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/bug")
    assert response.status_code == 500
    assert response.json() == {"error": "InternalError", "detail": "Internal error."}
