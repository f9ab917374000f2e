"""The ``parental`` command against the test's database, checked through the API and services.

The CLI runs ``asyncio.run`` itself, so from an async test it is invoked in a worker thread;
the API is the ``client`` fixture's app on the same database and secret. Where the CLI issues
tokens (the demo), that app's clock is set to the real time, the clock the CLI uses.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner, Result

from filters.curation import service as curation
from parental import migrate
from parental.admin.service import MIN_PASSWORD_LENGTH
from parental.cli import app
from parental.demo import DEMO_CHILD_LINE, DEMO_GUARDIAN_PHONE
from parental.kit.clock import FrozenClock
from parental.kit.db import create_engine, transaction
from parental.kit.settings import get_kit_settings
from parental.lines import service as lines
from parental.models import Base
from parental.runtime import Runtime
from parental.settings import get_parental_settings
from tests.conftest import REDIS_URL, TEST_SECRET
from tests.parental.test_filtering import publish

SK_KEY = re.compile(r"^sk_\S+$")


def _clear_settings() -> None:
    get_kit_settings.cache_clear()
    get_parental_settings.cache_clear()


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment a deployed ``parental`` would read, pointing at this test's database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARENTAL_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PARENTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PARENTAL_ENVIRONMENT", "test")
    monkeypatch.setenv("PARENTAL_SMS_BACKEND", "log")
    _clear_settings()
    yield database_url
    _clear_settings()


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``parental ARGS`` as a fresh process would: settings read anew from the environment."""
    _clear_settings()
    try:
        return CliRunner().invoke(app, list(args), input=input)
    finally:
        _clear_settings()


async def ainvoke(*args: str, input: str | None = None) -> Result:
    """``invoke`` from inside the test's event loop (the command starts its own loop)."""
    return await asyncio.to_thread(invoke, *args, input=input)


def _exported(output: str, name: str) -> str:
    found = re.search(rf"^\s*{name}=(\S+)$", output, re.MULTILINE)
    assert found is not None, f"{name} not printed:\n{output}"
    return found.group(1)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def real_time(clock: FrozenClock) -> FrozenClock:
    """The API's clock at the system time, the time the CLI's tokens are issued at."""
    clock.set(datetime.now(UTC))
    return clock


# -- db ---------------------------------------------------------------------------------------


def test_db_upgrade_prints_the_head_revision(cli_env: str) -> None:
    result = invoke("db", "upgrade")

    assert result.exit_code == 0, result.output
    head = migrate.head_revision()
    assert head is not None
    assert result.stdout.strip() == f"database at {head}"


def test_db_upgrade_creates_every_table_in_an_empty_database(
    cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "fresh" / "parental.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{fresh}")

    result = invoke("db", "upgrade")

    assert result.exit_code == 0, result.output

    async def tables_and_revision() -> tuple[set[str], str | None]:
        engine = create_engine(f"sqlite+aiosqlite:///{fresh}")
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            return names, await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    names, revision = asyncio.run(tables_and_revision())
    assert set(Base.metadata.tables) <= names
    assert revision == migrate.head_revision()
    current = invoke("db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.strip() == f"current: {revision}, head: {revision}"


# -- carrier ----------------------------------------------------------------------------------


async def test_register_line_is_readable_by_the_service(cli_env: str, runtime: Runtime) -> None:
    result = await ainvoke("carrier", "register-line", "+77071234567", "--guardian", "+77011234567")

    assert result.exit_code == 0, result.output
    assert "registered +77071234567 (guardian +77011234567)" in result.stdout
    async with transaction(runtime.sessions) as session:
        line = await lines.get_line(session, "+77071234567")
    assert (line.guardian_phone, line.is_child_sim, line.active) == ("+77011234567", True, True)

    again = await ainvoke(
        "carrier", "register-line", "77071234567", "--guardian", "+7 701 765 43 21", "--inactive"
    )

    assert again.exit_code == 0, again.output
    assert "updated +77071234567 (guardian +77017654321)" in again.stdout
    async with transaction(runtime.sessions) as session:
        line = await lines.get_line(session, "+77071234567")
    assert (line.guardian_phone, line.active) == ("+77017654321", False)


async def _line_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(text("SELECT count(*) FROM lines")) or 0)


@pytest.mark.parametrize(
    ("msisdn", "guardian", "exit_code", "message"),
    [
        ("12345", "+77011234567", 1, "error: InvalidMsisdn:"),
        # A valid number, but of Russia: not one of the carrier's lines.
        ("+79161234567", "+77011234567", 1, "error: InvalidMsisdn:"),
        ("+77071234567", "not-a-number", 2, "error: --guardian:"),
    ],
)
async def test_register_line_refuses_an_invalid_number(
    cli_env: str, runtime: Runtime, msisdn: str, guardian: str, exit_code: int, message: str
) -> None:
    result = await ainvoke("carrier", "register-line", msisdn, "--guardian", guardian)

    assert result.exit_code == exit_code, result.output
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output
    assert await _line_count(runtime) == 0


async def test_service_key_authenticates_until_revoked(
    cli_env: str, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await publish(runtime)
    created = await ainvoke("carrier", "create-key", "bss")

    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert SK_KEY.match(key), created.stdout
    registered = await client.put(
        "/carrier/v1/lines/+77071234567",
        headers=_bearer(key),
        json={"guardian_phone": "+77011234567", "is_child_sim": True},
    )
    assert registered.status_code == 201, registered.text
    assert (
        await client.get("/carrier/v1/lines/+77071234567", headers=_bearer(key))
    ).status_code == 200

    duplicate = await ainvoke("carrier", "create-key", "bss")
    assert duplicate.exit_code == 1
    assert "ServiceKeyExists" in duplicate.stderr

    check = {"url": "ok.test"}
    assert (await client.get("/v1/filter/check", headers=_bearer(key), params=check)).is_success
    assert len(runtime.subjects) == 1  # the filter remembers who the key is

    revoked = await ainvoke("carrier", "revoke-key", "bss")

    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip() == "revoked bss"
    refused = await client.get("/carrier/v1/lines/+77071234567", headers=_bearer(key))
    assert refused.status_code == 401
    assert refused.json()["error"] == "InvalidServiceKey"
    # The filter forgets it: told at once through Redis; without Redis this process cannot
    # hear the command and remembers callers for a second only.
    deadline = time.monotonic() + (2.0 if REDIS_URL else 3.0)
    answer = await client.get("/v1/filter/check", headers=_bearer(key), params=check)
    while answer.is_success and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        answer = await client.get("/v1/filter/check", headers=_bearer(key), params=check)
    assert answer.status_code == 401

    twice = await ainvoke("carrier", "revoke-key", "bss")
    assert twice.exit_code == 1
    assert "no active key named 'bss'" in twice.stderr


# -- admin ------------------------------------------------------------------------------------


async def test_admin_create_then_sign_in(cli_env: str, client: httpx.AsyncClient) -> None:
    password = "correct horse battery staple"

    result = await ainvoke(
        "admin", "create", "alice", "--role", "curator", "--password-stdin", input=password + "\n"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("created curator alice ("), result.stdout
    assert password not in result.output
    signed_in = await client.post(
        "/admin/v1/auth/tokens", json={"username": "alice", "password": password}
    )
    assert signed_in.status_code == 201, signed_in.text
    me = await client.get("/admin/v1/me", headers=_bearer(signed_in.json()["access_token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["username"], me.json()["role"]) == ("alice", "curator")
    wrong = await client.post(
        "/admin/v1/auth/tokens", json={"username": "alice", "password": password + "!"}
    )
    assert wrong.status_code == 401


async def test_admin_create_refuses_a_short_password(
    cli_env: str, client: httpx.AsyncClient
) -> None:
    short = "x" * (MIN_PASSWORD_LENGTH - 1)

    result = await ainvoke("admin", "create", "bob", "--password-stdin", input=short + "\n")

    assert result.exit_code == 2, result.output
    assert f"{MIN_PASSWORD_LENGTH}+ characters" in result.stderr
    signed_in = await client.post(
        "/admin/v1/auth/tokens", json={"username": "bob", "password": short}
    )
    assert signed_in.status_code == 401


def test_admin_create_refuses_an_unknown_role(cli_env: str) -> None:
    result = invoke(
        "admin", "create", "carol", "--role", "root", "--password-stdin", input="y" * 20
    )

    assert result.exit_code == 2
    assert "--role must be admin or curator" in result.stderr


# -- demo -------------------------------------------------------------------------------------


async def _assert_demo_credentials_work(client: httpx.AsyncClient, output: str) -> None:
    guardian = _bearer(_exported(output, "GUARDIAN_TOKEN"))
    device = _bearer(_exported(output, "DEVICE_TOKEN"))
    carrier_key = _exported(output, "CARRIER_KEY")
    assert SK_KEY.match(carrier_key)

    children = await client.get("/v1/children", headers=guardian)
    assert children.status_code == 200, children.text
    assert [c["msisdn"] for c in children.json()["items"]] == [DEMO_CHILD_LINE]
    own_device = await client.get("/v1/device", headers=device)
    assert own_device.status_code == 200, own_device.text
    line = await client.get(f"/carrier/v1/lines/{DEMO_CHILD_LINE}", headers=_bearer(carrier_key))
    assert line.status_code == 200, line.text
    assert line.json()["guardian_phone"] == DEMO_GUARDIAN_PHONE


async def test_demo_prints_working_credentials_and_can_run_again(
    cli_env: str, client: httpx.AsyncClient, real_time: FrozenClock
) -> None:
    first = await ainvoke("demo")

    assert first.exit_code == 0, first.output
    await _assert_demo_credentials_work(client, first.stdout)

    second = await ainvoke("demo", "--host", "demo.example", "--port", "9000")

    assert second.exit_code == 0, second.output
    await _assert_demo_credentials_work(client, second.stdout)
    assert "http://demo.example:9000/v1/children" in second.stdout
    # The second run re-pairs the device: the first run's device token no longer works.
    stale = await client.get("/v1/device", headers=_bearer(_exported(first.stdout, "DEVICE_TOKEN")))
    assert stale.status_code == 401
    children = await client.get(
        "/v1/children", headers=_bearer(_exported(second.stdout, "GUARDIAN_TOKEN"))
    )
    assert len(children.json()["items"]) == 1


# -- worker and openapi -----------------------------------------------------------------------


def test_worker_once_runs_one_round_and_exits(cli_env: str) -> None:
    result = invoke("worker", "--once")

    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"purged \d+ rows", result.stdout.strip()), result.stdout


async def test_worker_once_also_refreshes_lists_that_are_due(
    cli_env: str, runtime: Runtime
) -> None:
    async with transaction(runtime.sessions) as session:
        await curation.seed_categories(session, now=runtime.clock.now())
        await curation.create_source(
            session,
            name="drugs-feed",
            category_key="drugs",
            kind="url",
            url="http://127.0.0.1:9/drugs.txt",  # nothing listens on the discard port
            now=runtime.clock.now(),
            refresh_interval_seconds=3600,
        )
    result = await ainvoke("worker", "--once")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "drugs-feed: failed"


def test_openapi_writes_the_document(cli_env: str, tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"

    result = invoke("openapi", "--output", str(output))

    assert result.exit_code == 0, result.output
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert {"/v1/children", "/v1/device", "/carrier/v1/lines/{msisdn}", "/readyz"} <= set(
        document["paths"]
    )
    printed = invoke("openapi")
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == document
