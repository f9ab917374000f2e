"""The PostgreSQL pool hands out working connections without pinging each one it hands out."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from parental.kit import db


def _on_postgresql(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("the pool's pings are PostgreSQL's; SQLite opens a file")


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


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
