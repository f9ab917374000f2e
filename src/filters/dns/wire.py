"""The DNS wire format of a query, read by hand: header, question, the EDNS0 OPT record.

Every query goes through here, so it is written for speed (dnspython builds a whole object
tree per message, several times the cost of the verdict). It reads only what the front end
needs and rejects anything it cannot read with ``FormatError``: the caller then answers
FORMERR (when the header could be read) or drops the packet. Nothing else may escape; the
hypothesis tests feed it random and mutated packets to hold it to that.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("!HHHHHH")
RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
QR, AA, TC, RD, RA, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0010
OPCODE_MASK = 0x7800
OPT, SOA, CNAME, A, AAAA, AXFR, IXFR = 41, 6, 5, 1, 28, 252, 251
CLASS_IN = 1
ECS_CODE = 8
MIN_UDP = 512
MAX_NAME = 255
DO_BIT = 0x8000


class FormatError(ValueError):
    """A packet that is not a DNS query we can read."""


@dataclass(frozen=True, slots=True)
class Edns:
    """The client's OPT record: what it accepts and the options it sent that we read."""

    udp_size: int
    version: int
    do: bool
    line_option: bytes | None = None
    client_subnet: bytes | None = None


@dataclass(frozen=True, slots=True)
class Query:
    id: int
    flags: int
    qname: bytes  # the name in wire form, as the client sent it (its case kept)
    qtype: int
    qclass: int
    question: bytes  # the whole question entry: qname, qtype, qclass
    edns: Edns | None

    @property
    def name(self) -> str:
        """The name in text, lowercase, without the trailing dot ("" for the root)."""
        return name_text(self.qname)

    @property
    def key(self) -> tuple[bytes, int, int]:
        """What answers are cached and coalesced by: the name in lowercase, type and class."""
        return self.qname.lower(), self.qtype, self.qclass

    @property
    def opcode(self) -> int:
        return (self.flags & OPCODE_MASK) >> 11

    @property
    def limit(self) -> int:
        """The largest UDP answer the client takes (RFC 6891 6.2.5: never below 512)."""
        return MIN_UDP if self.edns is None else max(MIN_UDP, self.edns.udp_size)


def name_text(wire: bytes) -> str:
    labels = []
    at = 0
    while wire[at]:
        length = wire[at]
        labels.append(wire[at + 1 : at + 1 + length].decode("latin-1"))
        at += 1 + length
    return ".".join(labels).lower()


def name_wire(text: str) -> bytes:
    """A name in text (``www.example.com``, a trailing dot optional) in wire form."""
    out = bytearray()
    for label in text.strip(".").split("."):
        if label:
            raw = label.encode("ascii")
            out.append(len(raw))
            out += raw
    out.append(0)
    return bytes(out)


def read_header(packet: bytes) -> tuple[int, int] | None:
    """(id, flags) of a packet at least a header long, None otherwise."""
    if len(packet) < HEADER.size:
        return None
    ident, flags = struct.unpack_from("!HH", packet)
    return ident, flags


def name_end(packet: bytes, at: int) -> int:
    """Where the (possibly compressed) name starting at ``at`` ends in the packet."""
    size = 0
    while True:
        if at >= len(packet):
            raise FormatError("name runs past the end")
        length = packet[at]
        if length & 0xC0 == 0xC0:
            if at + 2 > len(packet):
                raise FormatError("cut pointer")
            return at + 2
        if length & 0xC0:
            raise FormatError("unknown label type")
        at += 1
        if length == 0:
            return at
        at += length
        size += length + 1
        if size > MAX_NAME:
            raise FormatError("name too long")


def _question_name(packet: bytes, at: int) -> int:
    """The end of an uncompressed name (a question's name has nothing earlier to point at)."""
    end = name_end(packet, at)
    if packet[end - 1] != 0 or end - at > MAX_NAME:
        raise FormatError("compressed or overlong question name")
    return end


def parse_query(packet: bytes, line_option_code: int) -> Query:
    """The query in ``packet``; ``FormatError`` if it is not one we can answer as such."""
    if len(packet) < HEADER.size:
        raise FormatError("shorter than a header")
    ident, flags, qdcount, ancount, nscount, arcount = HEADER.unpack_from(packet)
    if flags & QR:
        raise FormatError("a response, not a query")
    if qdcount != 1:
        raise FormatError("not exactly one question")
    end = _question_name(packet, HEADER.size)
    if end + 4 > len(packet):
        raise FormatError("question cut short")
    qtype, qclass = struct.unpack_from("!HH", packet, end)
    question = packet[HEADER.size : end + 4]
    at = end + 4
    edns = None
    for index in range(ancount + nscount + arcount):
        start, at = at, name_end(packet, at)
        if at + RR_FIXED.size > len(packet):
            raise FormatError("record cut short")
        rtype, rclass, ttl, rdlength = RR_FIXED.unpack_from(packet, at)
        at += RR_FIXED.size
        if at + rdlength > len(packet):
            raise FormatError("record data cut short")
        if rtype == OPT:
            if edns is not None or index < ancount + nscount or at - RR_FIXED.size != start + 1:
                raise FormatError("misplaced or repeated OPT record")
            edns = _edns(packet[at : at + rdlength], rclass, ttl, line_option_code)
        at += rdlength
    if at != len(packet):
        raise FormatError("trailing bytes")
    return Query(ident, flags, packet[HEADER.size : end], qtype, qclass, question, edns)


def _edns(rdata: bytes, udp_size: int, ttl: int, line_option_code: int) -> Edns:
    line_option = client_subnet = None
    at = 0
    while at < len(rdata):
        if at + 4 > len(rdata):
            raise FormatError("option header cut short")
        code, length = struct.unpack_from("!HH", rdata, at)
        at += 4
        if at + length > len(rdata):
            raise FormatError("option cut short")
        if code == line_option_code:
            line_option = rdata[at : at + length]
        elif code == ECS_CODE:
            client_subnet = rdata[at : at + length]
        at += length
    return Edns(udp_size, (ttl >> 16) & 0xFF, bool(ttl & DO_BIT), line_option, client_subnet)
