"""Reading queries and building answers in the wire format, checked against dnspython."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from filters.dns import build
from filters.dns.build import BlockAnswer, Ede, EdeCode, Rcode
from filters.dns.wire import FormatError, name_wire, parse_query, read_header
from tests.filters.dns.conftest import BLOCK_V4, BLOCK_V6, OPTION_CODE

LINE = dns.edns.GenericOption(OPTION_CODE, b"+77071234567")
ECS = dns.edns.ECSOption("10.1.2.3", 32)


def wire(name: str = "WWW.Example.test.", rtype: str = "A", **edns: object) -> bytes:
    query = dns.message.make_query(name, rtype, **edns)  # type: ignore[arg-type]
    return query.to_wire()


def test_a_plain_query() -> None:
    query = parse_query(wire(), OPTION_CODE)
    assert (query.name, query.qtype, query.qclass, query.edns) == ("www.example.test", 1, 1, None)
    assert query.key == (name_wire("www.example.test"), 1, 1)
    assert query.limit == 512
    assert query.opcode == 0


def test_edns_size_and_the_options_that_name_a_line() -> None:
    raw = wire(use_edns=0, payload=1400, want_dnssec=True, options=[LINE, ECS])
    query = parse_query(raw, OPTION_CODE)
    assert query.edns is not None
    assert (query.edns.udp_size, query.edns.do, query.limit) == (1400, True, 1400)
    assert query.edns.line_option == b"+77071234567"
    assert query.edns.client_subnet == bytes([0, 1, 32, 0, 10, 1, 2, 3])
    small = parse_query(wire(use_edns=0, payload=100), OPTION_CODE)
    assert small.limit == 512  # RFC 6891: below 512 counts as 512


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"\x00" * 11, "shorter than a header"),
        (wire()[:-1], "question cut short"),
        (wire() + b"\x00", "trailing bytes"),
        (wire()[:2] + b"\x80\x00" + wire()[4:], "a response"),
        (wire()[:4] + b"\x00\x02" + wire()[6:], "not exactly one question"),
        (wire()[:12] + b"\xc0\x0c" + wire()[-4:], "compressed"),
        (wire()[:12] + b"\x50" + wire()[13:], "unknown label type"),
        (wire(use_edns=0)[:-2] + b"\x00\x04", "cut short"),
    ],
)
def test_what_cannot_be_read_is_refused(packet: bytes, reason: str) -> None:
    with pytest.raises(FormatError, match=reason):
        parse_query(packet, OPTION_CODE)


def test_a_name_longer_than_255_octets_is_refused() -> None:
    labels = b"".join(b"\x3f" + b"a" * 63 for _ in range(4))
    packet = wire()[:12] + labels + b"\x00" + wire()[-4:]
    with pytest.raises(FormatError, match="too long"):
        parse_query(packet, OPTION_CODE)


def test_the_block_answer_with_its_extended_error() -> None:
    how = BlockAnswer(False, BLOCK_V4, BLOCK_V6, 60)
    reason = Ede(EdeCode.BLOCKED, "category: drugs")
    for rtype, expected in (("A", "192.0.2.99"), ("AAAA", "::63"), ("MX", None)):
        query = parse_query(wire(rtype=rtype, use_edns=0), OPTION_CODE)
        answer = dns.message.from_wire(build.blocked(query, how, reason))
        assert answer.rcode() == dns.rcode.NOERROR
        assert answer.question[0].name.to_text() == "WWW.Example.test."  # its case kept
        if expected is None:
            assert answer.answer == []  # NODATA
        else:
            (rrset,) = answer.answer
            assert (rrset[0].to_text(), rrset.ttl) == (expected, 60)
        (option,) = answer.options
        assert isinstance(option, dns.edns.EDEOption)
        assert (option.code, option.text) == (dns.edns.EDECode.BLOCKED, "category: drugs")
    nx = parse_query(wire(use_edns=0), OPTION_CODE)
    answer = dns.message.from_wire(build.blocked(nx, BlockAnswer(True, None, None, 60), reason))
    assert answer.rcode() == dns.rcode.NXDOMAIN


def test_no_opt_record_for_a_client_that_sent_none() -> None:
    query = parse_query(wire(), OPTION_CODE)
    answer = dns.message.from_wire(build.error(query, Rcode.REFUSED, Ede(EdeCode.FILTERED, "x")))
    assert (answer.rcode(), answer.edns, answer.id) == (dns.rcode.REFUSED, -1, query.id)


def test_badvers_travels_in_the_opt_record() -> None:
    query = parse_query(wire(use_edns=0), OPTION_CODE)
    answer = dns.message.from_wire(build.error(query, Rcode.BADVERS))
    assert answer.rcode() == dns.rcode.BADVERS


def test_truncation_and_the_header_only_formerr() -> None:
    query = parse_query(wire(use_edns=0), OPTION_CODE)
    assert build.fit(query, b"x" * 600, None) == b"x" * 600
    cut = dns.message.from_wire(build.fit(query, b"x" * 1300, 1232))
    assert cut.flags & dns.flags.TC
    assert cut.answer == []
    header = read_header(wire())
    assert header is not None
    formerr = dns.message.from_wire(build.header_only(header[0], header[1], Rcode.FORMERR))
    assert (formerr.rcode(), formerr.id, formerr.question) == (dns.rcode.FORMERR, header[0], [])


VALID = [
    wire(),
    wire("a.b.c.test.", "AAAA", use_edns=0, options=[LINE, ECS]),
    wire("x.test.", "HTTPS", use_edns=0, want_dnssec=True),
]


@given(st.binary(max_size=600))
def test_random_bytes_are_read_or_refused(packet: bytes) -> None:
    try:
        query = parse_query(packet, OPTION_CODE)
    except FormatError:
        return
    assert len(query.qname) <= 255


@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6),
    st.integers(0, 200),
)
def test_mutated_queries_are_read_or_refused(
    base: bytes, changes: list[tuple[int, int]], cut: int
) -> None:
    packet = bytearray(base)
    for at, value in changes:
        if at < len(packet):
            packet[at] = value
    packet = packet[: len(packet) - cut % 8] if cut % 3 == 0 else packet
    try:
        query = parse_query(bytes(packet), OPTION_CODE)
    except FormatError:
        return
    # The question we read is the one dnspython reads (its options are the identity's to check).
    name, used = dns.name.from_wire(bytes(packet), 12)
    assert name.to_wire() == query.qname
    assert int.from_bytes(packet[12 + used : 14 + used], "big") == query.qtype
