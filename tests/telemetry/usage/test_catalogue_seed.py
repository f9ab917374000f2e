"""The starter catalogue is in a freshly migrated database, once, and goes with a downgrade.

Migrates a new SQLite file, and also a new PostgreSQL database (created and dropped here) when
``DATABASE_URL`` is set: the per-test databases of the other tests start empty on PostgreSQL.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from parental import migrate
from parental.kit.db import create_engine
from telemetry.usage.catalogue.models import AppCatalogueEntry
from tests.conftest import DATABASE_URL, _create_postgres_database, _drop_postgres_database

BACKENDS = ["sqlite", "postgresql"] if DATABASE_URL else ["sqlite"]
BEFORE = "20261202_0014"  # the revision before the catalogue's


@pytest.fixture(params=BACKENDS)
async def fresh_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgresql":
        assert DATABASE_URL is not None
        url = await _create_postgres_database(DATABASE_URL)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        if request.param == "postgresql":
            assert DATABASE_URL is not None
            await _drop_postgres_database(DATABASE_URL, url)


def starter() -> dict[str, tuple[str, str]]:
    text = (
        resources.files("telemetry.usage.catalogue").joinpath("data/app_catalogue.csv").read_text()
    )
    return {row["app"]: (row["name"], row["category"]) for row in csv.DictReader(text.splitlines())}


async def stored(engine: AsyncEngine) -> dict[str, AppCatalogueEntry]:
    async with async_sessionmaker(engine)() as session:
        return {row.app: row for row in await session.scalars(select(AppCatalogueEntry))}


async def has_catalogue(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: inspect(c).has_table("app_catalogue"))


async def test_a_fresh_install_has_the_starter_catalogue(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine)

    rows = await stored(fresh_engine)
    assert {app: (row.name, row.category) for app, row in rows.items()} == starter()
    whatsapp = rows["com.whatsapp"]
    assert (whatsapp.name, whatsapp.category, whatsapp.note, whatsapp.updated_by) == (
        "WhatsApp",
        "messaging",
        None,
        None,
    )
    assert whatsapp.updated_at == datetime(2026, 12, 2, tzinfo=UTC)
    assert rows["com.apple.MobileSMS"].category == "messaging"  # bundle ids keep their case


async def test_downgrading_removes_it_and_upgrading_seeds_it_once(
    fresh_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(fresh_engine)
    await migrate.downgrade(fresh_engine, BEFORE)
    assert not await has_catalogue(fresh_engine)

    await migrate.upgrade(fresh_engine)
    async with fresh_engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(AppCatalogueEntry))
    assert count == len(starter())
