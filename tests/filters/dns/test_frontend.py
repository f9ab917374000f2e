"""What the front end answers, query by query, against a compiled snapshot and a fake upstream."""

from __future__ import annotations

import asyncio
import time

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.dns.frontend import FrontEnd
from tests.filters.dns.conftest import OPTION_CODE, REFUSED_SOURCE, FrontFactory
from tests.filters.dns.fake_upstream import FakeUpstream


async def ask(
    front: FrontEnd,
    name: str,
    rtype: str = "A",
    *,
    peer: str = "127.0.0.1",
    udp: bool = True,
    **edns: object,
) -> dns.message.Message:
    query = dns.message.make_query(name, rtype, **edns)  # type: ignore[arg-type]
    (answer,) = await front.handle(query.to_wire(), peer, limit_udp=udp)
    response = dns.message.from_wire(answer)
    assert response.id == query.id
    return response


def ede(response: dns.message.Message) -> tuple[int, str | None]:
    (option,) = response.options
    assert isinstance(option, dns.edns.EDEOption)
    return option.code, option.text


def addresses(response: dns.message.Message) -> list[str]:
    return [rdata.to_text() for rrset in response.answer for rdata in rrset]


async def test_blocked_names_get_the_block_page_and_a_reason(make_front: FrontFactory) -> None:
    front = make_front()
    a = await ask(front, "www.weed.test", use_edns=0)
    assert (a.rcode(), addresses(a)) == (dns.rcode.NOERROR, ["192.0.2.99"])
    assert ede(a) == (dns.edns.EDECode.BLOCKED, "category: drugs")
    aaaa = await ask(front, "casino.test", "AAAA", use_edns=0)
    assert addresses(aaaa) == ["::63"]
    assert ede(aaaa) == (dns.edns.EDECode.BLOCKED, "category: gambling")
    mx = await ask(front, "casino.test", "MX")
    assert (mx.rcode(), mx.answer, mx.edns) == (dns.rcode.NOERROR, [], -1)
    nx = await ask(make_front(nxdomain=True), "weed.test", use_edns=0)
    assert (nx.rcode(), ede(nx)[0]) == (dns.rcode.NXDOMAIN, dns.edns.EDECode.BLOCKED)


async def test_allowed_names_are_forwarded_once_and_then_cached(
    make_front: FrontFactory, upstream: FakeUpstream
) -> None:
    front = make_front()
    for _ in range(3):
        answer = await ask(front, "OK.test", use_edns=0)
        assert (answer.rcode(), addresses(answer)) == (dns.rcode.NOERROR, ["192.0.2.1"])
        assert answer.question[0].name.to_text() == "OK.test."
    missing = await ask(front, "nowhere.test")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    await ask(front, "nowhere.test")
    assert (upstream.asked("ok.test."), upstream.asked("nowhere.test.")) == (1, 1)
    assert front.upstream.stats.cache_hits == 3


async def test_concurrent_identical_questions_are_coalesced(
    make_front: FrontFactory, upstream: FakeUpstream
) -> None:
    upstream.delay = 0.2
    front = make_front(cache_size=0)  # nothing cached: only coalescing saves the questions
    answers = await asyncio.gather(*(ask(front, "other.test") for _ in range(10)))
    assert {tuple(addresses(a)) for a in answers} == {("192.0.2.2",)}
    assert upstream.asked("other.test.") == 1
    assert front.upstream.stats.coalesced == 9


async def test_a_silent_upstream_gives_servfail_within_the_timeout(
    make_front: FrontFactory, upstream: FakeUpstream
) -> None:
    upstream.silent = True
    front = make_front(timeout=0.3)
    started = time.monotonic()
    answer = await ask(front, "ok.test", use_edns=0)
    assert time.monotonic() - started < 1.5
    assert answer.rcode() == dns.rcode.SERVFAIL
    assert ede(answer)[0] == dns.edns.EDECode.NO_REACHABLE_AUTHORITY
    assert front.upstream.stats.failures == 1


async def test_large_answers_are_truncated_over_udp_and_retried_upstream_over_tcp(
    make_front: FrontFactory, upstream: FakeUpstream
) -> None:
    front = make_front()
    full = await ask(front, "big.test", "TXT", use_edns=0, payload=4096)
    assert len(addresses(full)) == 20
    assert (
        upstream.asked("big.test.", "TXT", "udp"),
        upstream.asked("big.test.", "TXT", "tcp"),
    ) == (
        1,
        1,
    )
    assert front.upstream.stats.tcp_retries == 1
    small = await ask(front, "big.test", "TXT")  # no EDNS: 512 bytes at most
    assert small.flags & dns.flags.TC
    assert small.answer == []
    over_tcp = await ask(front, "big.test", "TXT", udp=False)
    assert len(addresses(over_tcp)) == 20


async def test_unknown_sources_are_refused_and_bad_line_options_are_formerr(
    make_front: FrontFactory,
) -> None:
    front = make_front()
    refused = await ask(front, "ok.test", peer=REFUSED_SOURCE)
    assert refused.rcode() == dns.rcode.REFUSED
    bad = dns.edns.GenericOption(OPTION_CODE, b"garbage")
    formerr = await ask(front, "ok.test", use_edns=0, options=[bad])
    assert formerr.rcode() == dns.rcode.FORMERR
    chaos = dns.message.make_query("version.bind", "TXT", "CH")
    (answer,) = await front.handle(chaos.to_wire(), "127.0.0.1", limit_udp=True)
    assert dns.message.from_wire(answer).rcode() == dns.rcode.REFUSED
    notify = dns.message.make_query("ok.test", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    (answer,) = await front.handle(notify.to_wire(), "127.0.0.1", limit_udp=True)
    assert dns.message.from_wire(answer).rcode() == dns.rcode.NOTIMP
    transfer = await ask(front, "drugs.rpz.test", "AXFR", udp=False)
    assert transfer.rcode() == dns.rcode.REFUSED  # this front end mounts no transfers


async def test_safesearch_names_become_a_cname_and_the_targets_records(
    make_front: FrontFactory, upstream: FakeUpstream
) -> None:
    front = make_front()
    answer = await ask(front, "www.google.com", use_edns=0)
    assert answer.flags & dns.flags.RA
    cname, a = answer.answer
    assert (cname.rdtype, cname[0].target.to_text()) == (
        dns.rdatatype.CNAME,
        "forcesafesearch.google.com.",
    )
    assert (a.name.to_text(), a[0].to_text()) == ("forcesafesearch.google.com.", "216.239.38.120")
    assert upstream.asked("www.google.com.") == 0
    only_cname = await ask(front, "m.youtube.com", "CNAME")
    assert [r.to_text() for r in only_cname.answer[0]] == ["restrict.youtube.com."]
    blocked = await ask(front, "search.test")  # engines without SafeSearch: filter_bypass
    assert addresses(blocked) == ["192.0.2.99"]


async def test_packets_that_are_not_queries(make_front: FrontFactory) -> None:
    front = make_front()
    assert await front.handle(b"\x01", "127.0.0.1", limit_udp=True) == []
    response = dns.message.make_response(dns.message.make_query("ok.test", "A"))
    assert await front.handle(response.to_wire(), "127.0.0.1", limit_udp=True) == []
    (formerr,) = await front.handle(b"\x12\x34\x01\x00" + b"\x00" * 8, "127.0.0.1", limit_udp=True)
    assert dns.message.from_wire(formerr).rcode() == dns.rcode.FORMERR


VALID = [
    dns.message.make_query("ok.test", "A").to_wire(),
    dns.message.make_query("weed.test", "AAAA", use_edns=0, payload=1232).to_wire(),
    dns.message.make_query(
        "www.google.com", "A", use_edns=0, options=[dns.edns.ECSOption("10.0.0.1", 32)]
    ).to_wire(),
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.tuples(
            st.sampled_from(VALID),
            st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)), max_size=5),
        ).map(lambda t: bytes(_mutate(*t))),
    ),
    st.booleans(),
)
async def test_any_packet_gets_an_answer_or_silence_never_an_exception(
    make_front: FrontFactory, packet: bytes, udp: bool
) -> None:
    front = make_front(timeout=0.05)
    try:
        answers = await front.handle(packet, "127.0.0.1", limit_udp=udp)
    finally:
        front.upstream.close()  # hypothesis runs many examples in one fixture's lifetime
    for answer in answers:
        response = dns.message.from_wire(answer)
        assert response.flags & dns.flags.QR
        if udp:
            assert len(answer) <= 65_535


def _mutate(base: bytes, changes: list[tuple[int, int]]) -> bytearray:
    packet = bytearray(base)
    for at, value in changes:
        if at < len(packet):
            packet[at] = value
    return packet
