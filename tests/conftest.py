"""Test fixtures: one suite, two configurations.

Without ``DATABASE_URL`` / ``REDIS_URL`` the tests run on the embedded default (a SQLite file
per test, copied from a migrated template, and the in-process cache and limiter). With them,
on a fresh PostgreSQL database created for this run (tables emptied after each test) and on
Redis (this run's keys cleared after each test). In CI a server that cannot be reached fails
the run; elsewhere its tests are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from parental import migrate
from parental.app import attach, create_app
from parental.kit.clock import FrozenClock
from parental.kit.db import create_engine
from parental.kit.settings import Environment, KitSettings
from parental.models import Base
from parental.runtime import Runtime, build_runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender, SmsSender

DATABASE_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TEST_SECRET = "test-secret-" + "x" * 40


def _unreachable(what: str, exc: Exception) -> None:
    message = f"{what} is configured but unreachable: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


async def _create_postgres_database(url: str) -> str:
    base = make_url(url)
    name = f"parental_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.render_as_string(hide_password=False))
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a power cut: commits do not wait for the WAL to
        # reach the disk (the suite's time went mostly to those waits).
        await connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(admin_url)
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the run: a SQLite file to copy, or a PostgreSQL database."""
    if DATABASE_URL:
        try:
            url = asyncio.run(_create_postgres_database(DATABASE_URL))
        except Exception as exc:  # pragma: no cover - depends on the machine
            _unreachable("DATABASE_URL", exc)
        asyncio.run(_migrate(url))
        yield url
        asyncio.run(_drop_postgres_database(DATABASE_URL, url))
    else:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
        yield str(path)


# One query naming the tables that hold any row: a test writes to a few of the ~50 tables, and
# truncating only those (CASCADE takes the rows that refer to them) costs a fraction of
# truncating every table after every test.
_NON_EMPTY = " UNION ALL ".join(
    f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"  # noqa: S608 - our table names
    for t in Base.metadata.sorted_tables
)


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        written = (await connection.execute(text(_NON_EMPTY))).scalars().all()
        if written:
            tables = ", ".join(f'"{name}"' for name in written)
            await connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    await engine.dispose()


@pytest.fixture
async def database_url(database_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, migrated database for one test."""
    if DATABASE_URL:
        yield database_template
        await _truncate(database_template)
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database_template, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def kit_settings(database_url: str, tmp_path: Path) -> KitSettings:
    return KitSettings(
        environment=Environment.TEST,
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=REDIS_URL,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
    )


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings()


_redis_gone: list[Exception] = []


async def _reach_redis(rt: Runtime) -> None:
    """Empty this run's counters, waiting out a blip: on a busy CI machine one connection to the
    shared Redis once took longer than the clients' 2 s connect timeout. Unreachable means
    unreachable for 15 s, not one slow accept."""
    deadline = time.monotonic() + (0 if _redis_gone else 15)
    while True:
        try:
            await rt.limiter.reset()
            await rt.cache.ping()
            return
        except Exception as exc:  # pragma: no cover - depends on the machine
            if time.monotonic() >= deadline:
                _redis_gone.append(exc)  # the next tests do not wait 15 s each
                _unreachable("REDIS_URL", exc)
                return
            await asyncio.sleep(0.5)


@asynccontextmanager
async def open_runtime(
    kit_settings: KitSettings,
    parental_settings: ParentalSettings,
    clock: FrozenClock,
    sms: SmsSender,
) -> AsyncIterator[Runtime]:
    """A runtime for one test; with Redis, this run's rate-limit counters start and end empty."""
    rt = build_runtime(kit_settings, parental_settings, clock=clock, sms=sms)
    try:
        if REDIS_URL:
            await _reach_redis(rt)
        yield rt
        if REDIS_URL:
            await rt.limiter.reset()
    finally:
        await rt.close()


# Apps built for earlier tests, by what of the settings ``create_app`` reads, with whether one
# is serving now (a test may run two apps at once: each gets its own). Building an app costs
# half a second; most tests build one.
_APPS: dict[tuple[object, ...], tuple[FastAPI, list[bool]]] = {}


def _app_for(runtime: Runtime) -> tuple[FastAPI, list[bool]]:
    s = runtime.settings
    key = (s.max_body_bytes, s.behind_tls, s.metrics_enabled, s.command_audio_max_bytes)
    cached = _APPS.get(key)
    if cached is None or cached[1][0]:
        cached = (create_app(runtime), [False])
        _APPS.setdefault(key, cached)
    else:
        attach(cached[0], runtime)
    return cached


@asynccontextmanager
async def api_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process, with its lifespan running."""
    app, in_use = _app_for(runtime)
    in_use[0] = True
    try:
        async with (
            LifespanManager(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c,
        ):
            yield c
    finally:
        in_use[0] = False


@pytest.fixture
async def runtime(
    kit_settings: KitSettings, parental_settings: ParentalSettings, clock: FrozenClock
) -> AsyncIterator[Runtime]:
    async with open_runtime(kit_settings, parental_settings, clock, LogSmsSender()) as rt:
        yield rt


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(runtime) as c:
        yield c


def sms_code(runtime: Runtime, phone: str) -> str:
    """The code in the last SMS the development sink got for ``phone``."""
    assert isinstance(runtime.sms, LogSmsSender)
    message = runtime.sms.last_to(phone)
    assert message is not None, f"no SMS was sent to {phone}"
    found = re.search(rf"\b\d{{{runtime.settings.sign_in_code_digits}}}\b", message.text)
    assert found is not None, message.text
    return found.group()
