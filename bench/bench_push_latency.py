"""From a geofence exit accepted by the API to the FCM request: wake-up on commit vs polling;
the latency part of ``bench/bench_push.py`` (run that; this module has no command of its own).

On the embedded default (SQLite, in-process notices) the worker's rounds run in the API's
process; with PostgreSQL and Redis the worker has a runtime of its own, so its wake-up notices
travel through Redis as they do to ``parental worker``.

The API runs under uvicorn on a loopback port, sending to the fake FCM server of the tests
(``tests/fakes/fcm.py``, which records when each request arrived). ``--children`` families
are built through the API: a guardian with a phone registered by ``PUT /v1/push-tokens``, a
child with a paired device and a place (a 300 m circle) watched for entering and leaving.
Each child's device then uploads, in turn, a fix far outside the place and one inside it,
the children at once, each exit after a random pause of up to ``push_interval_seconds`` (so
it falls anywhere in the polling interval); for each exit the figure is the time from the
upload's response reaching the client to the fake receiving the ``place.exit`` message. (The
API, the worker and the client share one event loop: the embedded default is one process.)

Two runs on the same world, one after the other:

1. baseline: the wake-up switched off (``push_wake_on_commit=false``), the worker polls every
   ``push_interval_seconds`` (5 s by default);
2. wake-up: a commit that wrote outbox rows wakes the worker at once (``live``).

Target (issue 7): p99 under 1 second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from google.oauth2.credentials import Credentials

from parental.app import create_app
from parental.kit.settings import KitSettings
from parental.notifications.fcm import PushSender
from parental.runtime import Runtime, build_runtime
from parental.settings import ParentalSettings
from parental.sms.sender import LogSmsSender
from parental.worker import run_forever

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fakes and builders
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import FamilyWorld, build_family, carrier_headers

HOME = (43.2389, 76.8897)
AWAY = (43.2889, 76.9397)  # about 7 km from HOME
SECRET = "bench-secret-" + "x" * 40
LONG = 3600.0  # the worker's maintenance and timers: out of the way
BASELINE = "baseline: polling only"
WAKE = "wake-up on commit"


@dataclass
class Child:
    world: FamilyWorld
    seen: set[str]  # event ids of notifications already matched


def settings(fcm: FakeFcm, *, wake: bool) -> ParentalSettings:
    # One client builds every family: the per-address limits of sign-in and pairing would
    # stop it; each device uploads far faster than a phone does.
    return ParentalSettings(
        fcm_project_id="bench",
        fcm_url=fcm.url,
        fcm_http_retries=0,
        push_wake_on_commit=wake,
        limit_code_requests_per_ip="100000/hour",
        limit_code_attempts_per_ip="100000/hour",
        limit_pairing_attempts_per_ip="100000/hour",
        limit_location_uploads_per_device="100000/minute",
    )


def open_runtime(kit: KitSettings, fcm: FakeFcm, *, wake: bool) -> Runtime:
    runtime = build_runtime(kit, settings(fcm, wake=wake), sms=LogSmsSender())
    # A fixed access token: no Google token endpoint is asked (as in the tests).
    credential = Credentials(token="bench")  # type: ignore[no-untyped-call]  # noqa: S106
    runtime.push = PushSender(runtime.settings, credential=credential)
    return runtime


@asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The API behind uvicorn on a loopback port, and a client for it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(runtime),
        lifespan="on",
        log_level="warning",
        access_log=False,
        # Longer than the pauses between a child's uploads: a connection the server closes
        # just as the client reuses it fails the request.
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn has no event for it
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield http
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def worker(runtime: Runtime) -> AsyncIterator[None]:
    """``run_forever`` on ``runtime`` (what ``parental worker`` and the embedded API run)."""
    task = asyncio.create_task(run_forever(runtime, interval_seconds=LONG, timer_seconds=LONG))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def build_world(runtime: Runtime, count: int) -> list[Child]:
    """``count`` families with a phone to push to and a watched place."""
    app = create_app(runtime)
    children: list[Child] = []
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c,
    ):
        carrier = await carrier_headers(runtime)
        # Numbers of this run only: sign-in limits per phone number live in Redis across runs.
        first = random.randrange(0, 9_000_000 - count)
        for n in range(first, first + count):
            world = await build_family(
                c, runtime, carrier, guardian_phone=f"+7701{n:07d}", line=f"+7707{n:07d}"
            )
            phone = {
                "token": f"bench{n}:APA91b" + "x" * 140,
                "platform": "android",
                "app_version": "1.4.0",
                "locale": "ru",
            }
            added = await c.put("/v1/push-tokens", headers=world.guardian.headers, json=phone)
            assert added.status_code == 200, added.text
            place = {
                "name": "School",
                "shape": {
                    "kind": "circle",
                    "center": {"latitude": HOME[0], "longitude": HOME[1]},
                    "radius_m": 300,
                },
                "events": ["enter", "exit"],
            }
            created = await c.post(
                f"/v1/children/{world.child_id}/places", headers=world.guardian.headers, json=place
            )
            assert created.status_code == 201, created.text
            children.append(Child(world, set()))
    return children


async def upload(http: httpx.AsyncClient, child: Child, at: tuple[float, float]) -> float:
    """Upload one fix taken now at ``at``; when the response arrived (perf_counter)."""
    fix = {
        "fixed_at": datetime.now(UTC).isoformat(),
        "latitude": at[0],
        "longitude": at[1],
        "accuracy_m": 10,
    }
    response = await http.post(
        "/v1/device/locations", headers=child.world.device_headers, json={"fixes": [fix]}
    )
    done = time.perf_counter()
    assert response.status_code == 200, response.text
    return done


async def arrival(fcm: FakeFcm, child: Child, kind: str) -> float:
    """When the fake received the next ``kind`` message about ``child`` (perf_counter)."""
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        for received in list(fcm.received):
            data = received.body["message"].get("data", {})
            event_id = data.get("event_id", "")
            if (
                data.get("kind") == kind
                and data.get("child_id") == child.world.child_id
                and event_id not in child.seen
            ):
                child.seen.add(event_id)
                return received.arrived_at
        await asyncio.sleep(0.002)
    raise TimeoutError(f"no {kind} message for child {child.world.child_id}")


async def transitions(
    http: httpx.AsyncClient, fcm: FakeFcm, children: list[Child], count: int, pause: float
) -> list[float]:
    """Exit-then-enter ``count`` times across the children at once; the exits' latencies."""
    latencies: list[float] = []
    per_child = [count // len(children) + (i < count % len(children)) for i in range(len(children))]

    async def run(child: Child, times: int) -> None:
        for _ in range(times):
            # At a random point of the polling interval, as a real child's exit would be
            # (right after a round it would wait nearly the whole interval).
            await asyncio.sleep(random.uniform(0, pause))
            accepted = await upload(http, child, AWAY)
            latencies.append(await arrival(fcm, child, "place.exit") - accepted)
            await upload(http, child, HOME)

    await asyncio.gather(*(run(c, t) for c, t in zip(children, per_child, strict=True) if t))
    return latencies


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def line(name: str, latencies: list[float]) -> str:
    ms = [1000 * x for x in latencies]
    return (
        f"{name:<34} p50 {percentile(ms, 50):8.1f} ms   p95 {percentile(ms, 95):8.1f} ms   "
        f"p99 {percentile(ms, 99):8.1f} ms   max {max(ms):8.1f} ms   (n={len(ms)})"
    )


def separate(kit: KitSettings) -> bool:
    """Whether the worker gets a runtime of its own (its notices then go through Redis)."""
    return kit.redis_url is not None and not kit.resolved_database_url.startswith("sqlite")


async def measure(
    kit: KitSettings, fcm: FakeFcm, args: argparse.Namespace
) -> dict[str, list[float]]:
    """The two runs' latencies (seconds) on a migrated database, by run."""
    separate_worker = separate(kit)
    api = open_runtime(kit, fcm, wake=True)
    try:
        children = await build_world(api, args.children)
        async with served(api) as http:
            # Every child's state starts inside the place (the first fix only sets it).
            await asyncio.gather(*(upload(http, c, HOME) for c in children))
            results: dict[str, list[float]] = {}
            for name, wake in ((BASELINE, False), (WAKE, True)):
                if separate_worker:
                    runtime = open_runtime(kit, fcm, wake=wake)
                else:
                    api.settings = settings(fcm, wake=wake)
                    runtime = api
                try:
                    async with worker(runtime):
                        await asyncio.sleep(0.2)  # subscribed, first round done
                        pause = runtime.settings.push_interval_seconds
                        got = await transitions(http, fcm, children, args.transitions, pause)
                        results[name] = got
                finally:
                    if runtime is not api:
                        await runtime.close()
    finally:
        await api.close()

    return results


def report(args: argparse.Namespace, kit: KitSettings, results: dict[str, list[float]]) -> bool:
    """Print the percentiles of each run; whether the wake-up met the target."""
    where = "PostgreSQL + Redis, separate worker runtime" if separate(kit) else "embedded default"
    interval = ParentalSettings().push_interval_seconds
    print(
        f"{args.transitions} geofence exits over {args.children} children; {where}; "
        f"push_interval_seconds {interval:g}"
    )
    print("from the upload's response to the fake FCM receiving the exit's message:")
    for name, latencies in results.items():
        print(line(name, latencies))
    met = percentile(results[WAKE], 99) < 1
    print(f"target p99 < 1000 ms: {'met' if met else 'NOT met'}")
    return met


if __name__ == "__main__":
    sys.exit("run bench/bench_push.py: it reports these figures with the throughput's")
