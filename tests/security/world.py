"""The machine's world: what it models (callers, families, objects) and where it runs (a
fresh database and runtime per example, driven on one event loop), and database snapshots."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from sqlalchemy import text

from parental.kit.clock import FrozenClock
from parental.kit.settings import Environment, KitSettings
from parental.models import Base
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender
from tests.conftest import (
    DATABASE_URL,
    REDIS_URL,
    START,
    TEST_SECRET,
    _truncate,
    api_client,
    open_runtime,
)

T = TypeVar("T")

# Rate limits have their own tests; here a world of a few families must not run into them.
PARENTAL_SETTINGS = ParentalSettings(
    limit_code_requests_per_ip="1000/hour",
    limit_code_attempts_per_ip="1000/hour",
    limit_pairing_attempts_per_ip="1000/minute",
    limit_admin_logins_per_ip="1000/minute",
    # Who a filter-check token is stays cached this long (wall-clock): longer than any step,
    # so whether a change reaches this process at once does not depend on the machine's speed.
    # Moving the clock stands for that time passing (``let_time_pass`` empties the cache).
    filter_subject_cache_seconds=3600,
)

ACCESS_TTL = timedelta(seconds=ParentalSettings.model_fields["access_token_ttl_seconds"].default)

Kind = Literal["guardian", "device", "staff", "carrier", "refresh", "garbage", "none"]
Expectation = Literal["refused", "denied", "allowed", "unknown"]


@dataclass(frozen=True)
class Credential:
    """A bearer token some caller holds (or no token at all)."""

    kind: Kind
    subject: str
    token: str | None
    issued_at: datetime | None = None

    def __repr__(self) -> str:
        at = f"@{self.issued_at:%H:%M:%S}" if self.issued_at else ""
        return f"<{self.kind} {self.subject[:8]}{at}>"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class AccountModel:
    id: str
    phone: str
    access: list[Credential]
    refresh: str
    family: str | None = None

    def __repr__(self) -> str:
        return f"<account {self.id[:8]} {self.phone} of {(self.family or 'no family')[:8]}>"


@dataclass
class FamilyModel:
    id: str
    owner: str
    members: list[str]  # in the order they joined: draws must not depend on the ids
    ever_members: set[str]
    invited_phones: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        return f"<family {self.id[:8]}>"


@dataclass(frozen=True)
class Owned:
    """Whose an object is: its family and, for a child's objects, the child."""

    kind: str
    family: str
    child: str | None


@dataclass
class DeviceModel:
    id: str
    child: str
    family: str
    credential: Credential
    revoked: bool = False

    def __repr__(self) -> str:
        return (
            f"<device {self.id[:8]} of child {self.child[:8]}{' revoked' if self.revoked else ''}>"
        )


@dataclass
class InvitationModel:
    id: str
    family: str
    phone: str


class Harness:
    """One event loop for the whole test; a fresh database and runtime per example."""

    def __init__(self, runner: asyncio.Runner, template: str, tmp_path: Path) -> None:
        self.runner = runner
        self.template = template
        self.tmp_path = tmp_path
        self.examples = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    def open(self) -> tuple[Runtime, httpx.AsyncClient, asyncio.Event, asyncio.Task[None]]:
        self.examples += 1
        where = self.tmp_path / f"example-{self.examples}"
        where.mkdir()
        if DATABASE_URL:
            url = self.template  # emptied again when the example closes
        else:
            shutil.copyfile(self.template, where / "db.sqlite3")
            url = f"sqlite+aiosqlite:///{where / 'db.sqlite3'}"
        kit = KitSettings(
            environment=Environment.TEST,
            data_dir=where,
            database_url=url,
            redis_url=REDIS_URL,
            secret_key=TEST_SECRET,  # type: ignore[arg-type]
        )
        ready: asyncio.Future[tuple[Runtime, httpx.AsyncClient]] = (
            self.runner.get_loop().create_future()
        )
        stop = asyncio.Event()

        # The runtime and the app's lifespan live in one task from the example's start to its
        # end (their task groups must be left in the task that entered them); the steps run
        # as other tasks on the same loop.
        async def serve() -> None:
            clock = FrozenClock(START)
            async with (
                open_runtime(kit, PARENTAL_SETTINGS, clock, LogSmsSender()) as runtime,
                api_client(runtime) as client,
            ):
                ready.set_result((runtime, client))
                await stop.wait()

        task = self.runner.get_loop().create_task(serve())

        async def started() -> tuple[Runtime, httpx.AsyncClient]:
            waiting: set[asyncio.Future[Any]] = {ready, task}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                task.result()  # raises what stopped it
            return ready.result()

        runtime, client = self.run(started())
        return runtime, client, stop, task

    def close(self, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
        async def finish() -> None:
            stop.set()
            await task

        self.run(finish())
        if DATABASE_URL:
            self.run(_truncate(self.template))


# One query naming the tables that hold a row (as tests/conftest.py empties them): only those
# are read row by row, and a row written to an empty table shows as a new name.
_NON_EMPTY = text(
    " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"  # noqa: S608 - our names
        for t in Base.metadata.sorted_tables
    )
)


async def snapshot(runtime: Runtime) -> dict[str, list[str]]:
    """Every row of every table, in a comparable form."""
    rows: dict[str, list[str]] = {}
    async with runtime.sessions() as session:
        written = (await session.execute(_NON_EMPTY)).scalars().all()
        for name in written:
            found = (await session.execute(text(f'SELECT * FROM "{name}"'))).all()  # noqa: S608
            rows[name] = sorted(repr(tuple(r)) for r in found)
    return rows


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, Any]:
    return {
        name: {
            "added": sorted(set(after.get(name, [])) - set(before.get(name, [])))[:3],
            "removed": sorted(set(before.get(name, [])) - set(after.get(name, [])))[:3],
        }
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
