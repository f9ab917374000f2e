"""The starter catalogue is in a freshly migrated database, once, and goes with a downgrade;
its always-allowed apps are marked, on a fresh install and on one from before the mark.

Migrates a new SQLite file, and also a new PostgreSQL database (created and dropped here) when
``DATABASE_URL`` is set: the per-test databases of the other tests start empty on PostgreSQL.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from parental import migrate
from parental.kit.db import create_engine
from telemetry.usage.catalogue.models import AppCatalogueEntry
from tests.conftest import DATABASE_URL, _create_postgres_database, _drop_postgres_database

BACKENDS = ["sqlite", "postgresql"] if DATABASE_URL else ["sqlite"]
BEFORE = "20261202_0014"  # the revision before the catalogue's
BEFORE_MARK = "20261203_0030"  # the revision before always_allowed


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


def marked() -> set[str]:
    text = (
        resources.files("telemetry.usage.catalogue").joinpath("data/app_catalogue.csv").read_text()
    )
    return {
        row["app"] for row in csv.DictReader(text.splitlines()) if row["always_allowed"] == "true"
    }


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
    assert {app for app, row in rows.items() if row.always_allowed} == marked()


async def test_an_install_from_before_the_mark_gets_it_and_keeps_the_curators_edits(
    fresh_engine: AsyncEngine,
) -> None:
    """At the revision before, the release's new rows are missing and a curator edited the
    dialer: the upgrade adds the missing rows marked, and marks the dialer as the curator
    left it."""
    await migrate.upgrade(fresh_engine, BEFORE_MARK)
    curator = uuid.UUID("22222222-2222-4222-8222-222222222222")
    async with fresh_engine.begin() as connection:
        table = AppCatalogueEntry.__table__
        await connection.execute(delete(table).where(table.c.app == "com.android.emergency"))
        await connection.execute(
            update(table)
            .where(table.c.app == "com.android.dialer")
            .values(name="Dialer", category="messaging", updated_by=curator)
        )

    await migrate.upgrade(fresh_engine)
    rows = await stored(fresh_engine)
    emergency = rows["com.android.emergency"]
    assert (emergency.name, emergency.category, emergency.always_allowed) == (
        "Emergency information",
        "other",
        True,
    )
    assert emergency.updated_at == datetime(2026, 12, 4, tzinfo=UTC)
    dialer = rows["com.android.dialer"]
    assert (dialer.name, dialer.category, dialer.updated_by, dialer.always_allowed) == (
        "Dialer",
        "messaging",
        curator,
        True,
    )
    assert {app for app, row in rows.items() if row.always_allowed} == marked()
    assert len(rows) == len(starter())


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
