"""Migrations on a fresh, empty database: up, down to nothing, up again; and they match the models.

Runs on a new SQLite file, and also on a new PostgreSQL database (created and dropped here)
when ``DATABASE_URL`` is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from parental import migrate
from parental.kit.db import create_engine
from parental.models import Base
from tests.conftest import DATABASE_URL, _create_postgres_database, _drop_postgres_database

BACKENDS = ["sqlite", "postgresql"] if DATABASE_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
async def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An engine on a database nothing has touched yet."""
    if request.param == "postgresql":
        assert DATABASE_URL is not None
        url = await _create_postgres_database(DATABASE_URL)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        if request.param == "postgresql":
            assert DATABASE_URL is not None
            await _drop_postgres_database(DATABASE_URL, url)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: set(inspect(c).get_table_names()))


async def version_rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.execute(text("SELECT version_num FROM alembic_version"))
        return [row[0] for row in result]


async def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_engine: AsyncEngine) -> None:
    model_tables = set(Base.metadata.tables)
    head = migrate.head_revision()
    assert head is not None
    assert await table_names(empty_engine) == set()

    await migrate.upgrade(empty_engine)

    assert await table_names(empty_engine) == model_tables | {"alembic_version"}
    assert await migrate.current_revision(empty_engine) == head

    await migrate.downgrade(empty_engine, "base")

    assert await table_names(empty_engine) == {"alembic_version"}
    assert await version_rows(empty_engine) == []
    assert await migrate.current_revision(empty_engine) is None

    await migrate.upgrade(empty_engine)

    assert await table_names(empty_engine) == model_tables | {"alembic_version"}
    assert await version_rows(empty_engine) == [head]


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_the_migrations(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)

    async with empty_engine.connect() as connection:
        differences = await connection.run_sync(_differences)

    assert differences == [], "models and migrations differ; write a migration:\n" + "\n".join(
        map(repr, differences)
    )
