"""``parental worker`` killed with SIGKILL while FCM holds part of its batch: no row is lost,
and no notification goes twice except those of that batch which had reached FCM.

The worker is the deployed command in its own process, sending with the real SDK (a service
account key whose token comes from the fake) to the fake FCM server, which keeps its answers
back (``hold``). Once the fake has part of the batch, the process is killed; a second worker
then sends everything not leased at once, leaves the dead worker's batch alone while its lease
holds, and sends it when the lease has run out. The workers run on the real clock, and a
lease is at least 10 s (``push_lease_seconds``): the test moves the dead worker's leases into
the past instead of waiting, which is what time passing does to them (a claim takes a row
whose ``lease_until`` is not after now).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.notifications.models import PushOutboxRow
from parental.notifications.outbox import PushMessage
from parental.runtime import Runtime
from tests.fakes.fcm import TOKEN_PATH, FakeFcm
from tests.parental.notifications.conftest import PROJECT, add_phone, enqueue, fcm_token, guardian
from tests.parental.notifications.test_fcm_credentials import service_account_key
from tests.processes import app_environment

pytestmark = pytest.mark.faults

PARENTAL = str(Path(sys.executable).parent / "parental")
ROWS = 300
BATCH = 150  # more than the SDK's 100 connections: a held batch is only partly at FCM
PART = 50  # the kill comes once FCM has at least this much of the batch
TIMEOUT = 30.0  # seconds for any one step (starting a process is most of it)


@pytest.fixture
def fcm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFcm]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with FakeFcm().running() as server:
        yield server


class WorkerProcess:
    """``parental worker`` on the test's database, sending to the fake FCM server."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own command and arguments
                [PARENTAL, "worker", "--interval", "3600", "--timers", "3600"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def start_worker(
    runtime: Runtime, database_url: str, fcm: FakeFcm, tmp_path: Path
) -> Iterator[Callable[[str], WorkerProcess]]:
    key = service_account_key(tmp_path / "sa.json", fcm.url + TOKEN_PATH)
    env = app_environment(runtime.kit.data_dir, database_url) | {
        "PARENTAL_FCM_PROJECT_ID": PROJECT,
        "PARENTAL_FCM_URL": fcm.url,
        "PARENTAL_FCM_CREDENTIALS_FILE": str(key),
        "PARENTAL_FCM_HTTP_RETRIES": "0",
        "PARENTAL_PUSH_BATCH_SIZE": str(BATCH),
        "PARENTAL_PUSH_INTERVAL_SECONDS": "0.2",
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        env.pop(name, None)
        env.pop(name.lower(), None)
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        started.append(WorkerProcess(env, tmp_path / f"{name}.log"))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


async def rows(runtime: Runtime) -> list[PushOutboxRow]:
    async with transaction(runtime.sessions) as session:
        return list(await session.scalars(select(PushOutboxRow)))


def numbers(fcm: FakeFcm) -> Counter[int]:
    """How many times FCM received each notification (by its ``n``)."""
    with fcm._lock:
        return Counter(int(r.body["message"]["data"]["n"]) for r in fcm.received)


async def until(check: Callable[[], Awaitable[bool]], worker: WorkerProcess, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not await check():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {TIMEOUT} s\n{worker.output()}")
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_what_fcm_had(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    fcm: FakeFcm,
    start_worker: Callable[[str], WorkerProcess],
) -> None:
    clock.set(datetime.now(UTC))  # the workers run on the real clock: the rows are due now
    parent = await guardian(client, runtime)
    await add_phone(client, parent, fcm_token("phone"))
    for n in range(ROWS):
        message = PushMessage(title="t", body="b", data={"n": str(n)})
        await enqueue(runtime, parent.account_id, f"k{n}", message)

    # The first worker claims a batch and sends it; FCM takes part of it and does not answer.
    fcm.hold()
    first = start_worker("first")
    arrived = await asyncio.to_thread(fcm.wait_for, PART, TIMEOUT)
    assert arrived, first.output()
    first.kill()
    fcm.release()  # the answers go to a dead process

    leased = [row for row in await rows(runtime) if row.leased_by is not None]
    in_flight = {int(row.dedup_key.removeprefix("k")) for row in leased}
    [dead] = {row.leased_by for row in leased}
    assert len(in_flight) == BATCH
    assert {row.state for row in leased} == {"pending"}

    # A second worker sends every other row at once, and leaves the leased batch alone.
    second = start_worker("second")

    async def others_sent() -> bool:
        return sum(row.state == "sent" for row in await rows(runtime)) == ROWS - BATCH

    await until(others_sent, second, "the rows not leased sent")
    await asyncio.sleep(0.5)  # rounds go on meanwhile (every 0.2 s): none takes the batch
    assert all(row.leased_by == dead for row in await rows(runtime) if row.state == "pending")
    # What FCM has of the batch by now came from the dead worker (requests it wrote before it
    # died may be read after): part of the batch, each once; the rest never left the process.
    at_fcm = Counter({n: c for n, c in numbers(fcm).items() if n in in_flight})
    assert PART <= len(at_fcm) < BATCH
    assert set(at_fcm.values()) == {1}
    assert numbers(fcm) - at_fcm == Counter({n: 1 for n in range(ROWS) if n not in in_flight})

    # The dead worker's lease runs out: its batch goes again, to the second worker.
    async with transaction(runtime.sessions) as session:
        await session.execute(
            update(PushOutboxRow)
            .where(PushOutboxRow.leased_by == dead)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )

    async def all_sent() -> bool:
        return all(row.state == "sent" for row in await rows(runtime))

    await until(all_sent, second, "the dead worker's batch sent")
    second.stop()

    delivered = numbers(fcm)
    assert set(delivered) == set(range(ROWS))  # nothing lost
    twice = {n for n, count in delivered.items() if count > 1}
    assert twice == set(at_fcm)  # only what FCM had of the batch in flight went twice
    assert max(delivered.values()) == 2
