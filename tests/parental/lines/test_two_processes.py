"""A binding made through one process reaches another process's index within about a second:
by the Redis notice when Redis is configured, by the poll otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.conftest import REDIS_URL, TEST_SECRET
from tests.parental.factories import FamilyWorld

REPO = Path(__file__).parents[3]


class Resolver:
    """``tests.parental.lines.identity_worker`` in its own process, on the test's database."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        env = {
            **os.environ,
            "PARENTAL_ENVIRONMENT": "test",
            "PARENTAL_DATA_DIR": str(data_dir),
            "PARENTAL_SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": database_url,
        }
        env.pop("REDIS_URL", None)
        if REDIS_URL:
            env["REDIS_URL"] = REDIS_URL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.parental.lines.identity_worker"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, ip: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(ip + "\n")
        self.process.stdin.flush()
        return self.readline()

    def wait_for(self, ip: str, expected: str, timeout: float = 10.0) -> float:
        start = time.monotonic()
        while (answer := self.ask(ip)) != expected:
            if time.monotonic() - start > timeout:
                raise AssertionError(f"still {answer!r}, wanted {expected!r}")
            time.sleep(0.01)
        return time.monotonic() - start

    def stop(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=20)
        self.process.stdout.close()


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
