"""Line binding index benchmark: build time, memory, lookups per second and a delta swap for
1,000,000 bindings (half IPv4 addresses, half IPv6 /64 prefixes with some /56).

Run: .venv/bin/python bench/bench_bindings.py [--bindings N] [--lookups N]

The index is what the DNS front end asks for every query (``parental.lines.index``). Its
baseline, measured in the same run, is a plain ``dict`` keyed by the address text: the least
an exact-match lookup can cost in Python, with no parsing and no IPv6 prefixes at all.
"""

from __future__ import annotations

import argparse
import gc
import random
import socket
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from parental.lines.addresses import parse_network
from parental.lines.index import Binding, BindingIndex, BoundLine
from parental.lines.index_store import _bindings


def rows(count: int, rng: random.Random) -> list[tuple[str, uuid.UUID, datetime]]:
    """(network, line id, expiry) as SQL returns them: one v4 and one v6 per line."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    v4 = rng.sample(range(0x0A000000, 0x0AFFFFFF), count // 2)
    v6 = rng.sample(range(1 << 24), count // 2)  # distinct /56s (a /64 is the first of one)
    out = []
    for i, (value, site) in enumerate(zip(v4, v6, strict=True)):
        line = uuid.UUID(int=rng.getrandbits(128), version=4)
        out.append((socket.inet_ntoa(value.to_bytes(4)) + "/32", line, expires))
        length = 56 if i % 10 == 0 else 64
        prefix = 0x2A020DB8 << 96 | site << 72
        text = socket.inet_ntop(socket.AF_INET6, prefix.to_bytes(16))
        out.append((f"{text}/{length}", line, expires))
    return out


def memory(count: int) -> float:
    """MiB the index holds once the rows it was loaded from are gone (a second, traced build)."""
    tracemalloc.start()
    data = rows(count, random.Random(7))
    index = BindingIndex.build(_bindings(data))
    del data
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(index) == count
    return held / 2**20


def v6_inside(network: str) -> str:
    """An address inside a bound IPv6 prefix, not its first one."""
    address, _, length = network.partition("/")
    value = int.from_bytes(socket.inet_pton(socket.AF_INET6, address)) | 0xABCD
    value |= 0x1234 << (128 - int(length) - 16) if int(length) == 56 else 0
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16))


def timed(label: str, fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    took = time.perf_counter() - start
    print(f"  {label:<44} {took:8.2f} s")
    return took, result


def rate(label: str, queries: list[str] | list[bytes], lookup: Callable[[str], object]) -> None:
    start = time.perf_counter()
    for query in queries:
        lookup(query)  # type: ignore[arg-type]
    took = time.perf_counter() - start
    per_second = len(queries) / took
    print(f"  {label:<44} {per_second / 1e6:8.2f} M/s  {took / len(queries) * 1e9:6.0f} ns")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bindings", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(7)
    data = rows(args.bindings, rng)
    print(f"{len(data):,} bindings")

    _, parsed = timed("rows -> bindings (as the index loads SQL rows)", lambda: _bindings(data))
    _, built = timed("build the index", lambda: BindingIndex.build(parsed))  # type: ignore[arg-type]
    index: BindingIndex = built  # type: ignore[assignment]
    print(f"  {'memory of the index (line ids included)':<44} {memory(args.bindings):8.0f} MiB")

    now = time.time()
    hits_v4 = [n.split("/")[0] for n, _, _ in data[0::2]]
    hits_v6 = [v6_inside(n) for n, _, _ in data[1::2]]
    queries = [rng.choice(hits_v4) for _ in range(args.lookups // 2)]
    queries += [socket.inet_ntoa(rng.getrandbits(32).to_bytes(4)) for _ in range(args.lookups // 2)]
    rng.shuffle(queries)
    v6_queries = [rng.choice(hits_v6) for _ in range(args.lookups)]
    packed = [socket.inet_pton(socket.AF_INET, q) for q in queries]
    answered = sum(index.lookup(q, now=now) is not None for q in queries[:10_000])
    print(f"lookups ({args.lookups:,} each; IPv4 half hits, {answered / 100:.0f}% found)")
    rate("index, IPv4 text", queries, lambda q: index.lookup(q, now=now))
    rate("index, IPv4 packed bytes", packed, lambda q: index.lookup(q, now=now))
    rate("index, IPv6 text (/64 and /56, longest)", v6_queries, lambda q: index.lookup(q, now=now))
    baseline = {n.split("/")[0]: line for n, line, _ in data[0::2]}
    rate("baseline: dict.get(address text), IPv4", queries, lambda q: baseline.get(q))

    changes = [
        Binding(parse_network(n), BoundLine(uuid.uuid4(), now + 60)) for n, _, _ in data[:100]
    ]
    timed("a delta of 100 changes (copy and swap)", lambda: index.with_changes(changes, []))


if __name__ == "__main__":
    main()
