"""Compiled blocklist snapshots: one immutable file per published version, memory-mapped.

Layout (little-endian)::

    b"CSSNAP01"  u32 header length  header (JSON)  padding to 8
    keys: u64[nslots]   xxh64 of each host that has rules; 0 marks an empty slot
    sets: u32[nslots]   index into header["rulesets"] for the host in the same slot

The host table is open addressing with linear probing at a load factor of at most 0.75, so a
lookup is a hash and, almost always, one or two slot reads straight from the mapped file:
opening a snapshot costs no parsing of the table, whatever its size, and every process that
maps the same file shares its pages. Hosts are not stored, only their 64-bit hashes: with a
million hosts the chance that any lookup of an unlisted name collides is about 1 in 10^13.

A ruleset is the tuple of rules a host carries: (scope, action, category mask, source index,
path). Rulesets are deduplicated, so the header stays small: a million hosts from a dozen
sources share a few hundred rulesets.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from filters.engine.rules import Action, Rule, Scope

MAGIC = b"CSSNAP01"
MAX_LOAD = 0.75
_hash = xxhash.xxh64_intdigest

SCOPE_CODES = {Scope.EXACT: 0, Scope.SUBTREE: 1, Scope.SUBDOMAINS: 2, Scope.URL: 3}
SCOPES = {code: scope for scope, code in SCOPE_CODES.items()}
ACTION_CODES = {Action.BLOCK: 0, Action.ALLOW: 1}
ACTIONS = {code: action for action, code in ACTION_CODES.items()}


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where rules came from: a source and the version of it that was compiled."""

    id: str
    name: str
    version: str


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
    bits = {name: 1 << i for i, name in enumerate(categories)}
    source_refs: list[SourceRef] = []
    per_host: dict[str, dict[tuple[int, int, int, str], int]] = {}
    rules_in = 0
    for index, item in enumerate(sources):
        source_refs.append(item.source)
        mask = 0
        for name in item.categories:
            mask |= bits[name]
        for rule in item.rules:
            rules_in += 1
            key = (SCOPE_CODES[rule.scope], ACTION_CODES[rule.action], index, rule.path)
            entry = per_host.setdefault(rule.host, {})
            entry[key] = entry.get(key, 0) | mask

    rulesets: dict[tuple[tuple[int, int, int, int, str], ...], int] = {}
    nslots = _table_size(len(per_host))
    keys = bytearray(8 * nslots)
    sets = bytearray(4 * nslots)
    key_view = memoryview(keys).cast("Q")
    set_view = memoryview(sets).cast("I")
    slot_mask = nslots - 1
    for host, entries in per_host.items():
        ruleset = tuple(
            sorted(
                (scope, action, mask, source, rpath)
                for (scope, action, source, rpath), mask in entries.items()
            )
        )
        set_index = rulesets.setdefault(ruleset, len(rulesets))
        h = host_hash(host)
        slot = h & slot_mask
        while key_view[slot]:
            if key_view[slot] == h:
                raise ValueError(f"hash collision for {host!r}; rebuild with another seed")
            slot = (slot + 1) & slot_mask
        key_view[slot] = h
        set_view[slot] = set_index
    key_view.release()
    set_view.release()

    header = {
        "version": version,
        "nslots": nslots,
        "hosts": len(per_host),
        "rules": rules_in,
        "categories": list(categories),
        "sources": [[s.id, s.name, s.version] for s in source_refs],
        "rulesets": [list(map(list, rs)) for rs in rulesets],
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    prefix = MAGIC + struct.pack("<I", len(raw)) + raw
    prefix += b"\0" * (-len(prefix) % 8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(prefix)
        out.write(keys)
        out.write(sets)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return {
        "hosts": len(per_host),
        "rules": rules_in,
        "rulesets": len(rulesets),
        "bytes": path.stat().st_size,
    }


def _table_size(n: int) -> int:
    size = 8
    while size * MAX_LOAD < max(n, 1):
        size *= 2
    return size


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
        nslots: int = header["nslots"]
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
        self._keys = view[offset : offset + 8 * nslots].cast("Q")
        self._sets = view[offset + 8 * nslots : offset + 12 * nslots].cast("I")
        self._slot_mask = nslots - 1

    def rules_for(self, host: str) -> tuple[CompiledRule, ...]:
        """The rules listed for exactly ``host`` (not its parents)."""
        h = _hash(host.encode()) or 1
        keys = self._keys
        slot = h & self._slot_mask
        while True:
            k = keys[slot]
            if k == h:
                return self.rulesets[self._sets[slot]]
            if not k:
                return ()
            slot = (slot + 1) & self._slot_mask

    def close(self) -> None:
        self._keys.release()
        self._sets.release()
        self._mm.close()
