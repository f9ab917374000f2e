"""Writing and reading RPZ zone files (RFC-style master files, one record a line).

What a rule becomes (the trigger is a QNAME owner under the zone's origin):

- ``EXACT`` ``name``: ``name CNAME .``
- ``SUBTREE`` ``name``: ``name CNAME .`` and ``*.name CNAME .``
- ``SUBDOMAINS`` ``name``: ``*.name CNAME .``
- an ``ALLOW`` rule: the same owners with ``CNAME rpz-passthru.`` (the resolver answers as if
  unlisted);
- ``URL`` rules: nothing (a resolver sees names, never paths); they are counted in the header.

``CNAME .`` is the RPZ "NXDOMAIN" action. Several rules on one owner (two sources, or a block
and an allow) make one record: an allow beats a block at the same level, as in the matcher; the
RPZ rule that an exact owner beats a wildcard then gives the matcher's "most specific wins".

Records come in the order the rules do (the caller sorts them by name), each owner once, the
name before its wildcard, so two versions' files can be compared by walking both at once
(``records``, used by incremental zone transfer). Names that cannot be a trigger (IP
addresses, which a resolver is never asked, or names too long once under the origin) are left
out and counted too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from filters.engine.rules import Action, Scope

BLOCK_TARGET = "."
PASSTHRU_TARGET = "rpz-passthru."
# SOA timers (seconds) for secondaries that pull by zone transfer: check hourly, retry every
# ten minutes, keep serving a week without the primary; negative answers cached 5 minutes.
REFRESH, RETRY, EXPIRE, MINIMUM = 3600, 600, 604_800, 300
NAMESERVER = "localhost."  # RPZ zones are not delegated; the usual placeholder NS
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_MAX_WIRE_NAME = 255


@dataclass(frozen=True)
class ZoneOptions:
    """Where our zones live in the DNS namespace, and the TTL of their records."""

    suffix: str  # e.g. "rpz.carrier.example": zones are "<category>.rpz.carrier.example."
    ttl: int = 300

    def origin(self, *labels: str) -> str:
        return ".".join((*labels, self.suffix.strip("."))) + "."


@dataclass
class ZoneCounts:
    """What a zone holds and what it left out of its rules."""

    records: int = 0
    url_rules: int = 0
    unfit_names: int = 0


def soa_text(origin: str, serial: int) -> str:
    """The SOA record's data, as written in the file and sent in zone transfers."""
    return f"{NAMESERVER} hostmaster.{origin} {serial} {REFRESH} {RETRY} {EXPIRE} {MINIMUM}"


def header(*, origin: str, serial: int, ttl: int, title: str, counts: ZoneCounts) -> str:
    lines = [f"; {title}", f"; {counts.records} records."]
    if counts.url_rules:
        lines.append(f"; {counts.url_rules} URL rules left out: a resolver sees names, not paths.")
    if counts.unfit_names:
        lines.append(
            f"; {counts.unfit_names} names left out: IP addresses, or too long for this zone."
        )
    lines += [
        f"$ORIGIN {origin}",
        f"$TTL {ttl}",
        f"@ IN SOA {soa_text(origin, serial)}",
        f"@ IN NS {NAMESERVER}",
    ]
    return "\n".join(lines) + "\n"


def _fits(owner: str, origin: str) -> bool:
    """A valid owner under ``origin``: LDH (and underscore) labels, at most 255 octets."""
    labels = owner.split(".")
    if not all(_LABEL.match(label) for label in labels[labels[0] == "*" :]):
        return False
    return len(owner) + 1 + len(origin) + 1 <= _MAX_WIRE_NAME


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _target(actions: set[str]) -> str | None:
    if not actions:
        return None
    return PASSTHRU_TARGET if Action.ALLOW.value in actions else BLOCK_TARGET


def host_records(
    host: str, rules: Iterable[tuple[str, str]], origin: str, counts: ZoneCounts
) -> list[tuple[str, str]]:
    """The (owner, target) records of one name's rules, given as (scope, action) pairs."""
    on_name: set[str] = set()
    on_subdomains: set[str] = set()
    for scope, action in rules:
        if scope == Scope.URL.value:
            counts.url_rules += 1
            continue
        if scope in (Scope.EXACT.value, Scope.SUBTREE.value):
            on_name.add(action)
        if scope in (Scope.SUBTREE.value, Scope.SUBDOMAINS.value):
            on_subdomains.add(action)
    if not (on_name or on_subdomains):
        return []
    if _is_address(host):
        counts.unfit_names += 1
        return []
    out = []
    for owner, actions in ((host, on_name), ("*." + host, on_subdomains)):
        target = _target(actions)
        if target is None:
            continue
        if not _fits(owner, origin):
            counts.unfit_names += 1
            continue
        out.append((owner, target))
    counts.records += len(out)
    return out


class RecordWriter:
    """Writes the records of rules fed one by one, sorted by host, in batches (streaming)."""

    def __init__(self, out: TextIO, origin: str) -> None:
        self.out = out
        self.origin = origin
        self.counts = ZoneCounts()
        self._host: str | None = None
        self._group: list[tuple[str, str]] = []
        self._lines: list[str] = []

    def add(self, host: str, scope: str, action: str) -> None:
        if host != self._host:
            self._flush_host()
            self._host = host
            if len(self._lines) >= 10_000:
                self.out.write("".join(self._lines))
                self._lines.clear()
        self._group.append((scope, action))

    def finish(self) -> ZoneCounts:
        self._flush_host()
        self.out.write("".join(self._lines))
        self._lines.clear()
        return self.counts

    def _flush_host(self) -> None:
        if self._host is not None:
            records = host_records(self._host, self._group, self.origin, self.counts)
            self._lines.extend(f"{owner} CNAME {target}\n" for owner, target in records)
        self._host, self._group = None, []


def write_records(out: TextIO, rows: Iterable[tuple[str, str, str]], origin: str) -> ZoneCounts:
    """Write the records of ``rows`` = (host, scope, action), sorted by host."""
    writer = RecordWriter(out, origin)
    for host, scope, action in rows:
        writer.add(host, scope, action)
    return writer.finish()


@dataclass(frozen=True)
class ZoneFile:
    """A zone file this module wrote: its origin, serial and TTL, and where it is."""

    origin: str
    serial: int
    ttl: int
    path: Path

    def records(self) -> Iterator[tuple[str, str]]:
        """The (owner relative to the origin, target) records, in file order, streaming.

        Reads back this module's own one-record-a-line output only; dnspython's zone reader
        would hold a million-record zone in memory at once.
        """
        with self.path.open(encoding="ascii") as lines:
            for line in lines:
                if line[0] in ";$@\n":
                    continue
                owner, _, target = line.split(None, 2)
                yield owner, target.rstrip("\n")
