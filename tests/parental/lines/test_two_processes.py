"""A binding made through one process reaches another process's index within about a second:
by the Redis notice when Redis is configured, by the poll otherwise. A guardian's change to the
child's filter profile reaches the other process's remembered subjects the same way: at once by
the notice with Redis (the other process would keep the old one for an hour), within a second
without (the other process then re-reads each second)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.conftest import REDIS_URL
from tests.parental.factories import FamilyWorld
from tests.processes import LineProcess, app_environment


class Resolver(LineProcess):
    """``tests.parental.lines.identity_worker`` in its own process, on the test's database."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        env = app_environment(data_dir, database_url)
        env["PARENTAL_FILTER_SUBJECT_CACHE_SECONDS"] = "3600"
        super().__init__([sys.executable, "-m", "tests.parental.lines.identity_worker"], env)


@pytest.fixture
def resolver(runtime: Runtime, database_url: str, clock: FrozenClock) -> Iterator[Resolver]:
    clock.set(datetime.now(UTC))  # the other process runs on the real clock
    started = Resolver(runtime.kit.data_dir, database_url)
    yield started
    started.stop()


async def test_a_binding_reaches_another_process(
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
    resolver: Resolver,
) -> None:
    assert resolver.ask("10.7.7.7") == "nobody"
    body = {"msisdn": family.line, "ip": "10.7.7.7", "event": "start", "session_id": "p1"}
    bound = await client.post("/carrier/v1/bindings", headers=carrier, json=body)
    assert bound.status_code == 200, bound.text
    started = resolver.wait_for("10.7.7.7", family.child_id)
    stopped = await client.post(
        "/carrier/v1/bindings", headers=carrier, json=body | {"event": "stop"}
    )
    assert stopped.status_code == 200, stopped.text
    ended = resolver.wait_for("10.7.7.7", "nobody")
    print(f"binding seen after {started * 1000:.0f} ms, its end after {ended * 1000:.0f} ms")  # noqa: T201
    assert max(started, ended) < 1.5


async def test_a_profile_edit_reaches_another_process(
    client: httpx.AsyncClient,
    resolver: Resolver,  # first: it sets the clock the guardian's token is made by
    carrier: dict[str, str],
    family: FamilyWorld,
) -> None:
    body = {"msisdn": family.line, "ip": "10.7.7.8", "event": "start", "session_id": "p2"}
    bound = await client.post("/carrier/v1/bindings", headers=carrier, json=body)
    assert bound.status_code == 200, bound.text
    child = family.child_id
    resolver.wait_for("10.7.7.8", child)
    assert resolver.ask("10.7.7.8 casino.test") == f"{child} -"  # now remembered
    added = await client.post(
        f"/v1/children/{family.child_id}/filter-profile/entries",
        headers=family.guardian.headers,
        json={"host": "casino.test", "action": "block"},
    )
    assert added.status_code == 201, added.text
    seen = resolver.wait_for("10.7.7.8 casino.test", f"{child} entry", timeout=5)
    print(f"profile edit seen after {seen * 1000:.0f} ms")  # noqa: T201
    assert seen < (0.5 if REDIS_URL else 2.5)
