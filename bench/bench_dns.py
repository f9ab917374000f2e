"""DNS benchmark: ``parental dns`` against Unbound loaded with the same list as an RPZ zone.

Run: .venv/bin/python bench/bench_dns.py [--entries N] [--seconds S]
(needs ``dnsperf`` and ``unbound``: ``apt-get install dnsperf unbound``)

Both servers get the same ``--entries`` names (generated as in ``bench_engine``; spread over
six categories for us, one RPZ zone written by our own zone writer for Unbound), forward what
they allow to the same authoritative stub (a second Unbound answering ``*.allowed.test``
from local data), and are asked the same query file by dnsperf: half listed names (a third of
them subdomains of a listed name), half allowed names, A questions. Both are warmed up with
the whole file first, so every allowed answer is in their cache when measured.

Each server is pinned to core 0 with one thread (Unbound ``num-threads: 1``; our front end
is one process); dnsperf runs on core 1. For each server:
- the most queries per second it answers (dnsperf with 200 outstanding queries, no rate
  limit) and how many of them were lost;
- at half of Unbound's rate: lost queries and latency percentiles (from dnsperf's verbose
  per-query output);
- resident memory after loading the list, and how long loading took (until it answered).

A third row, our front end with the fast path turned off (``PARENTAL_DNS_FAST_PATH_SIZE=0``,
every query in Python), is the baseline the fast path is measured against.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_engine import generated_names
from bench_http import prepare

from filters.rpz.zone import ZoneCounts, header, write_records

ALLOWED_ZONE = "allowed.test"


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


def pinned(core: int, command: list[str]) -> list[str]:
    if (os.cpu_count() or 1) > 1 and shutil.which("taskset"):
        return ["taskset", "-c", str(core), *command]
    return command


def unbound_binary() -> str:
    found = shutil.which("unbound") or "/usr/sbin/unbound"
    if not Path(found).exists():
        sys.exit("unbound is needed: apt-get install unbound")
    return found


def unbound_conf(directory: Path, port: int, body: str) -> Path:
    conf = directory / "unbound.conf"
    conf.write_text(
        f"""
server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    logfile: ""
    use-syslog: no
    verbosity: 0
    num-threads: 1
    so-reuseport: no
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    domain-insecure: "test"
    local-zone: "test." nodefault
    module-config: "respip iterator"
{body}
remote-control:
    control-enable: no
"""
    )
    return conf


def write_zone(path: Path, names: list[str], origin: str) -> ZoneCounts:
    """The RPZ zone our export writes for these names, each blocked with its subdomains."""
    with path.open("w", encoding="ascii") as out:
        out.write(header(origin=origin, serial=1, ttl=300, title="bench", counts=ZoneCounts()))
        return write_records(out, ((n, "subtree", "block") for n in sorted(names)), origin)


def answers(port: int, name: str = f"warm.{ALLOWED_ZONE}", timeout: float = 600.0) -> float:
    """Seconds until the server on ``port`` answers a query."""
    import dns.message
    import dns.query

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", timeout=1, port=port)
            return time.monotonic() - start
        except (OSError, dns.exception.Timeout):
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Run:
    qps: float
    sent: int
    lost: int
    latencies: list[float]

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def dnsperf(
    port: int, queries: Path, seconds: int | None, *, rate: int | None = None, verbose: bool = False
) -> Run:
    """One dnsperf run: for ``seconds``, or once through the file (None)."""
    command = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries)]
    command += ["-l", str(seconds)] if seconds else ["-n", "1"]
    command += ["-c", "8", "-q", "200", "-t", "2", "-S", "0"]
    if rate is not None:
        command += ["-Q", str(rate)]
    if verbose:
        command += ["-v"]
    out = subprocess.run(pinned(1, command), check=True, capture_output=True, text=True).stdout
    sent = int(re.search(r"Queries sent:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latencies = [float(m.group(1)) for m in re.finditer(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M)]
    return Run(qps, sent, lost, latencies)


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    load_seconds: float
    rss_loaded: float


def start_ours(work: Path, stub: int, port: int, *, fast_path: bool = True) -> Server:
    env = {
        **os.environ,
        "PARENTAL_DATA_DIR": str(work),
        "PARENTAL_DNS_UPSTREAMS": f'["127.0.0.1:{stub}"]',
        "PARENTAL_LOG_LEVEL": "WARNING",
        # dnsperf asks from 127.0.0.1 only, as a resolver in front of us would: exempt it
        "PARENTAL_DNS_RATE_LIMIT_EXEMPT": '["127.0.0.0/8"]',
    }
    if not fast_path:
        env["PARENTAL_DNS_FAST_PATH_SIZE"] = "0"
    command = [str(Path(sys.executable).with_name("parental")), "dns", "--host", "127.0.0.1"]
    process = subprocess.Popen(pinned(0, [*command, "--port", str(port)]), env=env)
    loaded = answers(port)
    name = "parental dns" if fast_path else "  (no fast path)"
    return Server(name, process, port, loaded, rss_mb(process.pid))


def start_unbound(directory: Path, zone: Path, origin: str, stub: int, port: int) -> Server:
    body = f"""
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{stub}

rpz:
    name: "{origin}"
    zonefile: "{zone}"
"""
    conf = (
        unbound_conf(directory, port, "")
        .read_text()
        .replace("remote-control:", body + "\nremote-control:")
    )
    (directory / "unbound.conf").write_text(conf)
    process = subprocess.Popen(
        pinned(0, [unbound_binary(), "-d", "-c", str(directory / "unbound.conf")])
    )
    loaded = answers(port)
    return Server("unbound", process, port, loaded, rss_mb(process.pid))


def start_stub(directory: Path, port: int) -> subprocess.Popen[bytes]:
    body = f"""
    local-zone: "{ALLOWED_ZONE}." redirect
    local-data: "{ALLOWED_ZONE}. 86400 IN A 192.0.2.1"
"""
    conf = unbound_conf(directory, port, body)
    process = subprocess.Popen(pinned(1, [unbound_binary(), "-d", "-c", str(conf)]))
    answers(port)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--distinct", type=int, default=20_000, help="names in the query file")
    args = parser.parse_args()
    if shutil.which("dnsperf") is None:
        sys.exit("dnsperf is needed: apt-get install dnsperf")
    work = Path(tempfile.mkdtemp(prefix="bench-dns-"))
    os.environ["PARENTAL_DATA_DIR"] = str(work)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    names = generated_names(args.entries)
    asyncio.run(prepare(work, names))
    origin = "bench.rpz.invalid"
    zone = work / "bench.rpz"
    write_zone(zone, names, origin)

    rng = random.Random(5)
    half = args.distinct // 2
    listed = [f"www.{n}" if i % 3 == 0 else n for i, n in enumerate(rng.sample(names, half))]
    allowed = [f"n{i}.{ALLOWED_ZONE}" for i in range(half)]
    mix = listed + allowed
    rng.shuffle(mix)
    queries = work / "queries.txt"
    queries.write_text("".join(f"{name} A\n" for name in mix))

    results: dict[str, tuple[Server, Run, Run]] = {}
    stub_dir = work / "stub"
    stub_dir.mkdir()
    stub_port = free_port()
    stub_process = start_stub(stub_dir, stub_port)
    half_rate = 0
    try:
        unbound_dir = work / "unbound"
        unbound_dir.mkdir()
        starts = [
            lambda: start_unbound(unbound_dir, zone, origin, stub_port, free_port()),
            lambda: start_ours(work, stub_port, free_port()),
            lambda: start_ours(work, stub_port, free_port(), fast_path=False),
        ]
        for start in starts:
            server = start()
            try:
                dnsperf(server.port, queries, None, rate=10_000)  # every name once: cached
                dnsperf(server.port, queries, 2)
                top = dnsperf(server.port, queries, args.seconds)
                server.rss_loaded = max(server.rss_loaded, rss_mb(server.process.pid))
                half_rate = half_rate or int(top.qps / 2)  # Unbound's, first
                steady = dnsperf(server.port, queries, args.seconds, rate=half_rate, verbose=True)
                results[server.name] = (server, top, steady)
            finally:
                stop(server.process)
    finally:
        stop(stub_process)
        shutil.rmtree(work, ignore_errors=True)

    print(f"entries: {args.entries:,}; {args.distinct:,} distinct names queried, half listed")
    print("each server on core 0 with one thread; dnsperf on core 1 (8 clients, 200 in flight)")
    for name, (server, top, steady) in results.items():
        print(
            f"{name:16} max {top.qps:9,.0f} q/s (lost {top.lost:,} of {top.sent:,}); "
            f"at {half_rate:,} q/s: lost {steady.lost:,} of {steady.sent:,}, "
            f"p50 {steady.percentile(0.5):.3f} ms, p99 {steady.percentile(0.99):.3f} ms, "
            f"p99.9 {steady.percentile(0.999):.3f} ms; "
            f"memory {server.rss_loaded:,.0f} MB, ready after {server.load_seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
