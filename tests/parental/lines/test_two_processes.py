"""A binding made through one process reaches another process's index within about a second:
by the Redis notice when Redis is configured, by the poll otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld
from tests.processes import LineProcess, app_environment


class Resolver(LineProcess):
    """``tests.parental.lines.identity_worker`` in its own process, on the test's database."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        super().__init__(
            [sys.executable, "-m", "tests.parental.lines.identity_worker"],
            app_environment(data_dir, database_url),
        )


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
