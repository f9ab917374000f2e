"""Location ingestion and latest-position reads on PostgreSQL, next to two baselines.

Run: DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
     REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/bench_locations.py
     [--children 200] [--seconds 10] [--workers 2] [--zigzag]   (needs ``wrk``: apt-get install wrk)

It creates a database of its own (``bench_locations`` on the same server), migrates it and
builds ``--children`` families through the API in-process (guardian, child on a child SIM,
paired device, three places to watch), then measures, in one run:

- baseline 1, ``COPY``: 200,000 fix rows straight into ``location_fixes`` with asyncpg's
  ``copy_records_to_table`` (the physical limit of the table and its indexes);
- baseline 2, the idempotent batched insert the API has to do: the same rows as
  ``INSERT ... SELECT unnest(...) ON CONFLICT DO NOTHING`` in batches of 100, 8 connections;
- ingestion through the HTTP API: ``parental serve``-like uvicorn with ``--workers``, wrk
  posting batches of 100 new fixes per request for the children's devices in turn (validated,
  stored, geofences evaluated, the latest position updated). Each batch walks the child out
  of a place (the next one back in): one enter or exit a batch, with its notification, which
  at a fix a minute is still several times what a child does; ``--zigzag`` crosses the border
  about ten times a batch instead;
- latest-position reads: ``GET /v1/children/{id}/location`` on one worker, wrk with the
  guardians' tokens in turn, requests per second and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from parental import migrate
from parental.app import create_app
from parental.runtime import build_runtime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' world builders
from tests.parental.factories import build_family, carrier_headers

COLUMNS = (
    "id", "child_id", "device_id", "source", "fixed_at", "received_at", "latitude", "longitude",
    "accuracy_m", "altitude_m", "speed_mps", "heading_deg", "battery_pct", "charging",
)  # fmt: skip
TYPES = (
    "uuid", "uuid", "uuid", "text", "timestamptz", "timestamptz", "float8", "float8", "float8",
    "float8", "float8", "float8", "int2", "bool",
)  # fmt: skip
ALMATY = (43.2389, 76.8897)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def fresh_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``url``; its SQLAlchemy URL."""
    admin = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def rows(count: int, now: datetime) -> list[tuple[object, ...]]:
    rng = random.Random(1)
    children = [uuid.uuid4() for _ in range(200)]
    start = now - timedelta(days=1)
    out = []
    for i in range(count):
        child = children[i % len(children)]
        out.append(
            (
                uuid.uuid4(), child, child, "gps", start + timedelta(seconds=i // len(children)),
                now, ALMATY[0] + rng.uniform(-0.05, 0.05), ALMATY[1] + rng.uniform(-0.05, 0.05),
                rng.uniform(3, 30), 800.0, 1.2, 90.0, 80, False,
            )
        )  # fmt: skip
    return out


async def baselines(dsn: str, count: int) -> tuple[float, float, float]:
    """Rows a second: COPY, and batches of 100 with ON CONFLICT DO NOTHING on 8 connections;
    and the bytes a fix takes on disk, table and indexes (for docs/scaling.md)."""
    now = datetime.now(UTC)
    data = rows(count, now)
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.copy_records_to_table("location_fixes", records=data, columns=COLUMNS)
        copy_rate = count / (time.perf_counter() - started)
        await connection.execute("VACUUM ANALYZE location_fixes")
        size = await connection.fetchval("SELECT pg_total_relation_size('location_fixes')")
        await connection.execute("TRUNCATE location_fixes")
    finally:
        await connection.close()
    arrays = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(TYPES))
    names = ", ".join(COLUMNS)  # the statement is built from the constants above
    statement = f"INSERT INTO location_fixes ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608
    statement += "ON CONFLICT DO NOTHING"
    batches = [data[i : i + 100] for i in range(0, count, 100)]
    pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8)
    try:
        queue = list(reversed(batches))

        async def insert() -> None:
            async with pool.acquire() as conn:
                while queue:
                    batch = queue.pop()
                    await conn.execute(
                        statement, *(list(column) for column in zip(*batch, strict=True))
                    )

        started = time.perf_counter()
        await asyncio.gather(*(insert() for _ in range(8)))
        insert_rate = count / (time.perf_counter() - started)
        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE location_fixes")
    finally:
        await pool.close()
    return copy_rate, insert_rate, size / count


async def build_world(children: int) -> list[tuple[str, str, str]]:
    """(child id, guardian token, device token) of ``children`` families, made through the API."""
    runtime = build_runtime()
    await migrate.upgrade(runtime.engine)
    app = create_app(runtime)
    out = []
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c,
    ):
        carrier = await carrier_headers(runtime)
        # Numbers of this run only: sign-in limits per phone number live in Redis across runs.
        first = random.randrange(0, 9_000_000 - children)
        for n in range(first, first + children):
            world = await build_family(
                c, runtime, carrier, guardian_phone=f"+7701{n:07d}", line=f"+7707{n:07d}"
            )
            for k, (dlat, dlon) in enumerate([(0.0, 0.0), (0.01, 0.02), (-0.02, 0.01)]):
                place = {
                    "name": f"place {k}",
                    "shape": {
                        "kind": "circle",
                        "center": {"latitude": ALMATY[0] + dlat, "longitude": ALMATY[1] + dlon},
                        "radius_m": 300,
                    },
                    "events": ["enter", "exit"],
                }
                created = await c.post(
                    f"/v1/children/{world.child_id}/places",
                    headers=world.guardian.headers,
                    json=place,
                )
                assert created.status_code == 201, created.text
            out.append((world.child_id, world.guardian.access_token, world.device_token))
    await runtime.close()
    return out


def wrk(url: str, script: str, seconds: int, connections: int, cores: str | None = None) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    pinned = ["taskset", "-c", cores] if cores else []
    command = [*pinned, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*command, "-s", f.name, url], check=True, capture_output=True, text=True
    ).stdout
    os.unlink(f.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed requests:\n{out}")
    return out


def requests_per_second(out: str) -> float:
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def latency_ms(out: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)$", out, re.M)
    assert match, out
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


INGEST = """
local devices = %(devices)s
local base = %(base)d
local n = 0
request = function()
  n = n + 1
  local device = devices[(n %% #devices) + 1]
  local round = math.floor(n / #devices)
  local parts = {}
  for j = 0, 99 do
    local t = base + round * 100 + j
    local lat
    if %(zigzag)s then
      -- across the border of the first place and back, about ten times a batch
      lat = 43.2389 + ((j %% 20) - 10) * 0.0004
    else
      -- a walk out of the first place (and back in on the next batch): one crossing a batch
      local step = (round %% 2 == 0) and j or (99 - j)
      lat = 43.2389 + step * 0.00008
    end
    parts[#parts + 1] = string.format(
      '{"fixed_at":"%%s","latitude":%%.6f,"longitude":%%.6f,"accuracy_m":12,' ..
      '"battery_pct":80,"charging":false}',
      os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", t), lat, 76.8897 + ((j %% 7) - 3) * 0.0004)
  end
  local body = '{"fixes":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/v1/device/locations",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. device}, body)
end
"""

READ = """
local pairs_ = %(pairs)s
local n = 0
request = function()
  n = n + 1
  local p = pairs_[(n %% #pairs_) + 1]
  return wrk.format("GET", "/v1/children/" .. p[1] .. "/location",
    {["Authorization"] = "Bearer " .. p[2]})
end
"""


def lua(values: object) -> str:
    return json.dumps(values).replace("[", "{").replace("]", "}")


def serve(
    port: int, workers: int, env: dict[str, str], cores: str | None = None
) -> subprocess.Popen[bytes]:
    command = [
        *(["taskset", "-c", cores] if cores else []),
        sys.executable, "-m", "uvicorn", "parental.app:create_app", "--factory",
        "--port", str(port), "--workers", str(workers), "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--zigzag",
        action="store_true",
        help="each batch crosses a place's border about ten times (a stress case) instead of once",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (the benchmark creates its own database)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-locations-"))
    database = asyncio.run(fresh_database(url, "bench_locations"))
    os.environ.update({"DATABASE_URL": database, "PARENTAL_DATA_DIR": str(work)})
    # One client builds every family: the per-address limits of sign-in and pairing would stop it.
    for limit in ("CODE_REQUESTS_PER_IP", "CODE_ATTEMPTS_PER_IP", "PAIRING_ATTEMPTS_PER_IP"):
        os.environ[f"PARENTAL_LIMIT_{limit}"] = "100000/hour"
    env = dict(os.environ)
    world = asyncio.run(build_world(args.children))
    copy_rate, insert_rate, row_bytes = asyncio.run(baselines(asyncpg_dsn(database), args.rows))

    port = free_port()
    api = serve(port, args.workers, env)
    try:
        # Warm-up, as for reads: each device's first upload goes through the full route, which
        # leaves the grant its later uploads are checked by (steady state is what is measured).
        base = int((datetime.now(UTC) - timedelta(days=25)).timestamp())
        zigzag = "true" if args.zigzag else "false"
        devices = lua([d for _, _, d in world])
        script = INGEST % {"devices": devices, "base": base, "zigzag": zigzag}
        wrk(f"http://127.0.0.1:{port}", script, 3, 4 * args.workers)
        base = int((datetime.now(UTC) - timedelta(days=20)).timestamp())
        script = INGEST % {"devices": devices, "base": base, "zigzag": zigzag}
        out = wrk(f"http://127.0.0.1:{port}", script, args.seconds, 4 * args.workers)
        ingest = requests_per_second(out) * 100
    finally:
        api.terminate()
        api.wait(timeout=30)
    # One worker on one core; wrk on the other, with PostgreSQL and Redis (as bench_http.py).
    api = serve(port, 1, env, cores="0")
    try:
        script = READ % {"pairs": lua([[c, g] for c, g, _ in world])}
        wrk(f"http://127.0.0.1:{port}", script, 2, 16, cores="1")
        out = wrk(f"http://127.0.0.1:{port}", script, args.seconds, 16, cores="1")
        reads, p50, p99 = requests_per_second(out), latency_ms(out, "50"), latency_ms(out, "99")
    finally:
        api.terminate()
        api.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.children} children with a device and 3 places each; PostgreSQL, "
          f"Redis {'on' if os.environ.get('REDIS_URL') else 'off'}")  # fmt: skip
    print(f"baseline COPY:                            {copy_rate:10,.0f} rows/s")
    print(f"on disk, table and indexes:               {row_bytes:10,.0f} bytes a fix")
    print(f"baseline INSERT ON CONFLICT, 100 a batch: {insert_rate:10,.0f} rows/s")
    print(
        f"API ingestion, 100 a request, {args.workers} workers: {ingest:10,.0f} fixes/s "
        f"({ingest / insert_rate:.0%} of the batched insert; targets >= 35% and >= 20,000/s)"
    )
    print(
        f"latest position, 1 worker:              {reads:10,.0f} req/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms (targets >= 5,000/s, p99 < 10 ms)"
    )


if __name__ == "__main__":
    main()
