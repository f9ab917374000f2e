"""Push outbox dispatch throughput against a fake FCM server, next to the SDK alone.

Run: .venv/bin/python bench/bench_push_dispatch.py [--messages 10000] [--repeats 3]
     (SQLite in a temporary directory; with DATABASE_URL=postgresql+asyncpg://... it creates
     and uses its own database ``bench_push_dispatch`` on that server)

Three figures, in one run, against ``tests/fakes/fcm_fast.py`` (uvicorn, in its own process,
pinned to the last core; this process to the others):

1. the fake's ceiling: a raw load generator (asyncio streams, ``--connections`` keep-alive
   connections, the SDK's request: its body and headers less the metrics ones) and the server's
   own CPU time per answer;
2. the baseline, the SDK alone: the ``--messages`` messages (one per guardian's phone) handed
   to ``send_each_async`` in batches of 500, no database; only the sends are timed;
3. outbox dispatch on one worker: the same messages as outbox rows (``enqueue_many``), drained
   by ``dispatch_round`` with ``push_batch_size`` 500: claim, tokens, build, send, settle.

Figures 2 and 3 are measured batch by batch in turn (a batch of the SDK alone, then a round),
and each is the median of ``--repeats`` such runs; each line also shows the
share of a core this process and the fake used, which says who was the bottleneck. Target
(issue 7): dispatch >= 80% of the SDK alone, with the fake far from its ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from firebase_admin import messaging
from google.oauth2.credentials import Credentials
from sqlalchemy import insert
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fakes
from tests.fakes.fcm_fast import running_fast_fcm

from parental import migrate
from parental.auth.models import Account
from parental.kit.db import transaction
from parental.kit.settings import KitSettings
from parental.notifications import outbox
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.fcm import PushSender, build_message
from parental.notifications.models import PushOutboxRow, PushToken
from parental.notifications.outbox import Notice, PushMessage
from parental.runtime import Runtime, build_runtime
from parental.settings import ParentalSettings

PROJECT = "bench-project"
ACCESS_TOKEN = "bench-access-token"  # noqa: S105 - the fake takes any bearer token
BATCH = 500
TARGET = 0.80
MESSAGE = PushMessage(
    title="Алия покинула «Школа»",
    body="В 15:42, 200 м от границы",
    data={"kind": "geofence_exit", "child_id": str(uuid.UUID(int=7)), "place_id": "42"},
    collapse_key="geofence:42",
    ttl_seconds=3600,
)


@dataclass(frozen=True)
class Figure:
    """One timed phase: messages answered, wall seconds, CPU seconds of this process and of
    the fake."""

    count: int
    wall: float
    cpu: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.count / self.wall

    def __add__(self, other: Figure) -> Figure:
        return Figure(
            self.count + other.count,
            self.wall + other.wall,
            self.cpu + other.cpu,
            self.server_cpu + other.server_cpu,
        )


def fcm_token(n: int) -> str:
    """Something shaped like an FCM registration token."""
    return f"bench{n:07d}:APA91b" + "x" * 140


async def server_cpu(client: httpx.AsyncClient) -> tuple[int, float]:
    stats = (await client.get("/stats")).json()
    return int(stats["answered"]), float(stats["cpu_seconds"])


async def timed(
    client: httpx.AsyncClient,
    count: int,
    work: Awaitable[tuple[float, float] | None],
) -> Figure:
    """Run ``work``, check the fake answered ``count`` requests meanwhile, and time it (or
    take the wall and CPU seconds ``work`` returns: the part of it that counts)."""
    answered, server_before = await server_cpu(client)
    wall, cpu = time.perf_counter(), time.process_time()
    own = await work
    wall, cpu = own or (time.perf_counter() - wall, time.process_time() - cpu)
    now_answered, server_after = await server_cpu(client)
    if now_answered - answered != count:
        raise RuntimeError(f"the fake answered {now_answered - answered}, expected {count}")
    return Figure(count, wall, cpu, server_after - server_before)


# -- 1. the fake's ceiling ------------------------------------------------------------------


def raw_request(url: str, body: bytes) -> bytes:
    """The HTTP/1.1 request the SDK sends for one message (its headers, minus the metrics)."""
    host = url.removeprefix("http://")
    head = (
        f"POST /v1/projects/{PROJECT}/messages:send HTTP/1.1\r\n"
        f"Host: {host}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
        f"Connection: keep-alive\r\nUser-Agent: bench\r\nX-GOOG-API-FORMAT-VERSION: 2\r\n"
        f"Authorization: Bearer {ACCESS_TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


async def hammer(url: str, request: bytes, *, connections: int, per_connection: int) -> None:
    """``connections`` keep-alive connections, each sending ``per_connection`` requests one
    after another; every answer must be a 200."""
    host, port = url.removeprefix("http://").split(":")

    async def one() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for _ in range(per_connection):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.decode(errors="replace"))
                length = LENGTH.search(head)
                await reader.readexactly(int(length[1]) if length else 0)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))


# -- the world ------------------------------------------------------------------------------


async def seed(runtime: Runtime, count: int) -> list[tuple[uuid.UUID, str]]:
    """``count`` guardians with one phone each: (account id, token)."""
    now = datetime.now(UTC)
    guardians = [(uuid.uuid4(), fcm_token(n)) for n in range(count)]
    async with transaction(runtime.sessions) as session:
        for start in range(0, count, 2000):
            chunk = guardians[start : start + 2000]
            accounts = [
                {"id": a, "phone": f"+7700{n:07d}", "locale": "ru", "created_at": now}
                for n, (a, _) in enumerate(chunk, start)
            ]
            phones = [
                {
                    "id": uuid.uuid4(),
                    "account_id": a,
                    "token": token,
                    "platform": "android",
                    "app_version": "1.4.0",
                    "locale": "ru",
                    "created_at": now,
                    "refreshed_at": now,
                }
                for a, token in chunk
            ]
            await session.execute(insert(Account), accounts)
            await session.execute(insert(PushToken), phones)
    return guardians


async def enqueue(runtime: Runtime, guardians: list[tuple[uuid.UUID, str]], run: str) -> None:
    notices = [Notice(f"bench:{run}:{a}", a, "geofence_exit", MESSAGE) for a, _ in guardians]
    async with transaction(runtime.sessions) as session:
        for start in range(0, len(notices), 2000):
            await outbox.enqueue_many(
                session, notices[start : start + 2000], now=runtime.clock.now()
            )


async def one_round(runtime: Runtime, expected: int) -> None:
    report = await dispatch_round(runtime)
    if (report.claimed, report.sent) != (expected, expected):
        raise RuntimeError(f"a round sent {report.sent} of {report.claimed}, expected {expected}")


async def sdk_alone(sender: PushSender, tokens: list[str]) -> tuple[float, float]:
    """The message to each token, handed to ``send_each_async`` 500 at a time: the wall and
    CPU seconds of the sends alone. Each batch's messages are built just before it, untimed:
    10,000 built at once would grow the heap the garbage collector walks (the dispatcher
    holds one round's at a time), which slowed the SDK by a fifth."""
    wall = cpu = 0.0
    for start in range(0, len(tokens), BATCH):
        now = datetime.now(UTC)
        batch = [build_message(MESSAGE, t, created_at=now, now=now) for t in tokens[start:][:BATCH]]
        began, began_cpu = time.perf_counter(), time.process_time()
        responses = await sender.send(batch)
        wall += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
        for response in responses:
            if response.exception is not None:
                raise response.exception
    return wall, cpu


# -- the run --------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, fcm_url: str, database_url: str, work: Path) -> None:
    settings = ParentalSettings(
        fcm_project_id=PROJECT,
        fcm_url=fcm_url,
        fcm_http_retries=0,
        fcm_http_backoff_factor=0,
        push_batch_size=BATCH,
    )
    kit = KitSettings(database_url=database_url, data_dir=work)
    runtime = build_runtime(kit, settings)
    runtime.push = PushSender(settings, credential=Credentials(token=ACCESS_TOKEN))  # type: ignore[no-untyped-call]
    await migrate.upgrade(runtime.engine)
    guardians = await seed(runtime, args.messages)
    tokens = [token for _, token in guardians]
    now = datetime.now(UTC)
    first = build_message(MESSAGE, tokens[0], created_at=now, now=now)
    body = json.dumps({"message": messaging._MessagingService.encode_message(first)})

    async with httpx.AsyncClient(base_url=fcm_url) as stats:
        per = max(1, args.ceiling // args.connections)
        request = raw_request(fcm_url, body.encode())
        await hammer(fcm_url, request, connections=args.connections, per_connection=10)
        ceiling = await timed(
            stats,
            per * args.connections,
            hammer(fcm_url, request, connections=args.connections, per_connection=per),
        )

        await sdk_alone(runtime.push, tokens[:BATCH])  # the App, its client, connections
        await enqueue(runtime, guardians[:BATCH], "warm")
        await one_round(runtime, BATCH)  # statement caches
        sdk: list[Figure] = []
        dispatch: list[Figure] = []
        zero = Figure(0, 0.0, 0.0, 0.0)
        for run in range(args.repeats):
            await enqueue(runtime, guardians, str(run))
            sdk.append(zero)
            dispatch.append(zero)
            # Batch by batch in turn, so that other load on the machine weighs on both alike.
            for start in range(0, len(tokens), BATCH):
                chunk = tokens[start : start + BATCH]
                sdk[-1] += await timed(stats, len(chunk), sdk_alone(runtime.push, chunk))
                dispatch[-1] += await timed(stats, len(chunk), one_round(runtime, len(chunk)))
            if (await dispatch_round(runtime)).claimed:
                raise RuntimeError("rows left over")
    async with transaction(runtime.sessions) as session:
        rows = (await session.execute(PushOutboxRow.__table__.select())).all()
        assert all(row.state == "sent" for row in rows), "every row sent"
    await runtime.close()
    report(args, runtime, ceiling, sdk, dispatch, len(body))


def report(
    args: argparse.Namespace,
    runtime: Runtime,
    ceiling: Figure,
    sdk: list[Figure],
    dispatch: list[Figure],
    body_bytes: int,
) -> None:
    def median(figures: list[Figure]) -> Figure:
        return sorted(figures, key=lambda f: f.rate)[len(figures) // 2]

    base, ours = median(sdk), median(dispatch)
    database = runtime.engine.dialect.name
    per_answer_us = ceiling.server_cpu / ceiling.count * 1e6
    print(
        f"{args.messages:,} messages to {args.messages:,} guardians' phones, one worker, "
        f"{database}; request body {body_bytes} bytes; median of {args.repeats} runs"
    )
    print(f"{'':44} {'msg/s':>9} {'CPU µs/msg':>11} {'this proc':>10} {'fake':>6}")

    def line(label: str, figure: Figure, extra: str = "") -> None:
        print(
            f"{label:44} {figure.rate:9,.0f} {figure.cpu / figure.count * 1e6:11,.0f} "
            f"{figure.cpu / figure.wall:10.0%} {figure.server_cpu / figure.wall:6.0%}  {extra}"
        )

    line(
        f"fake FCM, raw load, {args.connections} connections",
        ceiling,
        f"(fake: {per_answer_us:.0f} µs CPU an answer: {1e6 / per_answer_us:,.0f}/s a core)",
    )
    line("baseline: SDK alone, send_each_async x 500", base)
    met = ours.rate >= TARGET * base.rate
    line(
        "outbox dispatch_round, batches of 500",
        ours,
        f"({ours.rate / base.rate:.0%} of the SDK alone; target >= {TARGET:.0%}: "
        f"{'met' if met else 'NOT MET'})",
    )
    cpu_ratio = (base.cpu / base.count) / (ours.cpu / ours.count)
    print(f"CPU per message, SDK alone / dispatch: {cpu_ratio:.0%} (insensitive to other load)")
    print("runs (msg/s): SDK " + ", ".join(f"{f.rate:,.0f}" for f in sdk))
    print("         dispatch " + ", ".join(f"{f.rate:,.0f}" for f in dispatch))


async def fresh_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``url``; its SQLAlchemy URL."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64, help="for the fake's ceiling")
    parser.add_argument("--ceiling", type=int, default=40_000, help="requests for the ceiling")
    args = parser.parse_args()
    # Straight to the local fake: a proxy variable would send the SDK's requests elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)
    work = Path(tempfile.mkdtemp(prefix="bench-push-"))
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        url = asyncio.run(fresh_database(url, "bench_push_dispatch"))
    else:
        url = f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}"
    cores = sorted(os.sched_getaffinity(0))
    fake_core = str(cores[-1]) if len(cores) > 1 and shutil.which("taskset") else None
    try:
        with running_fast_fcm(cores=fake_core) as fcm_url:
            if fake_core is not None:
                os.sched_setaffinity(0, cores[:-1])
            asyncio.run(measure(args, fcm_url, url, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
