"""Load scenario (issue 9): the whole service under parents, devices, the carrier and DNS at once.

Run (10 minutes, the figures in docs/benchmarks.md):
    .venv/bin/python bench/load/run.py
Smoke run:
    .venv/bin/python bench/load/run.py --duration 60

Needs PostgreSQL and Redis (``--database-url``, ``--redis-url``; defaults: the local servers
every development machine runs), locust (the ``load`` extra:
``.venv/bin/pip install -c constraints.txt -e '.[load]'``) and dnsperf
(``apt-get install dnsperf``; installed here when missing and run as root).

What it does, on this one machine:
1. creates a database ``load`` of its own (dropped first) on the PostgreSQL server, migrates
   it, publishes the real blocklists of ``../shared/data/blocklists`` and seeds ``--families``
   families through the API in process (guardian signed in, child on a registered child SIM
   with an address binding, a paired device, three places, a first upload of fixes and app
   usage): the tests' world builders, so the same calls as the apps;
2. starts the service as production would: the API under uvicorn with ``--api-workers``
   processes (what ``parental serve --workers 2`` runs), ``parental worker`` and ``parental
   dns`` (its upstream: a stub resolver, ``upstream.py``, as there is no internet here), all
   on PostgreSQL and Redis;
3. after one dnsperf pass over every distinct question (warm caches, as in service), runs
   locust headless (``locustfile.py``: parents reading, devices uploading, the carrier's
   verdict and line lookups) and dnsperf against the DNS front end at a fixed rate (one
   dnsperf per child's line the queries name, ``--dns-lines``), at the same time, for
   ``--duration`` seconds;
4. prints a row per request type: count, error %, p50 / p95 / p99, throughput, the p95
   budget and PASS/FAIL; the exit code is 1 if a budget is missed.

The budgets are ``BUDGETS`` below and nowhere else; docs/benchmarks.md ("Load (issue 9)")
states the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import logging
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the tests' world builders

from tests.parental.factories import build_family, carrier_headers, publish_lists  # noqa: E402

from parental import migrate  # noqa: E402
from parental.app import create_app  # noqa: E402
from parental.runtime import Runtime, build_runtime  # noqa: E402
from parental.sms.sender import LogSmsSender  # noqa: E402

# p95 budgets in milliseconds per request type (locust's request names; "DNS query" is
# dnsperf's), and the share of requests of each type that may fail. One place: the doc's
# table states the same numbers.
BUDGETS: dict[str, float] = {
    "GET /v1/children/{child_id}/location": 100,
    "GET /v1/children/{child_id}/locations": 250,
    "GET /v1/notifications": 150,
    "GET /v1/children/{child_id}/usage/report": 300,
    "POST /v1/auth/tokens/refresh": 300,
    "POST /v1/device/locations": 300,
    "POST /v1/device/usage": 250,
    "POST /v1/device/heartbeat": 150,
    "GET /v1/filter/check": 50,
    "POST /v1/filter/check": 150,
    "GET /carrier/v1/lines/{msisdn}": 100,
    "GET /carrier/v1/bindings": 100,
    "DNS query": 10,
}
ERROR_BUDGET = 0.01  # under 1% of each type's requests
# Request types that need not occur in a run shorter than the guardians' access tokens live
# (the app refreshes a token a minute before it expires).
OPTIONAL = {"POST /v1/auth/tokens/refresh"}

BLOCKLISTS = ROOT.parent / "shared" / "data" / "blocklists"
# Our category -> the real lists of it (README.md there gives sources and licences).
LISTS = {
    "drugs": ["ut1/drogue/domains", "blocklistproject/drugs.hosts.txt"],
    "abuse_violence": ["ut1/agressif/domains"],
    "self_harm": ["ut1/dangerous_material/domains"],
    "gambling": ["ut1/gambling/domains"],
    "malware_phishing": ["blocklistproject/phishing.domains.txt"],
    "filter_bypass": [
        "ut1/doh/domains", "ut1/vpn/domains", "hagezi/doh-vpn-proxy-bypass.wildcard.txt",
    ],
    "stalkerware": ["ut1/stalkerware/domains"],
    "kids_allow": ["ut1/child/domains"],
}  # fmt: skip
# Ordinary names a child's phone looks up (with ``www.`` and API subdomains added below).
ORDINARY_TEXT = """
google.com youtube.com googlevideo.com ytimg.com gstatic.com googleapis.com android.com
gmail.com wikipedia.org wikimedia.org instagram.com cdninstagram.com whatsapp.net whatsapp.com
telegram.org t.me tiktok.com tiktokcdn.com tiktokv.com vk.com userapi.com mail.ru yandex.ru
yandex.kz yastatic.net kaspi.kz egov.kz kolesa.kz krisha.kz olx.kz tengrinews.kz nur.kz
zakon.kz 2gis.kz 2gis.com apple.com icloud.com mzstatic.com microsoft.com live.com bing.com
roblox.com rbxcdn.com minecraft.net mojang.com epicgames.com duolingo.com khanacademy.org
bilimland.kz kundelik.kz daryn.online netflix.com spotify.com scdn.co discord.com discord.gg
twitch.tv pinterest.com reddit.com github.com stackoverflow.com zoom.us facebook.com fbcdn.net
amazon.com cloudfront.net akamaihd.net samsung.com xiaomi.com mi.com huawei.com pubg.com
brawlstars.com supercell.com tinkoff.ru ozon.ru wildberries.ru avito.ru gosuslugi.ru
"""
ORDINARY = ORDINARY_TEXT.split()

ALMATY = (43.2389, 76.8897)
ROUTE_ORDER = list(BUDGETS)


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
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


def read_lists() -> dict[str, list[str]]:
    return {
        category: [
            line
            for path in paths
            for line in (BLOCKLISTS / path).read_text(encoding="utf-8").splitlines()
        ]
        for category, paths in LISTS.items()
    }


def query_names(lists: dict[str, list[str]], rng: random.Random) -> tuple[list[str], list[str]]:
    """Names from the block lists (a sample, some as subdomains) and ordinary names."""
    listed: list[str] = []
    for category, lines in lists.items():
        if category == "kids_allow":
            continue
        names = [n for n in (_host(line) for line in lines) if n]
        for name in rng.sample(names, min(len(names), 400)):
            listed.append(f"www.{name}" if rng.random() < 0.3 else name)
    ordinary = [
        *ORDINARY,
        *(f"www.{n}" for n in ORDINARY[::2]),
        *(f"api.{n}" for n in ORDINARY[1::3]),
    ]
    ordinary += [n for n in (_host(line) for line in lists["kids_allow"]) if n]
    return listed, ordinary


def _host(line: str) -> str | None:
    """The host of a list line, in any of the lists' formats (None: a comment or blank)."""
    line = line.strip()
    if not line or line[0] in "#!":
        return None
    if line.startswith(("0.0.0.0 ", "127.0.0.1 ")):
        line = line.split()[1]
    line = line.removeprefix("||").removesuffix("^").removeprefix("*.")
    host = line.split("/")[0].lower()
    return host if re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", host) else None


async def seed(families: int, lists: dict[str, list[str]]) -> dict[str, Any]:
    """Publish the lists and build the families; what locust needs to play them."""
    runtime = build_runtime(sms=LogSmsSender(keep=1000, echo=False))
    await migrate.upgrade(runtime.engine)
    await publish_lists(runtime, lists)
    app = create_app(runtime)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://seed") as c,
    ):
        carrier = await carrier_headers(runtime, "load")
        # Numbers of this run only: sign-in limits per phone number live in Redis across runs.
        first = random.randrange(0, 9_000_000 - families)
        at_once = asyncio.Semaphore(8)

        async def one(i: int) -> dict[str, Any]:
            async with at_once:
                return await seed_family(c, runtime, carrier, i, first + i)

        out = await asyncio.gather(*(one(i) for i in range(families)))
    carrier_key = carrier["Authorization"].removeprefix("Bearer ")
    await runtime.close()
    return {"carrier_key": carrier_key, "families": out}


async def seed_family(
    c: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], i: int, n: int
) -> dict[str, Any]:
    """One family as the apps build it: the tests' ``build_family`` (guardian, family, line,
    child, paired device), then three places, the line's address binding and the hour before
    the run (20 fixes, a YouTube session)."""
    world = await build_family(
        c, runtime, carrier, guardian_phone=f"+7701{n:07d}", line=f"+7707{n:07d}"
    )
    guardian, device = world.guardian.headers, world.device_headers
    home = (ALMATY[0] + (i % 20 - 10) * 0.01, ALMATY[1] + (i // 20 % 20 - 10) * 0.01)
    for k, (dlat, dlon) in enumerate([(0.0, 0.0), (0.004, 0.006), (-0.005, 0.003)]):
        place = {
            "name": ("Home", "School", "Grandma")[k],
            "shape": {
                "kind": "circle",
                "center": {"latitude": home[0] + dlat, "longitude": home[1] + dlon},
                "radius_m": 250,
            },
            "events": ["enter", "exit"],
        }
        await _ok(c.post(f"/v1/children/{world.child_id}/places", headers=guardian, json=place))
    ip = f"10.64.{i // 250}.{i % 250 + 1}"
    binding = {"msisdn": world.line, "ip": ip, "event": "start", "session_id": f"load-{n}"}
    await _ok(c.post("/carrier/v1/bindings", headers=carrier, json=binding))
    profile = await _ok(c.get(f"/v1/children/{world.child_id}/filter-profile", headers=guardian))
    start = datetime.now(UTC) - timedelta(hours=1)
    fixes = [
        {
            "fixed_at": (start + timedelta(minutes=2 * j)).isoformat(),
            "latitude": home[0] + random.gauss(0, 0.002),
            "longitude": home[1] + random.gauss(0, 0.003),
            "accuracy_m": 12,
        }
        for j in range(20)
    ]
    await _ok(c.post("/v1/device/locations", headers=device, json={"fixes": fixes}))
    session = {
        "kind": "app",
        "app": "com.google.android.youtube",
        "app_name": "YouTube",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=20)).isoformat(),
    }
    await _ok(c.post("/v1/device/usage", headers=device, json={"sessions": [session]}))
    return {
        "child_id": world.child_id,
        "device_token": world.device_token,
        "msisdn": world.line,
        "profile_id": profile["id"],
        "ip": ip,
        "home": home,
        "guardian": {
            "access_token": world.guardian.access_token,
            "refresh_token": world.guardian.refresh_token,
            "issued_at": time.time(),
            "expires_in": runtime.settings.access_token_ttl_seconds,
        },
    }


async def _ok(request: Any) -> dict[str, Any]:
    response: httpx.Response = await request
    if response.status_code >= 300:
        raise RuntimeError(f"seeding: {response.request.url.path}: {response.text}")
    body: dict[str, Any] = response.json()
    return body


def wait_http(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 in {timeout:.0f} s (last: {last})")


def wait_dns(port: int, timeout: float = 90.0) -> None:
    import dns.exception
    import dns.message
    import dns.query

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            dns.query.udp(
                dns.message.make_query("example.com", "A"), "127.0.0.1", timeout=1, port=port
            )
            return
        except (OSError, dns.exception.Timeout):
            time.sleep(0.3)
    raise RuntimeError(f"nothing answers DNS on port {port}")


def ensure_dnsperf() -> str:
    found = shutil.which("dnsperf")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing dnsperf (apt-get install -y dnsperf)", flush=True)
        apt = shutil.which("apt-get") or "apt-get"
        subprocess.run([apt, "install", "-y", "dnsperf"], check=True, capture_output=True)
        found = shutil.which("dnsperf")
    if not found:
        sys.exit("dnsperf is needed: apt-get install dnsperf")
    return found


@dataclass
class Row:
    name: str
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    rate: float

    @property
    def error_share(self) -> float:
        return self.failures / self.count if self.count else 0.0


def locust_rows(stats: Path) -> list[Row]:
    """One row per request name from locust's ``_stats.csv`` (milliseconds)."""
    rows = []
    with stats.open(newline="") as f:
        for line in csv.DictReader(f):
            if line["Name"] == "Aggregated":
                continue
            rows.append(
                Row(
                    line["Name"],
                    int(line["Request Count"]),
                    int(line["Failure Count"]),
                    _number(line["50%"]),
                    _number(line["95%"]),
                    _number(line["99%"]),
                    float(line["Requests/s"]),
                )
            )
    return rows


def _number(text: str) -> float:
    return float(text) if text not in ("", "N/A") else float("nan")


def dnsperf_row(outputs: list[Path], seconds: float) -> Row:
    """The DNS row from the dnsperf runs' verbose output: a lost query or an answer other than
    NOERROR / NXDOMAIN counts as an error; latencies are the answered queries'."""
    latencies: list[float] = []
    refused = sent_count = lost_count = 0
    for output in outputs:
        text = output.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if line.startswith("> ") and not line.startswith("> T "):  # "T": timed out (lost)
                parts = line.split()
                if parts[1] not in ("NOERROR", "NXDOMAIN"):
                    refused += 1
                latencies.append(float(parts[-1]) * 1000)
        sent = re.search(r"Queries sent:\s+(\d+)", text)
        lost = re.search(r"Queries lost:\s+(\d+)", text)
        if sent is None or lost is None:
            raise RuntimeError(f"dnsperf gave no summary:\n{text[-2000:]}")
        sent_count += int(sent.group(1))
        lost_count += int(lost.group(1))
    latencies.sort()

    def at(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))]

    failed = refused + lost_count
    return Row("DNS query", sent_count, failed, at(0.5), at(0.95), at(0.99), sent_count / seconds)


def report(rows: list[Row], optional: set[str]) -> bool:
    """Print the table; True when every budget is met (``optional`` types may have no
    requests)."""
    by_name = {row.name: row for row in rows}
    ok = True
    header = (
        f"{'request':42} {'count':>8} {'err %':>6} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'req/s':>8}  {'p95 budget':>10}  verdict"
    )
    print(header)
    print("-" * len(header))
    total = Row("all HTTP requests", 0, 0, 0, 0, 0, 0)
    for name in [*ROUTE_ORDER, *sorted(set(by_name) - set(ROUTE_ORDER))]:
        row = by_name.get(name)
        budget = BUDGETS.get(name)
        if row is None:
            verdict = "-" if name in optional else "FAIL (no requests)"
            ok = ok and name in optional
            print(
                f"{name:42} {'0':>8} {'':>6} {'':>7} {'':>7} {'':>7} {'':>8}  "
                f"{budget or 0:>8.0f}ms  {verdict}"
            )
            continue
        if name != "DNS query":
            total.count += row.count
            total.failures += row.failures
            total.rate += row.rate
        misses = []
        if budget is None:
            misses.append("no budget")
        elif not row.p95 <= budget:
            misses.append("p95")
        if row.error_share >= ERROR_BUDGET:
            misses.append("errors")
        verdict = "PASS" if not misses else "FAIL (" + ", ".join(misses) + ")"
        ok = ok and not misses
        print(
            f"{name:42} {row.count:>8,} {row.error_share:>6.2%} {row.p50:>7.1f} {row.p95:>7.1f} "
            f"{row.p99:>7.1f} {row.rate:>8.1f}  {budget or 0:>8.0f}ms  {verdict}"
        )
    share_ok = total.error_share < ERROR_BUDGET
    ok = ok and share_ok
    print(
        f"{total.name:42} {total.count:>8,} {total.error_share:>6.2%} {'':>7} {'':>7} {'':>7} "
        f"{total.rate:>8.1f}  {'':>10}  {'PASS' if share_ok else 'FAIL (errors)'}"
    )
    print(f"latencies in ms; error budget: under {ERROR_BUDGET:.0%} of each type's requests")
    return ok


def server_histograms(api_port: int) -> dict[str, list[tuple[float, float]]]:
    """The API's own request-duration histograms (``/metrics``, every worker's summed), by
    "METHOD route": cumulative (upper bound in seconds, count) pairs."""
    text = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=30).text
    out: dict[str, list[tuple[float, float]]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "parental_http_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                name = f"{sample.labels['method']} {sample.labels['route']}"
                out.setdefault(name, []).append((float(sample.labels["le"]), sample.value))
    return {name: sorted(buckets) for name, buckets in out.items()}


def quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """As PromQL's histogram_quantile: linear within the bucket the quantile falls in (ms)."""
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower * 1000
            share = (rank - below) / (count - below) if count > below else 0.0
            return (lower + (upper - lower) * share) * 1000
        lower, below = upper, count
    return lower * 1000


def report_server_side(
    before: dict[str, list[tuple[float, float]]], after: dict[str, list[tuple[float, float]]]
) -> None:
    """The API's own view of the same requests: from the moment a worker's app has the request
    to the end of its answer. What the client measured beyond it was spent before the app had
    the request or after it let go (the worker's loop busy, the machine's cores, the client)."""
    print("as the API measured them (its histograms; ms, interpolated within buckets):")
    for name in sorted(after):
        old = dict(before.get(name, []))
        buckets = [(upper, count - old.get(upper, 0.0)) for upper, count in after[name]]
        if buckets[-1][1] < 50:
            continue
        print(
            f"  {name:54} {buckets[-1][1]:>8,.0f}  p50 {quantile(buckets, 0.5):7.1f}"
            f"  p95 {quantile(buckets, 0.95):7.1f}  p99 {quantile(buckets, 0.99):7.1f}"
        )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process ``root`` and its live descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # from the state field on
        pid = int(entry.name)
        parents.setdefault(int(fields[1]), []).append(pid)
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo.extend(parents.get(pid, []))
    return total


def machine_times() -> tuple[float, float, float]:
    """Seconds of CPU since boot, all cores: busy, waiting for the disk, in all."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle, iowait = values[3], values[4]
    total = sum(values)
    return (total - idle - iowait) / CLOCK_TICKS, iowait / CLOCK_TICKS, total / CLOCK_TICKS


@dataclass
class CpuWatch:
    """Where the machine's CPU went during the measured run."""

    services: dict[str, subprocess.Popen[bytes]]
    start: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    machine: tuple[float, float, float] = (0.0, 0.0, 0.0)
    children: float = 0.0
    began: float = 0.0
    elapsed: float = 0.0
    busy: float = 0.0
    iowait: float = 0.0

    def __enter__(self) -> CpuWatch:
        self.start = {name: cpu_seconds(p.pid) for name, p in self.services.items()}
        self.machine = machine_times()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children = usage.ru_utime + usage.ru_stime
        self.began = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.began
        self.used = {
            name: cpu_seconds(p.pid) - self.start[name] for name, p in self.services.items()
        }
        busy, iowait, total = (b - a for a, b in zip(self.machine, machine_times(), strict=True))
        self.busy, self.iowait = busy / total, iowait / total
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.used["locust + dnsperf"] = usage.ru_utime + usage.ru_stime - self.children

    def summary(self) -> str:
        shares = ", ".join(f"{name} {used / self.elapsed:.2f}" for name, used in self.used.items())
        ours = sum(self.used.values()) / self.elapsed
        cores = os.cpu_count() or 1
        return (
            f"CPU during the run, in cores busy: {shares} (ours {ours:.2f} of {cores}); "
            f"the machine: {self.busy:.0%} busy, {self.iowait:.0%} waiting for the disk "
            f"(PostgreSQL and anything else running are in these two)"
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds (default 10 minutes)")
    parser.add_argument(
        "--users",
        type=int,
        default=200,
        help="locust users (parents 30%%, devices 60%%, carrier 10%%)",
    )
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--families", type=int, default=200, help="at least the users' devices")
    parser.add_argument("--dns-qps", type=int, default=1000, help="dnsperf's fixed query rate")
    parser.add_argument(
        "--dns-lines", type=int, default=8, help="children's lines the DNS queries come from"
    )
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument(
        "--token-seconds",
        type=int,
        default=300,
        help="how long the guardians' access tokens live (the product's default is 900): at "
        "300 a 10-minute run refreshes each family's token about twice",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server; the scenario uses a database 'load' of its own there",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    parser.add_argument("--keep", type=Path, help="copy the locust CSVs and dnsperf output here")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("--database-url must be a PostgreSQL server (production's set-up)")
    if args.families < args.users * 6 // 10:
        sys.exit("--families must be at least the devices' share of --users (60%): one device each")
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        sys.exit("locust is needed: .venv/bin/pip install -c constraints.txt -e '.[load]'")
    dnsperf = ensure_dnsperf()
    parental = str(Path(sys.executable).with_name("parental"))

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    metrics_dir = work / "metrics"
    metrics_dir.mkdir()
    database = asyncio.run(fresh_database(args.database_url, "load"))
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": args.redis_url,
        "PARENTAL_DATA_DIR": str(work),
        "PARENTAL_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),  # several API workers (docs/operations.md)
        "PARENTAL_ACCESS_TOKEN_TTL_SECONDS": str(args.token_seconds),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    seeding = {
        **env,
        # One client seeds every family: per-address limits of sign-in and pairing would stop it.
        **{
            f"PARENTAL_LIMIT_{limit}": "1000000/hour"
            for limit in ("CODE_REQUESTS_PER_IP", "CODE_ATTEMPTS_PER_IP", "PAIRING_ATTEMPTS_PER_IP")
        },
        "PARENTAL_SIGN_IN_LOCKOUT_FAILURES_PER_IP": "1000000",
    }
    os.environ.clear()
    os.environ.update(seeding)
    logging.disable(logging.WARNING)  # the development SMS sink's line per family
    rng = random.Random(9)
    lists = read_lists()
    started = time.monotonic()
    world = asyncio.run(seed(args.families, lists))
    listed, ordinary = query_names(lists, rng)
    world["names"] = {"listed": listed, "ordinary": ordinary}
    print(
        f"published the lists and seeded {args.families} families in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    (work / "world.json").write_text(json.dumps(world))
    # What the carrier's resolver asks us: mostly ordinary names, one in eight listed, a third
    # AAAA; and every distinct question once, to warm the caches before measuring (a resolver
    # in service has been answering for hours).
    queries = []
    for _ in range(50_000):
        name = rng.choice(listed) if rng.random() < 0.125 else rng.choice(ordinary)
        queries.append(f"{name} {'AAAA' if rng.random() < 0.33 else 'A'}\n")
    (work / "queries.txt").write_text("".join(queries))
    (work / "warm.txt").write_text("".join(sorted(set(queries))))

    api_port, dns_port, upstream_port = free_port(), free_port(), free_port()
    dns_env = {
        **env,
        "PARENTAL_DNS_UPSTREAMS": f'["127.0.0.1:{upstream_port}"]',
        # dnsperf plays the carrier's resolver in front of us: exempt, as that resolver would be.
        "PARENTAL_DNS_RATE_LIMIT_EXEMPT": '["127.0.0.0/8"]',
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs = work / "logs"
    logs.mkdir()

    def start(
        name: str, command: list[str], process_env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        log = (logs / f"{name}.log").open("wb")
        process = subprocess.Popen(command, env=process_env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    ok = False
    try:
        start(
            "upstream",
            [
                sys.executable,
                str(Path(__file__).with_name("upstream.py")),
                "--port",
                str(upstream_port),
            ],
            env,
        )
        services = {}
        services["api"] = start(
            "api",
            [
                parental, "serve", "--host", "127.0.0.1", "--port", str(api_port),
                "--workers", str(args.api_workers),
            ],
            env,
        )  # fmt: skip
        services["worker"] = start("worker", [parental, "worker"], env)
        services["dns"] = start("dns", [parental, "dns", "--port", str(dns_port)], dns_env)
        wait_http(f"http://127.0.0.1:{api_port}/readyz")
        wait_dns(dns_port)
        print(
            f"running {args.duration} s: locust {args.users} users, dnsperf {args.dns_qps} q/s",
            flush=True,
        )
        # Each query names a child's line in the private EDNS option, as a resolver of the
        # carrier in front of us would (docs/carrier-integration.md): one dnsperf per line (it
        # sends one option with every query), the rate shared between them.
        lines = [family["msisdn"] for family in world["families"][: args.dns_lines]]

        def dnsperf_of(line: str, *more: str) -> list[str]:
            option = f"65001:{line.encode().hex()}"
            return [dnsperf, "-s", "127.0.0.1", "-p", str(dns_port), "-E", option, *more]

        warming = [
            subprocess.Popen(
                dnsperf_of(line, "-d", str(work / "warm.txt"), "-n", "1", "-Q", "500"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for line in lines
        ]
        for process in warming:
            process.wait()
        dns_outs = [work / f"dnsperf-{n}.txt" for n in range(len(lines))]
        share = max(1, args.dns_qps // len(lines))
        outstanding = max(10, 100 // len(lines))
        histograms = server_histograms(api_port)
        with contextlib.ExitStack() as stack, CpuWatch(services) as cpu:
            dns_runs = []
            for line, path in zip(lines, dns_outs, strict=True):
                out = stack.enter_context(path.open("wb"))
                dns_runs.append(
                    subprocess.Popen(
                        dnsperf_of(
                            line, "-d", str(work / "queries.txt"), "-l", str(args.duration),
                            "-Q", str(share), "-c", "1", "-q", str(outstanding), "-t", "2", "-v",
                        ),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
            processes.extend(dns_runs)
            locust_run = subprocess.run(
                [
                    str(locust), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
                    "--host", f"http://127.0.0.1:{api_port}", "--users", str(args.users),
                    "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
                    "--csv", str(work / "locust"), "--only-summary", "--loglevel", "WARNING",
                    "--stop-timeout", "10",
                    # Measure from the moment every user runs: spawning is not the steady state.
                    "--reset-stats",
                ],
                env={**env, "LOAD_WORLD": str(work / "world.json")},
                capture_output=True,
                text=True,
            )  # fmt: skip
            for dns_run in dns_runs:
                dns_run.wait(timeout=args.duration + 60)
        server_side = server_histograms(api_port)
        if locust_run.returncode not in (0, 1):  # 1: some requests failed (the table says)
            print(locust_run.stdout[-3000:], locust_run.stderr[-3000:])
            sys.exit(f"locust failed (exit code {locust_run.returncode})")
        failures = work / "locust_failures.csv"
        if failures.exists() and failures.stat().st_size:
            print("failures (locust):")
            print(failures.read_text()[:3000])
        rows = locust_rows(work / "locust_stats.csv")
        rows.append(dnsperf_row(dns_outs, args.duration))
        print()
        # A run that outlasts the tokens must have refreshed them, within budget.
        ok = report(rows, OPTIONAL if args.duration < args.token_seconds else set())
        print(cpu.summary())
        report_server_side(histograms, server_side)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for path in [*work.glob("locust_*.csv"), *dns_outs, *logs.glob("*.log")]:
                shutil.copy(path, args.keep / path.name)
    except BaseException:
        for log in sorted(logs.glob("*.log")):  # what the services said before it went wrong
            print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-15:]))
        raise
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
