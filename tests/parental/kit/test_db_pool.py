"""The PostgreSQL pool hands out working connections without pinging each one it hands out."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from parental.kit import db
from parental.kit.settings import KitSettings


def _on_postgresql(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("the pool and its pings are PostgreSQL's; SQLite opens a file")


async def _pid(connection: AsyncConnection) -> int:
    return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await _pid(connection)


async def _terminate(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_idle_long_enough_is_pinged_and_replaced_when_dead(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_postgresql(database_url)
    engine = db.create_engine(database_url)
    other = db.create_engine(database_url)
    try:
        pid = await _backend_pid(engine)
        await _terminate(other, pid)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection is "idle"
        # The dead connection is found by the ping and replaced: the caller never sees it.
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_connection_used_moments_ago_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_postgresql(database_url)
    engine = db.create_engine(database_url)
    other = db.create_engine(database_url)
    try:
        pid = await _backend_pid(engine)
        await _terminate(other, pid)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
        # No ping: the statement itself meets the dead connection, and that request fails ...
        with pytest.raises(DBAPIError) as caught:
            await _backend_pid(engine)
        assert caught.value.connection_invalidated
        # ... but the pool has dropped it, and the next request gets a live one.
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()
        await other.dispose()


async def test_the_pool_keeps_the_configured_connections_open_between_peaks(
    database_url: str,
) -> None:
    """Up to ``db_pool_size`` connections stay open after a peak; only those beyond it (the
    overflow) are closed when given back. With the pool smaller than a process's usual
    concurrency, it opened a new server connection for nearly every request (the load run saw
    nine a second)."""
    _on_postgresql(database_url)
    settings = KitSettings(database_url=database_url, db_pool_size=3, db_pool_overflow=2)
    engine = db.create_engine(
        database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_overflow
    )
    try:
        held = [await engine.connect() for _ in range(5)]  # the pool and its overflow
        pids = {await _pid(connection) for connection in held}
        assert len(pids) == 5
        with pytest.raises(TimeoutError):  # a sixth waits for one of them
            async with asyncio.timeout(0.5):
                await engine.connect()
        for connection in held:
            await connection.close()
        assert engine.pool.checkedin() == 3  # kept open for the next requests
        again = [await engine.connect() for _ in range(3)]
        reused = {
            int((await c.execute(text("SELECT pg_backend_pid()"))).scalar_one()) for c in again
        }
        assert reused <= pids  # no new server connection
        for connection in again:
            await connection.close()
    finally:
        await engine.dispose()


def test_the_pool_defaults_cover_a_busy_api_worker() -> None:
    settings = KitSettings()
    assert (settings.db_pool_size, settings.db_pool_overflow) == (20, 10)
