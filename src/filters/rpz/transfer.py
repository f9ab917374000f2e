"""Zone transfers of our RPZ zones: AXFR (RFC 5936) and IXFR (RFC 1995), as DNS messages.

No I/O of its own: given a parsed query and a ``ZoneProvider`` (zone files by name and serial)
it returns the messages to send, in order. ``transfer_server`` is a small TCP/UDP listener
around it; the DNS front end mounts the same function.

IXFR answers with one condensed difference sequence from the client's serial to the current
one (RFC 1995 allows condensing), computed by walking both versions' files at once (they are
sorted the same way, see ``zone``). A client more than ``ixfr_window`` versions behind, or at a
serial that was never published, gets the whole zone in AXFR form, as RFC 1995 section 4
allows; a client at the current serial gets the single SOA that says it is up to date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from filters.rpz.zone import NAMESERVER, ZoneFile, soa_text

# Answer sections are cut at about this many octets: well under the 65,535 a TCP message holds.
MESSAGE_BUDGET = 16_000
_TRANSFERS = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)


class ZoneProvider(Protocol):
    async def zone(self, name: str, serial: int | None = None) -> ZoneFile | None:
        """Zone ``name`` (absolute, lowercase) now, or as it was at ``serial``; None if unknown."""
        ...


def error(query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    return response


def _soa(zone: ZoneFile) -> dns.rrset.RRset:
    return dns.rrset.from_text(
        zone.origin, zone.ttl, "IN", "SOA", soa_text(zone.origin, zone.serial)
    )


def _records(zone: ZoneFile, rows: Iterable[tuple[str, str]]) -> Iterator[dns.rrset.RRset]:
    origin = dns.name.from_text(zone.origin)
    targets: dict[str, dns.rdata.Rdata] = {}
    for owner, target in rows:
        rdata = targets.get(target)
        if rdata is None:
            rdata = targets[target] = dns.rdata.from_text("IN", "CNAME", target)
        yield dns.rrset.from_rdata(dns.name.from_text(owner, origin), zone.ttl, rdata)


def _messages(
    query: dns.message.Message, rrsets: Iterable[dns.rrset.RRset]
) -> Iterator[dns.message.Message]:
    """``rrsets`` packed into as few responses as fit ``MESSAGE_BUDGET`` each."""
    response = _authoritative(query)
    size = 0
    for rrset in rrsets:
        cost = len(rrset.name.to_text()) + 64 * len(rrset) + 12
        if response.answer and size + cost > MESSAGE_BUDGET:
            yield response
            response, size = _authoritative(query), 0
        response.answer.append(rrset)
        size += cost
    yield response


def _authoritative(query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    return response


def soa_answer(query: dns.message.Message, zone: ZoneFile) -> dns.message.Message:
    response = _authoritative(query)
    response.answer.append(_soa(zone))
    return response


def axfr(query: dns.message.Message, zone: ZoneFile) -> Iterator[dns.message.Message]:
    """The whole zone: SOA, every record, SOA again."""
    soa = _soa(zone)
    ns = dns.rrset.from_text(zone.origin, zone.ttl, "IN", "NS", NAMESERVER)

    def rrsets() -> Iterator[dns.rrset.RRset]:
        yield soa
        yield ns
        yield from _records(zone, zone.records())
        yield soa

    return _messages(query, rrsets())


def _order(owner: str) -> tuple[str, int]:
    """Where an owner stands in a zone file: by name, the name before its wildcard."""
    return (owner[2:], 1) if owner.startswith("*.") else (owner, 0)


def difference(
    old: Iterable[tuple[str, str]], new: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The records only ``old`` has (deleted) and only ``new`` has (added), both sorted."""
    deleted: list[tuple[str, str]] = []
    added: list[tuple[str, str]] = []
    olds, news = iter(old), iter(new)
    a, b = next(olds, None), next(news, None)
    while a is not None or b is not None:
        if b is None or (a is not None and _order(a[0]) < _order(b[0])):
            assert a is not None
            deleted.append(a)
            a = next(olds, None)
        elif a is None or _order(b[0]) < _order(a[0]):
            added.append(b)
            b = next(news, None)
        else:
            if a[1] != b[1]:
                deleted.append(a)
                added.append(b)
            a, b = next(olds, None), next(news, None)
    return deleted, added


def ixfr(query: dns.message.Message, old: ZoneFile, new: ZoneFile) -> Iterator[dns.message.Message]:
    """One difference sequence from ``old`` to ``new``: SOA new, SOA old, deletions, SOA new,
    additions, SOA new."""
    deleted, added = difference(old.records(), new.records())
    soa_new = _soa(new)

    def rrsets() -> Iterator[dns.rrset.RRset]:
        yield soa_new
        yield _soa(old)
        yield from _records(new, deleted)
        yield soa_new
        yield from _records(new, added)
        yield soa_new

    return _messages(query, rrsets())


def client_serial(query: dns.message.Message) -> int | None:
    """The serial an IXFR query says the client has (its authority section's SOA)."""
    for rrset in query.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return int(rrset[0].serial)
    return None


async def answer(
    query: dns.message.Message, provider: ZoneProvider, *, ixfr_window: int = 10
) -> Iterator[dns.message.Message]:
    """The responses to ``query``: a zone transfer, the SOA of one of our zones, or an error."""
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        return iter([error(query, dns.rcode.NOTIMP if query.opcode() else dns.rcode.FORMERR)])
    question = query.question[0]
    if question.rdclass != dns.rdataclass.IN or question.rdtype not in (
        *_TRANSFERS,
        dns.rdatatype.SOA,
    ):
        return iter([error(query, dns.rcode.REFUSED)])
    zone = await provider.zone(question.name.to_text().lower())
    if zone is None:
        return iter([error(query, dns.rcode.NOTAUTH)])
    if question.rdtype == dns.rdatatype.SOA:
        return iter([soa_answer(query, zone)])
    if question.rdtype == dns.rdatatype.AXFR:
        return axfr(query, zone)
    serial = client_serial(query)
    if serial is None:
        return iter([error(query, dns.rcode.FORMERR)])
    if serial >= zone.serial:
        return iter([soa_answer(query, zone)])
    old = None
    if zone.serial - serial <= ixfr_window:
        old = await provider.zone(zone.origin, serial)
    if old is None:
        return axfr(query, zone)
    return ixfr(query, old, zone)
