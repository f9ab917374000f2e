"""Recognising a list's format from its first entries (see ``formats.detect_format``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from filters.engine._adblock import _is_adblock_header
from filters.engine.rules import Format

DETECT_LINES = 200
_VOTING = (Format.HOSTS, Format.ADBLOCK, Format.RPZ, Format.WILDCARD, Format.UT1_URLS)
_TAKES_PLAIN_NAMES = frozenset({Format.ADBLOCK, Format.WILDCARD, Format.UT1_URLS})
_RECORD_WORDS = frozenset({"CNAME", "A", "AAAA", "TXT", "MX", "DNAME", "IN"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def _entry_text(raw: str) -> str:
    """A line without its blanks, BOM and trailing comment (``#`` or ``;`` after a blank)."""
    text = raw.strip().lstrip("\ufeff")
    for mark in (" #", "\t#", " ;", "\t;"):
        cut = text.find(mark)
        if cut > 0:
            text = text[:cut].rstrip()
    return text


def _classify(text: str) -> Format | str | None:
    """What one entry looks like: a format, "plain" (a bare name), "zone" (sure RPZ) or None."""
    if text[0] == "$":
        return "zone" if text.split()[0].upper() in ("$ORIGIN", "$TTL") else None
    fields = text.split()
    if len(fields) > 1:
        head = fields[0]
        if head[0].isdigit() or ":" in head:
            try:
                ipaddress.ip_address(head)
            except ValueError:
                pass
            else:
                return Format.HOSTS
        words = {field.upper() for field in fields[1:4]}
        if "SOA" in words:
            return "zone"
        return Format.RPZ if words & _RECORD_WORDS else None
    if text.startswith(("||", "@@", "|", "/")):
        return Format.ADBLOCK
    host, slash, _ = text.partition("/")
    if slash and host and set(host) <= _NAME_CHARS:
        return Format.UT1_URLS
    if "^" in text or "$" in text:
        return Format.ADBLOCK
    if text.startswith("*."):
        return Format.WILDCARD
    if text.isascii() and not set(text) <= _NAME_CHARS:
        return None
    return "plain"


def detect_format(lines: Iterable[str]) -> Format:
    """The format of a list, from its first entries; ``ValueError`` if none fits."""
    votes = dict.fromkeys(_VOTING, 0)
    plain = entries = 0
    for raw in lines:
        text = _entry_text(raw)
        if not text or text[0] in "#!;":
            continue
        if text[0] == "[" and text[-1] == "]" and _is_adblock_header(text):
            return Format.ADBLOCK
        kind = _classify(text)
        if kind == "zone":
            return Format.RPZ
        entries += 1
        if kind == "plain":
            plain += 1
        elif isinstance(kind, Format):
            votes[kind] += 1
        if entries >= DETECT_LINES:
            break
    if not entries:
        raise ValueError("no entries to tell the format from")
    best = max(_VOTING, key=votes.__getitem__)
    if not votes[best]:
        if plain * 2 >= entries:
            return Format.DOMAINS
        raise ValueError(
            f"no known format fits: {entries - plain} of {entries} entries unrecognised"
        )
    support = votes[best] + (plain if best in _TAKES_PLAIN_NAMES else 0)
    if support * 2 < entries:
        raise ValueError(f"no known format fits: the best, {best}, fits {support} of {entries}")
    return best
