"""Two API worker processes on one database: a guardian's profile edit made elsewhere reaches
both within the subject cache's second (no restart, no notice needed)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld
from tests.parental.test_filtering import publish
from tests.processes import app_environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Worker:
    """``uvicorn parental.app:create_app`` in its own process, on the test's database."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.port = free_port()
        env = app_environment(data_dir, database_url)
        self.process = subprocess.Popen(  # noqa: S603 - our own server, our own arguments
            [sys.executable, "-m", "uvicorn", "parental.app:create_app", "--factory",
             "--port", str(self.port), "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the worker did not start")

    def verdict(self, headers: dict[str, str], url: str) -> str:
        response = httpx.get(
            f"{self.base}/v1/filter/check", params={"url": url}, headers=headers, timeout=5
        )
        if response.status_code == 503:  # not yet on the published version
            return "none"
        assert response.status_code == 200, response.text
        action: str = response.json()["results"][0]["action"]
        return action

    def wait_for(self, headers: dict[str, str], url: str, expected: str) -> float:
        start = time.monotonic()
        while (answer := self.verdict(headers, url)) != expected:
            if time.monotonic() - start > 10:
                raise AssertionError(f"still {answer!r}, wanted {expected!r}")
            time.sleep(0.02)
        return time.monotonic() - start

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def workers(runtime: Runtime, database_url: str) -> Iterator[list[Worker]]:
    started = [Worker(runtime.kit.data_dir, database_url) for _ in range(2)]
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            worker.stop()


async def test_a_profile_edit_reaches_every_worker(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, workers: list[Worker]
) -> None:
    await publish(runtime)
    device = family.device_headers
    for worker in workers:
        worker.wait_for(device, "weed.test", "block")  # each polls for the published version
        assert worker.verdict(device, "games.test") == "allow"
    added = await client.post(
        f"/v1/children/{family.child_id}/filter-profile/entries",
        headers=family.guardian.headers,
        json={"host": "games.test", "action": "block"},
    )
    assert added.status_code == 201, added.text
    delays = [worker.wait_for(device, "www.games.test", "block") for worker in workers]
    print(f"profile edit seen after {max(delays) * 1000:.0f} ms")  # noqa: T201
