"""HTTP benchmark of ``/v1/filter/check`` on one API worker, with a 1,000,000-entry snapshot.

Run: .venv/bin/python bench/bench_http.py [--entries N] [--seconds S]   (needs ``wrk``:
``apt-get install wrk``)

The service runs as ``parental serve`` would (uvicorn, one worker, embedded SQLite) pinned to
one core; wrk runs on the other core with a carrier service key. Figures:
- ``POST /v1/filter/check`` with 1,000 items a request: verdicts per second;
- ``GET /v1/filter/check?url=...``: requests per second;
- baseline in the same run: ``GET /healthz``, the same server answering a route that does
  nothing, which is the ceiling any route of this stack can reach.
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
from pathlib import Path

from bench_engine import generated_names

from filters.curation import service as curation
from filters.engine.rules import Action, Rule, Scope
from filters.engine.snapshot import SourceRef, SourceRules, compile_snapshot
from parental import migrate
from parental.kit.db import transaction
from parental.lines import service as lines
from parental.runtime import build_runtime

CATEGORIES = ["self_harm", "drugs", "abuse_violence", "adult", "gambling", "malware_phishing"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def prepare(work: Path, names: list[str]) -> str:
    """Migrate the database, create a service key and publish a snapshot of ``names``."""
    runtime = build_runtime()
    try:
        await migrate.upgrade(runtime.engine)
        async with transaction(runtime.sessions) as session:
            await curation.seed_categories(session, now=runtime.clock.now())
            key = await lines.create_service_key(
                session, name="bench", secret=runtime.secret, now=runtime.clock.now()
            )
        per_category: dict[str, list[Rule]] = {c: [] for c in CATEGORIES}
        for i, name in enumerate(names):
            per_category[CATEGORIES[i % len(CATEGORIES)]].append(
                Rule(name, Scope.SUBTREE, Action.BLOCK)
            )
        compile_snapshot(
            [
                SourceRules(SourceRef(f"s-{c}", c, "1"), [c], rules)
                for c, rules in per_category.items()
            ],
            CATEGORIES,
            runtime.snapshots.path_for("1"),
            version="1",
        )
        runtime.snapshots.activate("1")
        return key
    finally:
        await runtime.close()


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def wrk(url: str, script: str, seconds: int, connections: int) -> float:
    """Requests per second wrk measured (pinned to the last core)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cores = os.cpu_count() or 1
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url]
    if cores > 1 and shutil.which("taskset"):
        command = ["taskset", "-c", str(cores - 1), *command]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    os.unlink(f.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed requests:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = {**os.environ, "PARENTAL_DATA_DIR": str(work)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    os.environ.update({"PARENTAL_DATA_DIR": str(work)})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    names = generated_names(args.entries)
    key = asyncio.run(prepare(work, names))
    rng = random.Random(3)
    listed = rng.sample(names, 5000)
    items = [
        f"www.{n}" if i % 3 == 0 else (f"https://{n}/a/b?c=1" if i % 3 == 1 else n)
        for i, n in enumerate(listed)
    ] + [f"nothing-{i}.example.com" for i in range(5000)]
    rng.shuffle(items)

    port = free_port()
    server_cmd = [
        sys.executable, "-m", "uvicorn", "parental.app:create_app", "--factory",
        "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if (os.cpu_count() or 1) > 1 and shutil.which("taskset"):
        server_cmd = ["taskset", "-c", "0", *server_cmd]
    server = subprocess.Popen(server_cmd, env=env)
    try:
        wait_ready(port)
        base = f"http://127.0.0.1:{port}"
        auth = f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        wrk(f"{base}/healthz", "", 2, 16)  # warm-up
        health = wrk(f"{base}/healthz", "", args.seconds, 32)
        get_script = (
            auth
            + f"local items = {lua_list(items[:2000])}\n"
            + "local i = 0\n"
            + "request = function()\n"
            + "  i = i % #items + 1\n"
            + '  return wrk.format("GET", "/v1/filter/check?url=" .. items[i])\n'
            + "end\n"
        )
        wrk(base, get_script, 2, 16)
        single = wrk(base, get_script, args.seconds, 32)
        bodies = [json.dumps({"items": items[i : i + 1000]}) for i in range(0, 10000, 1000)]
        post_script = (
            auth
            + 'wrk.headers["Content-Type"] = "application/json"\n'
            + f"local bodies = {lua_list(bodies)}\n"
            + "local i = 0\n"
            + "request = function()\n"
            + "  i = i % #bodies + 1\n"
            + '  return wrk.format("POST", "/v1/filter/check", nil, bodies[i])\n'
            + "end\n"
        )
        wrk(base, post_script, 2, 4)
        batch = wrk(base, post_script, args.seconds, 4)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"entries: {args.entries:,}; one uvicorn worker on one core, wrk on the other")
    print(f"baseline GET /healthz:              {health:,.0f} req/s")
    print(f"GET /v1/filter/check?url=...:       {single:,.0f} req/s   (target >= 5,000)")
    print(
        f"POST /v1/filter/check, 1,000 items: {batch * 1000:,.0f} verdicts/s "
        f"({batch:,.1f} req/s)   (target >= 80,000)"
    )


if __name__ == "__main__":
    main()
