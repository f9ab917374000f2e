"""Compiled blocklist snapshots: one immutable file per published version, memory-mapped.

Layout (little-endian)::

    b"CSSNAP02"  u32 header length  header (JSON)  padding to 8
    keys:    u64[n]       xxh64 of each host that has rules, sorted
    sets:    u32[n]       index into header["rulesets"] for the host in the same position
    buckets: u32[2^b+1]   buckets[i] is the first position whose key's top b bits are >= i

A lookup hashes the host, takes the top ``b`` bits as a bucket and compares the (on average
about one) keys of that bucket, straight from the mapped file: no probing chains, so a miss
(most lookups, as a name's parents are tried in turn) is as cheap as a hit. Opening a snapshot
costs no parsing of the table, whatever its size, and every process that maps the same file
shares its pages. Hosts are not stored, only their 64-bit hashes: with a million hosts the
chance that any lookup of an unlisted name collides is about 1 in 10^13.

A ruleset is the tuple of rules a host carries: (scope, action, category mask, source index,
path). Rulesets are deduplicated, so the header stays small: a million hosts from a dozen
sources share a few hundred rulesets.

With the native engine (see ``_accel``) the table is built in C (``_build`` here is the
reference it matches byte for byte), and an open snapshot's ``native`` table answers
``matcher.classify`` and ``decide`` from the same mapped pages.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import xxhash

from filters.engine import _accel
from filters.engine.rules import (
    ACTION_CODES,
    ACTIONS,
    SCOPE_CODES,
    SCOPES,
    Action,
    Rule,
    Scope,
    SourceRef,
)

if TYPE_CHECKING:
    from filters.engine._native import Table

__all__ = [
    "ACTIONS",
    "ACTION_CODES",
    "MAGIC",
    "SCOPES",
    "SCOPE_CODES",
    "CompiledRule",
    "Snapshot",
    "SourceRef",
    "SourceRules",
    "compile_snapshot",
    "host_hash",
]

MAGIC = b"CSSNAP02"
_hash = xxhash.xxh64_intdigest

# The native engine reads rule masks as 64-bit words: with more categories, Python compiles and
# matches.
NATIVE_MAX_CATEGORIES = 64


@dataclass(frozen=True, slots=True)
class CompiledRule:
    scope: Scope
    action: Action
    mask: int  # bit i set: the rule belongs to category i of the snapshot
    source: int  # index into Snapshot.sources
    path: str = ""


@dataclass(frozen=True, slots=True)
class SourceRules:
    """The rules of one source, with the categories they belong to."""

    source: SourceRef
    categories: Sequence[str]
    rules: Iterable[Rule]


def host_hash(host: str) -> int:
    """The 64-bit key of a host in the table (never 0, which marks an empty slot)."""
    return _hash(host.encode()) or 1


def compile_snapshot(
    sources: Iterable[SourceRules], categories: Sequence[str], path: Path, *, version: str
) -> dict[str, int]:
    """Write the snapshot of ``sources`` to ``path`` (atomically); returns counts."""
    category_bit = {name: 1 << i for i, name in enumerate(categories)}
    source_refs: list[SourceRef] = []
    masked: list[tuple[Iterable[Rule], int]] = []
    for item in sources:
        source_refs.append(item.source)
        mask = 0
        for name in item.categories:
            mask |= category_bit[name]
        masked.append((item.rules, mask))
    native = _accel.native
    if native is not None and len(categories) <= NATIVE_MAX_CATEGORIES:
        table = _Table(*native.build(masked))
    else:
        table = _build(masked)
    header = {
        "version": version,
        "count": table.hosts,
        "bucket_bits": table.bits,
        "hosts": table.hosts,
        "rules": table.rules,
        "categories": list(categories),
        "sources": [[s.id, s.name, s.version] for s in source_refs],
        "rulesets": table.rulesets,
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    prefix = MAGIC + struct.pack("<I", len(raw)) + raw
    prefix += b"\0" * (-len(prefix) % 8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(prefix)
        out.write(table.keys)
        out.write(table.sets)
        out.write(table.buckets)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return {
        "hosts": table.hosts,
        "rules": table.rules,
        "rulesets": len(table.rulesets),
        "bytes": path.stat().st_size,
    }


class _Table(NamedTuple):
    """The table part of a snapshot file, as ``_build`` or the native ``build`` makes it."""

    keys: bytes  # u64[hosts]
    sets: bytes  # u32[hosts]
    buckets: bytes  # u32[2^bits + 1]
    rulesets: list[list[list[int | str]]]
    hosts: int
    rules: int  # rules read, duplicates included
    bits: int


def _build(sources: list[tuple[Iterable[Rule], int]]) -> _Table:
    """The table in Python: the reference the native ``build`` gives the same bytes as."""
    per_host: dict[str, dict[tuple[int, int, int, str], int]] = {}
    rules_in = 0
    for index, (rules, mask) in enumerate(sources):
        for rule in rules:
            rules_in += 1
            key = (SCOPE_CODES[rule.scope], ACTION_CODES[rule.action], index, rule.path)
            entry = per_host.setdefault(rule.host, {})
            entry[key] = entry.get(key, 0) | mask

    rulesets: dict[tuple[tuple[int, int, int, int, str], ...], int] = {}
    count = len(per_host)
    hashes = np.fromiter((_hash(h.encode()) or 1 for h in per_host), np.uint64, count)
    set_ids = np.fromiter(
        (rulesets.setdefault(_ruleset(e), len(rulesets)) for e in per_host.values()),
        np.uint32,
        count,
    )
    order = np.argsort(hashes, kind="stable")
    keys = hashes[order]
    sets = set_ids[order]
    same = np.flatnonzero(keys[1:] == keys[:-1])
    if same.size:
        hosts = list(per_host)
        pair = [hosts[order[same[0]]], hosts[order[same[0] + 1]]]
        raise ValueError(f"hash collision between {pair[0]!r} and {pair[1]!r}")
    bits = _bucket_bits(count)
    top = keys >> np.uint64(64 - bits)
    buckets = np.searchsorted(top, np.arange((1 << bits) + 1, dtype=np.uint64)).astype(np.uint32)
    return _Table(
        keys.tobytes(),
        sets.tobytes(),
        buckets.tobytes(),
        [list(map(list, rs)) for rs in rulesets],
        count,
        rules_in,
        bits,
    )


def _ruleset(
    entries: dict[tuple[int, int, int, str], int],
) -> tuple[tuple[int, int, int, int, str], ...]:
    if len(entries) == 1:  # nearly every host: skip the sort
        (((scope, action, source, path), mask),) = entries.items()
        return ((scope, action, mask, source, path),)
    return tuple(sorted((sc, ac, mask, src, path) for (sc, ac, src, path), mask in entries.items()))


def _bucket_bits(n: int) -> int:
    """About one key a bucket: the smallest power of two >= n (at least 2^3)."""
    return max(3, (max(n, 1) - 1).bit_length())


class Snapshot:
    """A mapped snapshot file. Cheap to open; safe to share between threads (read-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self._mm[:8] != MAGIC:
            self._mm.close()
            raise ValueError(f"{path} is not a snapshot file")
        (length,) = struct.unpack_from("<I", self._mm, 8)
        header: dict[str, Any] = json.loads(self._mm[12 : 12 + length])
        offset = 12 + length
        offset += -offset % 8
        count: int = header["count"]
        bits: int = header["bucket_bits"]
        self.version: str = header["version"]
        self.hosts: int = header["hosts"]
        self.categories: list[str] = header["categories"]
        self.sources = [SourceRef(*s) for s in header["sources"]]
        self.rulesets: list[tuple[CompiledRule, ...]] = [
            tuple(
                CompiledRule(SCOPES[s], ACTIONS[a], mask, src, rpath)
                for s, a, mask, src, rpath in rs
            )
            for rs in header["rulesets"]
        ]
        view = memoryview(self._mm)
        end_keys = offset + 8 * count
        end_sets = end_keys + 4 * count
        self._keys = view[offset:end_keys].cast("Q")
        self._sets = view[end_keys:end_sets].cast("I")
        self._buckets = view[end_sets : end_sets + 4 * ((1 << bits) + 1)].cast("I")
        self._shift = 64 - bits
        # The same table, read by the native engine (matcher.decide and classify use it).
        self.native: Table | None = None
        engine = _accel.native
        if engine is not None and len(self.categories) <= NATIVE_MAX_CATEGORIES:
            try:
                self.native = engine.Table(
                    self._mm, offset, count, bits, header["rulesets"], self.sources, self.categories
                )
            except (ValueError, TypeError, OverflowError):
                # A header the C code cannot take (a negative mask...): Python answers alone,
                # and raises where it finds the file wrong.
                self.native = None

    def rules_for(self, host: str) -> tuple[CompiledRule, ...]:
        """The rules listed for exactly ``host`` (not its parents)."""
        h = _hash(host.encode()) or 1  # host_hash, inlined: the Python engine's hot path
        bucket = h >> self._shift
        keys = self._keys
        for i in range(self._buckets[bucket], self._buckets[bucket + 1]):
            if keys[i] == h:
                return self.rulesets[self._sets[i]]
        return ()

    def close(self) -> None:
        if self.native is not None:
            self.native.close()
        self._keys.release()
        self._sets.release()
        self._buckets.release()
        self._mm.close()
