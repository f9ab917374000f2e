"""Push notifications (issue 7), every figure in one run: the fake FCM server's own ceiling,
the SDK alone, outbox dispatch on one worker and its share of the SDK's rate, and the time from
a geofence exit accepted by the API to the FCM request.

Run: .venv/bin/python bench/bench_push.py [--messages 10000] [--repeats 3] [--transitions 100]
     SQLite in a temporary directory by default; with DATABASE_URL=postgresql+asyncpg://... and
     REDIS_URL=redis://... a database of its own on that server (``--database``, dropped and
     created first) and that Redis.

1. Throughput (``bench_push_dispatch.py``), against the fast fake (``tests/fakes/fcm_fast.py``,
   its own process pinned to the last core, this one to the others): the fake's ceiling under
   a raw load generator, ``send_each_async`` alone in batches of 500 (no database), and
   ``dispatch_round`` with 500-row batches draining the same messages from the outbox; target:
   dispatch >= 80% of the SDK alone.
2. Latency (``bench_push_latency.py``), against the recording fake (``tests/fakes/fcm.py``):
   from the exit upload's response to the fake receiving the ``place.exit`` message, polling
   only and with the wake-up on commit; target: p99 < 1 s.

Both parts use the same database, one after the other. The exit status is 0 only when both
targets are met.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fakes

import bench_push_dispatch as throughput
import bench_push_latency as latency
from tests.fakes.fcm import FakeFcm
from tests.fakes.fcm_fast import running_fast_fcm

from parental import migrate
from parental.kit.db import create_engine
from parental.kit.settings import Environment, KitSettings

SECRET = "bench-secret-" + "x" * 40


async def fresh_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the PostgreSQL server of ``url``; its URL."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", default="bench_push", help="on PostgreSQL: its name")
    part = parser.add_argument_group("throughput")
    part.add_argument("--messages", type=int, default=10_000)
    part.add_argument("--repeats", type=int, default=3)
    part.add_argument("--connections", type=int, default=64, help="for the fake's ceiling")
    part.add_argument("--ceiling", type=int, default=40_000, help="requests for the ceiling")
    part.add_argument(
        "--fcm-timeout",
        type=float,
        default=60.0,
        help="the SDK's timeout, seconds (production: 10); a message past it counts as failed",
    )
    part = parser.add_argument_group("latency")
    part.add_argument("--transitions", type=int, default=100)
    part.add_argument("--children", type=int, default=10)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    logging.getLogger("parental.sms.sender").setLevel(logging.ERROR)  # the sign-in codes
    # Straight to the local fakes: a proxy variable would send the SDK's requests elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)
    work = Path(tempfile.mkdtemp(prefix="bench-push-"))
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        url = asyncio.run(fresh_database(url, args.database))
    else:
        url = f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}"
    kit = KitSettings(
        environment=Environment.DEVELOPMENT,
        data_dir=work,
        database_url=url,
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=SECRET,  # type: ignore[arg-type]
    )
    cores = sorted(os.sched_getaffinity(0))
    fake_core = str(cores[-1]) if len(cores) > 1 and shutil.which("taskset") else None
    try:
        asyncio.run(migrated(url))
        with running_fast_fcm(cores=fake_core) as fcm_url:
            if fake_core is not None:
                os.sched_setaffinity(0, cores[:-1])
            fast = asyncio.run(throughput.measure(args, fcm_url, kit))
        os.sched_setaffinity(0, cores)
        with FakeFcm().running() as fcm:
            exits = asyncio.run(latency.measure(kit, fcm, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    database = make_url(url).get_dialect().name
    print("== throughput")
    dispatch_met = throughput.report(args, database, fast)
    print("== geofence exit to FCM request")
    latency_met = latency.report(args, kit, exits)
    sys.exit(0 if dispatch_met and latency_met else 1)


if __name__ == "__main__":
    main()
