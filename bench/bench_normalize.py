"""Nanoseconds per call of the normalisers, next to plain ``str.lower`` measured in the same run.

Run: ``.venv/bin/python bench/bench_normalize.py`` (about 20 s). Each figure is the best of nine
rounds over all cases, so it shows what the code costs rather than what else the machine was
busy with; the ``x lower`` column makes figures from different machines comparable.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

from filters.engine.normalize import normalize_host, normalize_path, normalize_target

ROUNDS = 9
BUDGET_NS = 2_000  # 500,000 verdicts a second per core, normalisation included

CASES: list[tuple[str, Callable[[str], object], str]] = [
    ("baseline str.lower", str.lower, "www.Example.com"),
    ("target: ASCII name (fast path)", normalize_target, "www.Example.com"),
    ("target: ASCII name, trailing dot", normalize_target, "www.example.com."),
    ("target: long CDN name", normalize_target, "r3---sn-4g5e6nsz.googlevideo.com"),
    ("target: simple URL (fast path)", normalize_target, "https://example.com/a/b"),
    ("target: URL with query", normalize_target, "https://www.example.com/watch?v=dQw4w9WgXcQ"),
    ("target: URL with port+userinfo", normalize_target, "https://u:p@example.com:8443/a"),
    ("target: URL with escapes, dots", normalize_target, "http://example.com/a/%7efoo/../b"),
    ("target: IPv4", normalize_target, "192.168.1.1"),
    ("target: IPv6 URL", normalize_target, "http://[2001:DB8::1]/"),
    ("target: IDN", normalize_target, "пример.рф"),
    ("target: A-labels (cached check)", normalize_target, "xn--e1afmkfd.xn--p1ai"),
    ("host: ASCII name", normalize_host, "www.Example.com"),
    ("path: plain", normalize_path, "/a/b/c"),
    ("path: escapes", normalize_path, "/a/%7efoo/%2f/b"),
]


def main() -> None:
    timers = [
        timeit.Timer("function(argument)", globals={"function": function, "argument": argument})
        for _, function, argument in CASES
    ]
    # About 50 ms a measurement; rounds go over every case in turn, so a busy moment on the
    # machine hits all of them alike and the best round of each is what the code costs.
    numbers = [max(1, timer.autorange()[0] // 4) for timer in timers]
    best = [float("inf")] * len(CASES)
    for _ in range(ROUNDS):
        for index, (timer, number) in enumerate(zip(timers, numbers, strict=True)):
            best[index] = min(best[index], timer.timeit(number) / number * 1e9)
    baseline = best[0]
    print(f"{'case':34} {'ns/call':>8} {'x lower':>8}  input")
    for (label, _, argument), ns in zip(CASES, best, strict=True):
        print(f"{label:34} {ns:8.0f} {ns / baseline:8.1f}  {argument}")
    print(f"budget per verdict, normalisation included: {BUDGET_NS} ns")


if __name__ == "__main__":
    main()
