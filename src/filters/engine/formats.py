"""Reading blocklists: the formats we import, and exactly what each of their lines means.

Accounting. ``parse`` returns the rules and a ``ParseReport`` in which every line counts once:
``accepted`` (it gave at least one rule not already given in this parse), ``duplicates``
(every rule it gave was already there: same ``Rule.key``), ``skipped`` (comments, blank lines,
headers, zone bookkeeping) or ``rejected`` (line number, text, reason), so ``lines_read ==
accepted + duplicates + skipped + len(rejected)``. A line is taken whole or not at all: when one
name of a hosts line is invalid the line is rejected and gives no rule. ``accepted`` counts
lines, not rules (a hosts line may name several hosts). Lines that are not valid UTF-8 (from
``parse_bytes`` or ``parse_file``) are rejected. A byte-order mark and CR-LF line ends are
accepted.

Names go through ``normalize_host``; when it refuses one the line is rejected with its reason
("invalid name: bad-character"). An IP literal always makes an EXACT rule (an address has no
subdomains); a rule that would cover only an address's subdomains is rejected.

Actions. ``action`` is what a list's ordinary entries do: BLOCK by default, ALLOW to import an
allow list (as AdGuard Home reads a list added as an allowlist). An explicit exception in the
list (``@@`` in AdBlock, ``rpz-passthru.`` in RPZ) is ALLOW whatever ``action`` says.

Comments. A line whose first non-blank character is ``#`` or ``!`` is a comment in every format
(in AdBlock unless it is a cosmetic rule such as ``##.ad``); hosts, domains and wildcard lines
may also end in a ``#`` comment; RPZ takes ``;`` comments anywhere on a line.

Formats:

HOSTS  ``address name [name ...] [# comment]``
    Each name is an EXACT rule. The address must be a sink (``0.0.0.0``, ``127.0.0.1``, ``::``,
    ``::1``); any other address is a redirect we cannot honour, so the line is rejected. A line
    naming only hosts-file boilerplate (``localhost``, ``localhost.localdomain``, ``local``,
    ``broadcasthost``, ``0.0.0.0``, ``ip6-localhost`` and the other ``ip6-*`` names) is skipped,
    whatever its address; boilerplate names among real ones are dropped.
DOMAINS  ``name [# comment]``, one a line
    ``domains_scope``: SUBTREE unless the caller says otherwise. A plain list does not say
    which it means, and AdGuard Home and Pi-hole read one as exact names: a list written for
    them keeps its meaning with EXACT.
WILDCARD  ``*.name`` or ``name``, one a line (HaGeZi's wildcard lists)
    SUBTREE either way: those lists mean the name and every subdomain. ``*`` anywhere else
    (``a.*.b``, ``*name``, ``*`` alone) is rejected.
ADBLOCK  ``[@@]pattern[$modifiers]``, the DNS subset AdGuard Home reads
    ``||name^`` is SUBTREE; ``|name^`` is EXACT (``|`` anchors the start of the host name, ``^``
    its end); ``||*.name^``, ``*.name^`` and ``.name^`` are SUBDOMAINS; a bare ``name`` is EXACT,
    as AdGuard Home reads it ("blocks example.org but not its subdomains"); ``name^`` with no
    start anchor is SUBTREE. ``@@`` makes a rule ALLOW. The end anchor (``^``, ``|`` or ``^|``)
    may be left out; AdGuard would then also match longer names that merely begin with the
    pattern (``||ab.com`` matches ``ab.com.evil.net``), and ``name^`` any name ending in it
    (``xname``): we match only what the name itself covers, a deliberate under-match.
    ``$important`` is accepted and dropped: our engine has no priority flag, so where AdGuard
    lets ``||x^$important`` beat ``@@||x^`` we let the exception win. Any other modifier
    (``$third-party``, ``$denyallow=``, ``$client=``, ``$dnsrewrite=``, ``$badfilter`` ...)
    rejects the rule, "unsupported modifier: ...": applying it without its modifier would widen
    it. Rejected too, each with its reason: cosmetic rules (``##``, ``#@#``, ``#?#`` ...),
    regular expressions (``/.../``), rules with a path or a scheme, ``*`` inside a name, and
    ``!#include``. ``[Adblock Plus 2.0]``-style headers are skipped.
RPZ  a DNS Response Policy Zone in master-file syntax, QNAME triggers only
    ``$ORIGIN``, ``$TTL``, SOA and NS records are skipped (lines continuing a record inside
    parentheses count as skipped too); ``;`` starts a comment; TTL and class are optional; a
    line starting with blanks reuses the previous owner. Owner names are made absolute (``@``
    and relative names take the current ``$ORIGIN``) and the zone's apex is then stripped: the
    apex is the SOA owner (also the origin when no ``$ORIGIN`` came first), or the first
    ``$ORIGIN`` before any SOA; with neither, names are taken as written. Names outside the
    apex, and records at the apex, are rejected. ``name CNAME .`` (NXDOMAIN), ``CNAME *.``
    (NODATA) and ``CNAME rpz-drop.`` are ``action`` (BLOCK); ``CNAME rpz-passthru.`` is ALLOW;
    ``name`` gives EXACT and ``*.name`` SUBDOMAINS. When ``name`` and ``*.name`` both appear
    with the same action they become one SUBTREE rule carrying the first one's line; the
    later line then counts as a duplicate. Rejected: any other CNAME target and
    every other record type ("local data (redirect) not supported"), ``rpz-tcp-only.``, the
    ``rpz-ip``, ``rpz-client-ip``, ``rpz-nsdname`` and ``rpz-nsip`` triggers, and ``$INCLUDE``.
UT1_DOMAINS  squidGuard domain lists, one name a line
    SUBTREE always (squidGuard matches the domain and every subdomain); an IP address entry is
    an EXACT rule on the address.
UT1_URLS  squidGuard URL lists, ``host[/path prefix]`` without a scheme
    A URL rule on the host with the path from ``normalize_path`` (which drops a query or
    fragment); a line whose path is empty or ``/`` is a plain SUBTREE rule on the host, which is
    what a URL rule for every path means. As squidGuard does, a leading ``www``, ``web`` or
    ``ftp`` label (with optional digits) is removed from the host when a name remains. A line
    with a scheme is rejected.

``detect_format`` looks at the first 200 entries (comments and blank lines aside). Lists of
plain names are DOMAINS: the UT1 formats are chosen explicitly, as ``parse_ut1_folder`` does.

Speed. With the native engine (see ``_accel``), lines of the common shapes (a sink and one name
in hosts files, a plain name, ``*.name``, ``[@@]||name^``, comments and blank lines) are read in
C, and every other line by the Python handlers here, so the rules and reports are the same
either way; ``parse_bytes`` and ``parse_file`` also spare decoding a file into line strings.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filters.engine import _accel
from filters.engine._adblock import _adblock_handler
from filters.engine._common import _Handler, _Key, _shown
from filters.engine._detect import detect_format
from filters.engine._plain import (
    _HOSTS_BOILERPLATE,
    _domains_handler,
    _hosts_handler,
    _wildcard_handler,
)
from filters.engine._rpz import _merge_rpz_pairs, _RpzReader
from filters.engine._ut1 import _ut1_urls_handler, _ut1_usage
from filters.engine.rules import (
    ACTION_CODES,
    SCOPE_CODES,
    Action,
    Format,
    ParseReport,
    Rejection,
    Rule,
    Scope,
)

if TYPE_CHECKING:
    from filters.engine._native import Reader

__all__ = [
    "Ut1Category",
    "detect_format",
    "parse",
    "parse_bytes",
    "parse_file",
    "parse_ut1_folder",
]


@dataclass
class Ut1Category:
    """One UT1 category folder: its usage and the rules of its ``domains`` and ``urls`` files."""

    name: str
    action: Action
    rules: list[Rule]
    reports: dict[str, ParseReport]  # "domains", "urls": only for the files that exist


def parse(
    lines: Iterable[str],
    fmt: Format | None = None,
    *,
    action: Action = Action.BLOCK,
    domains_scope: Scope = Scope.SUBTREE,
) -> tuple[list[Rule], ParseReport]:
    """Parse the lines of a list (``fmt`` None: detect it); see the module docstring."""
    if isinstance(lines, str):
        raise TypeError("parse takes lines, not one string: use str.splitlines()")
    _check_scope(domains_scope)
    if fmt is None:
        if not isinstance(lines, Sequence):
            lines = list(lines)
        fmt = detect_format(lines)
    return _parse(lines, fmt, action, domains_scope, _Seen())


def parse_bytes(
    data: bytes,
    fmt: Format | None = None,
    *,
    action: Action = Action.BLOCK,
    domains_scope: Scope = Scope.SUBTREE,
) -> tuple[list[Rule], ParseReport]:
    """Parse a list's bytes as UTF-8, lines split at ``\\n``; a line that does not decode is
    rejected, not fatal."""
    _check_scope(domains_scope)
    if fmt is None:
        fmt = detect_format(_decoded_lines(data))
    return _parse(data, fmt, action, domains_scope, _Seen())


def parse_file(
    path: Path,
    fmt: Format | None = None,
    *,
    action: Action = Action.BLOCK,
    domains_scope: Scope = Scope.SUBTREE,
) -> tuple[list[Rule], ParseReport]:
    """Parse a list file (see ``parse_bytes``)."""
    return parse_bytes(path.read_bytes(), fmt, action=action, domains_scope=domains_scope)


def parse_ut1_folder(path: Path) -> Ut1Category:
    """Parse a UT1 category folder (``usage``, ``domains``, ``urls``).

    ``usage`` saying ``white`` makes every rule ALLOW, ``black`` BLOCK; a missing or unclear
    ``usage`` is a ``ValueError`` (we will not guess between blocking and allowing). The two
    files are one parse for duplicates: a URL line repeating a domains rule counts as one.
    """
    action = _ut1_usage(path / "usage")
    rules: list[Rule] = []
    reports: dict[str, ParseReport] = {}
    seen = _Seen()
    for name, fmt in (("domains", Format.UT1_DOMAINS), ("urls", Format.UT1_URLS)):
        file = path / name
        if file.is_file():
            found, reports[name] = _parse(file.read_bytes(), fmt, action, Scope.SUBTREE, seen)
            rules += found
    if not reports:
        raise ValueError(f"{path}: no domains or urls file")
    return Ut1Category(path.name, action, rules, reports)


def _check_scope(domains_scope: Scope) -> None:
    if domains_scope is Scope.URL:
        raise ValueError("domains_scope must be a host scope, not URL")


# --- reading -------------------------------------------------------------------------------


def _file_lines(data: bytes) -> list[str]:
    # surrogateescape keeps undecodable bytes as lone surrogates, so the line they are on is
    # rejected by itself instead of the whole file failing to decode.
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _decoded_lines(data: bytes) -> Iterator[str]:
    """``_file_lines``, one line at a time: format detection reads only the first ones."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        yield data[start:end].decode("utf-8", "surrogateescape")
        start = end + 1


class _Seen:
    """The rules one parse has given so far, for duplicates (a UT1 folder's files share one):
    in the native reader, or as keys in a set for ``_read``."""

    def __init__(self) -> None:
        native = _accel.native
        self.reader: Reader | None = native.Reader() if native is not None else None
        self.keys: set[_Key] = set()


# The line shapes the native reader reads itself, by format: csrc/reader.c's KIND_* codes (0:
# every line goes to the Python handler).
_NATIVE_KINDS = {
    Format.HOSTS: 1,
    Format.DOMAINS: 2,
    Format.UT1_DOMAINS: 2,
    Format.WILDCARD: 3,
    Format.ADBLOCK: 4,
}


def _parse(
    source: bytes | Iterable[str],
    fmt: Format,
    action: Action,
    domains_scope: Scope,
    seen: _Seen,
) -> tuple[list[Rule], ParseReport]:
    report = ParseReport(format=fmt)
    handler = _handler(fmt, action, domains_scope)
    with _collector_paused():
        if seen.reader is not None:
            scope = Scope.SUBTREE if fmt is Format.UT1_DOMAINS else domains_scope
            rules, *counts = seen.reader.feed(
                source,
                _NATIVE_KINDS.get(fmt, 0),
                SCOPE_CODES[scope],
                ACTION_CODES[action],
                handler,
                report.rejected,
                _HOSTS_BOILERPLATE,
            )
            report.lines_read, report.accepted, report.duplicates, report.skipped = counts
        else:
            lines = _file_lines(source) if isinstance(source, bytes) else source
            rules = _read(lines, handler, report, seen.keys)
    if fmt is Format.RPZ:
        rules = _merge_rpz_pairs(rules, report)
    return rules, report


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A list holds a few hundred thousand new objects, none in a cycle: left on, the cyclic
    # collector would walk the growing heap again and again, a third of the time spent.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(
    lines: Iterable[str], handle: _Handler, report: ParseReport, seen: set[_Key]
) -> list[Rule]:
    """Feed each line to ``handle``; collect the rules and count the line in ``report``."""
    rejected = report.rejected
    rules: list[Rule] = []
    accepted = duplicates = skipped = number = 0
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if not line.isascii() and not _is_utf8(line):
            rejected.append(Rejection(number, _shown(line), "not valid UTF-8"))
            continue
        outcome = handle(line)
        if outcome is None:
            skipped += 1
        elif isinstance(outcome, tuple):  # one rule: the common case, kept free of extra objects
            if outcome in seen:
                duplicates += 1
            else:
                seen.add(outcome)
                rules.append(Rule(outcome[0], outcome[1], outcome[3], outcome[2], number))
                accepted += 1
        elif isinstance(outcome, str):
            rejected.append(Rejection(number, _shown(line.strip()), outcome))
        else:
            fresh = False
            for key in outcome:
                if key not in seen:
                    seen.add(key)
                    rules.append(Rule(key[0], key[1], key[3], key[2], number))
                    fresh = True
            if fresh:
                accepted += 1
            else:
                duplicates += 1
    report.lines_read = number
    report.accepted, report.duplicates, report.skipped = accepted, duplicates, skipped
    return rules


def _is_utf8(line: str) -> bool:
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _handler(fmt: Format, action: Action, domains_scope: Scope) -> _Handler:
    if fmt is Format.HOSTS:
        return _hosts_handler(action)
    if fmt is Format.DOMAINS:
        return _domains_handler(domains_scope, action)
    if fmt is Format.UT1_DOMAINS:
        return _domains_handler(Scope.SUBTREE, action)
    if fmt is Format.WILDCARD:
        return _wildcard_handler(action)
    if fmt is Format.ADBLOCK:
        return _adblock_handler(action)
    if fmt is Format.RPZ:
        return _RpzReader(action)
    return _ut1_urls_handler(action)
