"""Push outbox dispatch throughput against a fake FCM server, next to the SDK alone: the
throughput part of ``bench/bench_push.py`` (run that; this module has no command of its own).

Three figures, against ``tests/fakes/fcm_fast.py`` (uvicorn, in its own process, pinned to the
last core; this process to the others):

1. the fake's ceiling: a raw load generator (asyncio streams, ``--connections`` keep-alive
   connections, the SDK's request: its body and headers less the metrics ones) and the server's
   own CPU time per answer;
2. the baseline, the SDK alone: the ``--messages`` messages (one per guardian's phone) handed
   to ``send_each_async`` in batches of 500, no database; only the sends are timed;
3. outbox dispatch on one worker: the same messages as outbox rows (``enqueue_many``), drained
   by ``dispatch_round`` with ``push_batch_size`` 500: claim, tokens, build, send, settle.

Figures 2 and 3 are measured batch by batch in turn (a batch of the SDK alone, then a round),
and each is the median of ``--repeats`` such runs; each line also shows the share of a core
this process and the fake used, which says who was the bottleneck. Target (issue 7): dispatch
>= 80% of the SDK alone, with the fake far from its ceiling.

A message the SDK could not send (on a loaded machine a 500-message batch queueing for the
SDK's 100 connections once ran past its 10 s timeout: ``DeadlineExceededError``) is counted
as failed, shown, and left out of the rate; the run goes on. The SDK's timeout is
``--fcm-timeout`` (60 s here, 10 s by default in production) so that such stalls stay rare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from firebase_admin import messaging
from google.oauth2.credentials import Credentials
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fakes

from parental.auth.models import Account
from parental.kit import heap
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
class Outcome:
    """What a timed piece of work did: messages FCM took, messages that failed (by the SDK's
    exception), and, when only part of it counts, that part's wall and CPU seconds."""

    sent: int
    failed: Counter[str] = field(default_factory=Counter)
    seconds: tuple[float, float] | None = None


@dataclass(frozen=True)
class Figure:
    """One timed phase: messages answered, wall seconds, CPU seconds of this process and of
    the fake, messages that failed."""

    count: int
    wall: float
    cpu: float
    server_cpu: float
    failed: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def __add__(self, other: Figure) -> Figure:
        return Figure(
            self.count + other.count,
            self.wall + other.wall,
            self.cpu + other.cpu,
            self.server_cpu + other.server_cpu,
            self.failed + other.failed,
        )


ZERO = Figure(0, 0.0, 0.0, 0.0)


def fcm_token(n: int) -> str:
    """Something shaped like an FCM registration token."""
    return f"bench{n:07d}:APA91b" + "x" * 140


async def server_stats(client: httpx.AsyncClient) -> tuple[int, float]:
    stats = (await client.get("/stats")).json()
    return int(stats["answered"]), float(stats["cpu_seconds"])


async def timed(client: httpx.AsyncClient, work: Awaitable[Outcome]) -> Figure:
    """Run ``work``, check the fake answered what it says was sent, and time it (or take the
    wall and CPU seconds ``work`` returns: the part of it that counts)."""
    answered, server_before = await server_stats(client)
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = await work
    wall, cpu = outcome.seconds or (time.perf_counter() - wall, time.process_time() - cpu)
    now_answered, server_after = await server_stats(client)
    # A message the SDK gave up on may still have been answered, late.
    if now_answered - answered < outcome.sent or (
        not outcome.failed and now_answered - answered != outcome.sent
    ):
        raise RuntimeError(f"the fake answered {now_answered - answered}, sent {outcome.sent}")
    return Figure(outcome.sent, wall, cpu, server_after - server_before, outcome.failed)


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


async def hammer(url: str, request: bytes, *, connections: int, per_connection: int) -> Outcome:
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
    return Outcome(connections * per_connection)


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


async def one_round(runtime: Runtime) -> Outcome:
    """A round of the dispatcher; a row not sent (its SDK error is in the worker's log) is
    pending again, held back by the dispatcher's backoff for the rest of the run."""
    report = await dispatch_round(runtime)
    failed = report.claimed - report.sent
    return Outcome(report.sent, Counter({"not sent (see the log)": failed} if failed else {}))


async def sdk_alone(sender: PushSender, tokens: list[str]) -> Outcome:
    """The message to each token, handed to ``send_each_async`` 500 at a time: the wall and
    CPU seconds of the sends alone. Each batch's messages are built just before it, untimed:
    10,000 built at once would grow the heap the garbage collector walks (the dispatcher
    holds one round's at a time), which slowed the SDK by a fifth."""
    wall = cpu = 0.0
    sent = 0
    failed: Counter[str] = Counter()
    for start in range(0, len(tokens), BATCH):
        now = datetime.now(UTC)
        batch = [build_message(MESSAGE, t, due_at=now, now=now) for t in tokens[start:][:BATCH]]
        began, began_cpu = time.perf_counter(), time.process_time()
        responses = await sender.send(batch)
        wall += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
        for response in responses:
            if response.exception is None:
                sent += 1
            else:
                failed[type(response.exception).__name__] += 1
    return Outcome(sent, failed, (wall, cpu))


# -- the run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    """The three figures: the fake's ceiling, the SDK alone and dispatch (one per run), and
    the outbox rows left unsent at the end (each a failure counted in a dispatch run)."""

    ceiling: Figure
    sdk: list[Figure]
    dispatch: list[Figure]
    body_bytes: int
    unsent: int


async def measure(args: argparse.Namespace, fcm_url: str, kit: KitSettings) -> Throughput:
    """The three figures, on a migrated database (``kit``) against the fast fake at
    ``fcm_url``."""
    settings = ParentalSettings(
        fcm_project_id=PROJECT,
        fcm_url=fcm_url,
        fcm_http_retries=0,
        fcm_http_backoff_factor=0,
        fcm_timeout_seconds=args.fcm_timeout,
        push_batch_size=BATCH,
    )
    runtime = build_runtime(kit, settings)
    runtime.push = PushSender(settings, credential=Credentials(token=ACCESS_TOKEN))  # type: ignore[no-untyped-call]
    try:
        guardians = await seed(runtime, args.messages)
        tokens = [token for _, token in guardians]
        now = datetime.now(UTC)
        first = build_message(MESSAGE, tokens[0], due_at=now, now=now)
        body = json.dumps({"message": messaging._MessagingService.encode_message(first)})

        async with httpx.AsyncClient(base_url=fcm_url) as stats:
            per = max(1, args.ceiling // args.connections)
            request = raw_request(fcm_url, body.encode())
            await hammer(fcm_url, request, connections=args.connections, per_connection=10)
            ceiling = await timed(
                stats, hammer(fcm_url, request, connections=args.connections, per_connection=per)
            )

            await sdk_alone(runtime.push, tokens[:BATCH])  # the App, its client, connections
            await enqueue(runtime, guardians[:BATCH], "warm")
            await one_round(runtime)  # statement caches
            # What lives for the whole run (modules, the world's lists) is left out of every
            # collection from now on, as ``parental worker`` does once started (``kit.heap``):
            # both figures were paying for the benchmark's own heap in garbage collection.
            heap.settle()
            sdk: list[Figure] = []
            dispatch: list[Figure] = []
            for run in range(args.repeats):
                await enqueue(runtime, guardians, str(run))
                sdk.append(ZERO)
                dispatch.append(ZERO)
                # Batch by batch in turn, so that other load on the machine weighs on both alike.
                for start in range(0, len(tokens), BATCH):
                    chunk = tokens[start : start + BATCH]
                    sdk[-1] += await timed(stats, sdk_alone(runtime.push, chunk))
                    dispatch[-1] += await timed(stats, one_round(runtime))
                while (await dispatch_round(runtime)).claimed:  # rows whose retry fell due
                    pass
        async with transaction(runtime.sessions) as session:
            unsent = await session.scalar(select(func.count()).where(PushOutboxRow.state != "sent"))
    finally:
        await runtime.close()
    return Throughput(ceiling, sdk, dispatch, len(body), int(unsent or 0))


def median(figures: list[Figure]) -> Figure:
    return sorted(figures, key=lambda f: f.rate)[len(figures) // 2]


def report(args: argparse.Namespace, database: str, result: Throughput) -> bool:
    """Print the figures; whether dispatch met the target."""
    ceiling = result.ceiling
    base, ours = median(result.sdk), median(result.dispatch)
    per_answer_us = ceiling.server_cpu / ceiling.count * 1e6
    print(
        f"{args.messages:,} messages to {args.messages:,} guardians' phones, one worker, "
        f"{database}; request body {result.body_bytes} bytes; median of {args.repeats} runs; "
        f"SDK timeout {args.fcm_timeout:g} s"
    )
    print(f"{'':44} {'msg/s':>9} {'CPU µs/msg':>11} {'this proc':>10} {'fake':>6}")

    def line(label: str, figure: Figure, extra: str = "") -> None:
        cpu_per = figure.cpu / figure.count * 1e6 if figure.count else 0.0
        print(
            f"{label:44} {figure.rate:9,.0f} {cpu_per:11,.0f} "
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
    print("runs (msg/s): SDK " + ", ".join(f"{f.rate:,.0f}" for f in result.sdk))
    print("         dispatch " + ", ".join(f"{f.rate:,.0f}" for f in result.dispatch))
    pairs = zip(result.sdk, result.dispatch, strict=True)
    print("dispatch / SDK, run by run: " + ", ".join(f"{d.rate / s.rate:.0%}" for s, d in pairs))
    for name, figures in (("SDK alone", result.sdk), ("dispatch", result.dispatch)):
        failed = sum((f.failed for f in figures), Counter[str]())
        if failed:
            what = ", ".join(f"{count} {error}" for error, count in failed.most_common())
            print(f"failed messages, {name} (left out of its rate): {what}")
    if result.unsent:
        print(f"outbox rows not sent at the end (waiting on a retry): {result.unsent}")
    return met


if __name__ == "__main__":
    sys.exit("run bench/bench_push.py: it reports these figures with the latency's")
