"""Building answers in the wire format: errors, block answers, truncated answers.

Every answer repeats the client's question as it came (its case kept, RFC 4343) and, when the
client sent an OPT record, carries one of ours (RFC 6891 forbids one otherwise), with an
Extended DNS Error (RFC 8914) when we have something to say about why.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from filters.dns.wire import (
    AAAA,
    CD,
    CLASS_IN,
    DO_BIT,
    HEADER,
    OPCODE_MASK,
    QR,
    RA,
    RD,
    TC,
    A,
    Query,
)

OUR_UDP_SIZE = 1232  # the DNS flag day 2020 figure: no fragmentation on any common path
EDE_CODE = 15
_POINTER_TO_QUESTION = b"\xc0\x0c"
_RR = struct.Struct("!HHIH")


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    BADVERS = 16  # extended: its upper bits travel in the OPT record


class EdeCode(IntEnum):
    """RFC 8914 info-codes we send."""

    BLOCKED = 15  # on a blocklist the operator enforces (a category's published list)
    FILTERED = 17  # on a list the client asked for (the guardian's own entries)
    NO_REACHABLE_AUTHORITY = 22  # no upstream resolver answered in time


@dataclass(frozen=True, slots=True)
class Ede:
    code: EdeCode
    text: str


def ede_option(ede: Ede | None) -> bytes:
    """The Extended DNS Error option (RFC 8914) in wire form; b"" for none."""
    if ede is None:
        return b""
    text = ede.text.encode()
    return struct.pack("!HHH", EDE_CODE, 2 + len(text), ede.code) + text


def flags_for(query: Query, rcode: int, extra: int = 0) -> int:
    return QR | RA | (query.flags & (OPCODE_MASK | RD | CD)) | extra | (rcode & 0xF)


def opt_record(query: Query, rcode: int = 0, ede: Ede | None = None) -> bytes:
    """Our OPT record for an answer to ``query`` (b"" when the client sent none)."""
    if query.edns is None:
        return b""
    options = ede_option(ede)
    ttl = (rcode >> 4) << 24 | (DO_BIT if query.edns.do else 0)
    return b"\x00" + struct.pack("!HHIH", 41, OUR_UDP_SIZE, ttl, len(options)) + options


def message(
    query: Query,
    rcode: int,
    *,
    body: bytes = b"",
    counts: tuple[int, int, int] = (0, 0, 0),
    ede: Ede | None = None,
    extra_flags: int = 0,
) -> bytes:
    """An answer: header, the client's question, ``body`` (records already in wire form, with
    ``counts`` of answer, authority and additional records) and our OPT record."""
    opt = opt_record(query, rcode, ede)
    an, ns, ar = counts
    header = HEADER.pack(
        query.id, flags_for(query, rcode, extra_flags), 1, an, ns, ar + (1 if opt else 0)
    )
    return header + query.question + body + opt


def error(query: Query, rcode: int, ede: Ede | None = None) -> bytes:
    return message(query, rcode, ede=ede)


def header_only(ident: int, flags: int, rcode: int) -> bytes:
    """An answer to a packet whose question could not be read (FORMERR): the header alone."""
    return HEADER.pack(ident, QR | (flags & (OPCODE_MASK | RD)) | (rcode & 0xF), 0, 0, 0, 0)


def truncated(query: Query) -> bytes:
    """An empty answer with TC set: the client asks again over TCP."""
    return message(query, Rcode.NOERROR, extra_flags=TC)


def fit(query: Query, answer: bytes, limit: int | None) -> bytes:
    """``answer``, or a truncated one when it is larger than ``limit`` (UDP) allows."""
    if limit is not None and len(answer) > limit:
        return truncated(query)
    return answer


@dataclass(frozen=True, slots=True)
class BlockAnswer:
    """How a blocked name is answered: the block page's addresses (packed; None for NODATA of
    that type) with this TTL, or NXDOMAIN when ``nxdomain``."""

    nxdomain: bool
    ipv4: bytes | None
    ipv6: bytes | None
    ttl: int


def block_records(query: Query, how: BlockAnswer) -> tuple[int, bytes, tuple[int, int, int]]:
    """The rcode, records and record counts of a block: NXDOMAIN, or the block page's address
    for A/AAAA questions and NODATA for the rest."""
    if how.nxdomain:
        return Rcode.NXDOMAIN, b"", (0, 0, 0)
    address = None
    if query.qclass == CLASS_IN:
        address = how.ipv4 if query.qtype == A else how.ipv6 if query.qtype == AAAA else None
    if address is None:
        return Rcode.NOERROR, b"", (0, 0, 0)
    record = _POINTER_TO_QUESTION + _RR.pack(query.qtype, CLASS_IN, how.ttl, len(address)) + address
    return Rcode.NOERROR, record, (1, 0, 0)


def blocked(query: Query, how: BlockAnswer, ede: Ede) -> bytes:
    rcode, body, counts = block_records(query, how)
    return message(query, rcode, body=body, counts=counts, ede=ede)
