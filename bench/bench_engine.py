"""Filter engine benchmark: compile, snapshot size, load and in-process verdicts on 1,000,000
entries (the real lists in ../shared/data/blocklists topped up with generated names).

Run: .venv/bin/python bench/bench_engine.py [--entries N] [--queries N]

Each figure is measured for the native engine and for the pure-Python one (``FILTERS_NATIVE=0``
does the same for the whole product), next to a baseline measured in the same run: a plain
Python ``set`` of the names, built from the same text and walked label by label. Verdicts go
through ``matcher.classify``, the function the check service calls for every item.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from filters.engine import _accel
from filters.engine.formats import parse_file, parse_ut1_folder
from filters.engine.matcher import classify
from filters.engine.normalize import InvalidTarget
from filters.engine.profile import CategorySetting, Mode, Profile
from filters.engine.rules import Action
from filters.engine.snapshot import Snapshot, SourceRef, SourceRules, compile_snapshot

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "blocklists"
CATEGORIES = [
    "self_harm",
    "drugs",
    "abuse_violence",
    "adult",
    "gambling",
    "malware_phishing",
    "filter_bypass",
    "stalkerware",
    "kids_allow",
]
FILES = {
    "blocklistproject/drugs.hosts.txt": "drugs",
    "blocklistproject/drugs.adguard.txt": "drugs",
    "blocklistproject/phishing.domains.txt": "malware_phishing",
    "hagezi/doh-vpn-proxy-bypass.wildcard.txt": "filter_bypass",
    "hagezi/nosafesearch.wildcard.txt": "filter_bypass",
}
UT1 = {
    "drogue": "drugs",
    "agressif": "abuse_violence",
    "dangerous_material": "self_harm",
    "doh": "filter_bypass",
    "vpn": "filter_bypass",
    "stalkerware": "stalkerware",
    "gambling": "gambling",
    "child": "kids_allow",
}
# Every blocking category on, the kids allow-list off: what check() computes once a request.
PROFILE = Profile(
    timezone="Asia/Almaty",
    categories={
        key: CategorySetting(Mode.OFF if key == "kids_allow" else Mode.ALWAYS) for key in CATEGORIES
    },
)


def generated_names(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_lowercase + string.digits
    tlds = ["com", "net", "org", "ru", "kz", "info", "xyz", "top", "online", "site"]
    names: set[str] = set()
    while len(names) < count:
        labels = [
            "".join(rng.choices(alphabet, k=rng.randint(4, 14))) for _ in range(rng.randint(1, 2))
        ]
        names.add(".".join([*labels, rng.choice(tlds)]))
    return sorted(names)


def count_lines(path: Path) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f)


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    """The best of ``repeat`` runs: what the code costs, not what else the machine was doing."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200_000)
    args = parser.parse_args()
    if _accel.native is None:
        sys.exit("the native engine is not built (pip install -e . with a C compiler)")
    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        run(work, args.entries, args.queries)
    finally:
        shutil.rmtree(work)


def run(work: Path, entries: int, query_count: int) -> None:
    ut1_files = [SHARED / "ut1" / d / kind for d in UT1 for kind in ("domains", "urls")]
    real_lines = sum(count_lines(SHARED / f) for f in FILES)
    real_lines += sum(count_lines(f) for f in ut1_files if f.exists())
    extra = generated_names(max(0, entries - real_lines))
    generated = work / "generated.txt"
    generated.write_text("\n".join(extra) + "\n", encoding="utf-8")
    text_files = [SHARED / f for f in FILES] + [generated]

    def compile_from_text(out: Path) -> dict[str, int]:
        sources: list[SourceRules] = []
        for i, path in enumerate(text_files):
            rules, _report = parse_file(path)
            category = FILES.get(
                str(path.relative_to(SHARED)) if path.is_relative_to(SHARED) else "", "adult"
            )
            sources.append(SourceRules(SourceRef(f"s{i}", path.name, "1"), [category], rules))
        for name, category in UT1.items():
            ut1 = parse_ut1_folder(SHARED / "ut1" / name)
            sources.append(SourceRules(SourceRef(f"ut1-{name}", name, "1"), [category], ut1.rules))
        return compile_snapshot(sources, CATEGORIES, out, version="1")

    def baseline_set() -> set[str]:
        names: set[str] = set()
        for path in text_files:
            with open(path, encoding="utf-8") as f:
                for raw in f:
                    line = raw.strip()
                    if line and line[0] not in "#!":
                        names.add(line.split()[-1].lstrip("|*.").rstrip("^").lower())
        return names

    snap_path, python_path = work / "v1.snap", work / "v1-python.snap"
    compile_s, counts = timed(lambda: compile_from_text(snap_path), repeat=2)
    with _accel.pure_python():
        python_compile_s, _ = timed(lambda: compile_from_text(python_path))
    base_compile_s, base = timed(baseline_set)
    assert isinstance(counts, dict)
    assert isinstance(base, set)
    same = snap_path.read_bytes() == python_path.read_bytes()
    print(
        f"entries: {counts['rules']:,} rules on {counts['hosts']:,} names "
        f"({len(extra):,} generated), {counts['rulesets']} rulesets"
    )
    print(f"{'':44} {'native':>12} {'pure Python':>12} {'baseline':>12}  target")
    print(
        f"{'compile from text (s)':44} {compile_s:12.2f} {python_compile_s:12.2f} "
        f"{base_compile_s:12.2f}  <= 2 s  (files identical: {'yes' if same else 'NO'})"
    )
    print(f"{'snapshot size (MB)':44} {counts['bytes'] / 1e6:12.1f} {'':12} {'':12}  <= 20 MB")

    load_ms = min(fresh_process_load_ms(snap_path, native=True) for _ in range(3))
    python_load_ms = min(fresh_process_load_ms(snap_path, native=False) for _ in range(3))
    swap_s, snap = timed(lambda: Snapshot(snap_path), repeat=5)
    with _accel.pure_python():
        python_swap_s, python_snap = timed(lambda: Snapshot(snap_path), repeat=5)
    assert isinstance(snap, Snapshot)
    assert isinstance(python_snap, Snapshot)
    base_load_s, _ = timed(lambda: set(base), repeat=3)
    print(
        f"{'load in a new process (ms)':44} {load_ms:12.2f} {python_load_ms:12.2f} "
        f"{base_load_s * 1000:12.0f}  <= 50 ms  (baseline: copying the set)"
    )
    print(
        f"{'swap: open the next version (ms)':44} {swap_s * 1000:12.2f} "
        f"{python_swap_s * 1000:12.2f} {'':12}  <= 50 ms"
    )

    rng = random.Random(11)
    listed = rng.sample(extra, min(len(extra), query_count // 2)) if extra else []
    queries = [
        f"www.{n}" if i % 3 == 0 else (f"https://{n}/a/b?c=1" if i % 3 == 1 else n.upper())
        for i, n in enumerate(listed)
    ]
    queries += [f"nothing-{i}.example.com" for i in range(query_count - len(queries))]
    rng.shuffle(queries)
    enabled = PROFILE.enabled_mask(datetime.now(UTC), snap.categories)

    def verdicts(snapshot: Snapshot) -> Callable[[], int]:
        def run() -> int:
            blocked = 0
            for q in queries:
                try:
                    _target, decision = classify(snapshot, q, enabled)
                except InvalidTarget:
                    continue
                if decision.action is Action.BLOCK:
                    blocked += 1
            return blocked

        return run

    def baseline_walk() -> int:
        blocked = 0
        for q in queries:
            name = q
            while True:
                if name in base:
                    blocked += 1
                    break
                dot = name.find(".")
                if dot < 0:
                    break
                name = name[dot + 1 :]
        return blocked

    verdict_s, blocked = timed(verdicts(snap), repeat=5)
    python_verdict_s, python_blocked = timed(verdicts(python_snap), repeat=3)
    base_s, _ = timed(baseline_walk, repeat=5)
    assert blocked == python_blocked, (blocked, python_blocked)
    n = len(queries)
    print(
        f"{'verdicts/s: normalise + profile mask + match':44} {n / verdict_s:12,.0f} "
        f"{n / python_verdict_s:12,.0f} {n / base_s:12,.0f}  >= 500,000/s  "
        f"({blocked:,} blocked; baseline: the set walk, no normalising)"
    )
    snap.close()
    python_snap.close()


def fresh_process_load_ms(path: Path, *, native: bool) -> float:
    """Open the snapshot in a new interpreter (modules imported first, then timed)."""
    code = (
        "import time, sys\n"
        "from filters.engine.snapshot import Snapshot\n"
        "t = time.perf_counter(); s = Snapshot(__import__('pathlib').Path(sys.argv[1]))\n"
        "s.rules_for('example.com')\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    env = {**os.environ, "FILTERS_NATIVE": "1" if native else "0"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True, env=env
    )
    return float(out.stdout.strip())


if __name__ == "__main__":
    main()
