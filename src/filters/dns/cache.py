"""Upstream answers kept for their TTL, in a bounded LRU, and served to any client again.

An upstream answer is kept as its record sections in wire form, with where each TTL sits, so
serving it is a header, the client's own question, these bytes with TTLs aged, and our OPT
record: no parsing per hit. Compression pointers in the sections stay valid because the
client's question has the same length as the one we sent upstream (the same name, perhaps in
another case).

How long: positive answers for their smallest TTL; NXDOMAIN and NODATA for the SOA's
minimum field (capped by the SOA's own TTL, RFC 2308 section 5); anything else not at all.
"""

from __future__ import annotations

import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from filters.dns import build
from filters.dns.build import Rcode
from filters.dns.wire import HEADER, OPT, RR_FIXED, SOA, TC, FormatError, Query, name_end

Key = tuple[bytes, int, int, bool]  # name (lowercase wire), type, class, DNSSEC OK
_TTL = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class Answer:
    """An upstream answer, ready to serve to any client asking the same question."""

    rcode: int
    body: bytes  # answer, authority and additional records, without the upstream's OPT
    counts: tuple[int, int, int]
    ttl_offsets: tuple[int, ...]  # where each record's TTL is in ``body``
    ttls: tuple[int, ...]
    lifetime: int  # seconds this answer may be served for (0: not cached)
    truncated: bool = False

    def render(self, query: Query, age: float = 0.0, limit: int | None = None) -> bytes:
        """The answer to ``query`` (its id, question and EDNS), TTLs aged by ``age`` seconds,
        truncated when larger than ``limit``."""
        body = self.body
        elapsed = int(age)
        if elapsed and self.ttl_offsets:
            patched = bytearray(body)
            for offset, ttl in zip(self.ttl_offsets, self.ttls, strict=True):
                _TTL.pack_into(patched, offset, max(0, ttl - elapsed))
            body = bytes(patched)
        return build.fit(
            query, build.message(query, self.rcode, body=body, counts=self.counts), limit
        )


def parse_answer(packet: bytes, question: bytes) -> Answer:
    """The answer in an upstream's ``packet`` to our ``question``; ``FormatError`` if it does
    not answer it or cannot be read."""
    if len(packet) < HEADER.size:
        raise FormatError("shorter than a header")
    _, flags, qdcount, ancount, nscount, arcount = HEADER.unpack_from(packet)
    end = HEADER.size + len(question)
    if qdcount != 1 or packet[HEADER.size : end].lower() != question.lower():
        raise FormatError("an answer to another question")
    at = end
    offsets: list[int] = []
    ttls: list[int] = []
    kept = [0, 0, 0]
    negative_ttl: int | None = None
    body_end = at
    total = ancount + nscount + arcount
    for index in range(total):
        section = 0 if index < ancount else 1 if index < ancount + nscount else 2
        at = name_end(packet, at)
        if at + RR_FIXED.size > len(packet):
            raise FormatError("record cut short")
        rtype, _, ttl, rdlength = RR_FIXED.unpack_from(packet, at)
        rdata_end = at + RR_FIXED.size + rdlength
        if rdata_end > len(packet):
            raise FormatError("record data cut short")
        if rtype == OPT:
            break  # ours replaces it; records after it (there should be none) go with it
        if rtype == SOA and section == 1 and rdlength >= 20:
            (minimum,) = _TTL.unpack_from(packet, rdata_end - 4)
            negative_ttl = min(ttl, minimum)
        offsets.append(at + 4 - end)
        ttls.append(ttl)
        kept[section] += 1
        at = body_end = rdata_end
    rcode = flags & 0xF
    if rcode == Rcode.NOERROR and kept[0]:
        lifetime = min(ttls[: kept[0]])
    elif rcode in (Rcode.NOERROR, Rcode.NXDOMAIN) and negative_ttl is not None:
        lifetime = negative_ttl
    else:
        lifetime = 0
    return Answer(
        rcode,
        packet[end:body_end],
        (kept[0], kept[1], kept[2]),
        tuple(offsets),
        tuple(ttls),
        lifetime,
        bool(flags & TC),
    )


class AnswerCache:
    """At most ``size`` answers, least recently used first out, each for its lifetime (capped
    at ``max_ttl``); time is monotonic seconds."""

    def __init__(
        self, size: int, *, max_ttl: int = 86_400, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._size = size
        self._max_ttl = max_ttl
        self._clock = clock
        self._items: OrderedDict[Key, tuple[float, Answer]] = OrderedDict()

    def get(self, key: Key) -> tuple[Answer, float] | None:
        """The answer and its age in seconds, if one is in force."""
        hit = self._items.get(key)
        if hit is None:
            return None
        stored, answer = hit
        age = self._clock() - stored
        if age >= min(answer.lifetime, self._max_ttl):
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return answer, age

    def put(self, key: Key, answer: Answer) -> None:
        if answer.lifetime <= 0 or self._size <= 0 or answer.truncated:
            return
        self._items[key] = (self._clock(), answer)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
