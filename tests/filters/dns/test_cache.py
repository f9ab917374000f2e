"""Upstream answers kept by TTL in a bounded LRU, served with their TTLs aged."""

from __future__ import annotations

import dns.message
import dns.rcode
import dns.rrset
import pytest

from filters.dns.cache import AnswerCache, parse_answer
from filters.dns.upstream import parse_address
from filters.dns.wire import FormatError, parse_query
from tests.filters.dns.fake_upstream import SOA


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def upstream_answer(name: str, rcode: int = 0, ttl: int = 300, *, soa: bool = False) -> bytes:
    query = dns.message.make_query(name, "A", use_edns=0)
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.Rcode(rcode))
    if rcode == 0 and not soa:
        response.answer.append(dns.rrset.from_text(name, ttl, "IN", "A", "192.0.2.1", "192.0.2.2"))
        response.additional.append(
            dns.rrset.from_text("ns.test.", ttl * 2, "IN", "A", "192.0.2.53")
        )
    if soa:
        response.authority.append(dns.rrset.from_text("test.", 900, "IN", "SOA", SOA))
    return response.to_wire()


def question(name: str) -> bytes:
    return parse_query(dns.message.make_query(name, "A").to_wire(), 65001).question


def test_answers_are_served_with_aged_ttls_until_they_expire() -> None:
    clock = Clock()
    cache = AnswerCache(10, clock=clock)
    answer = parse_answer(upstream_answer("a.test."), question("a.test."))
    assert (answer.lifetime, answer.counts) == (300, (2, 0, 1))  # the upstream's OPT dropped
    key = (b"\x01a\x04test\x00", 1, 1, False)
    cache.put(key, answer)
    clock.now += 100.5
    hit = cache.get(key)
    assert hit is not None
    client = dns.message.make_query("A.TEST.", "A")
    served = dns.message.from_wire(hit[0].render(parse_query(client.to_wire(), 65001), hit[1]))
    assert served.id == client.id
    assert served.question[0].name.to_text() == "A.TEST."
    assert (served.answer[0].ttl, served.additional[0].ttl) == (200, 500)
    assert served.edns == -1
    clock.now += 200
    assert cache.get(key) is None
    assert len(cache) == 0


def test_negative_answers_live_for_the_soa_minimum_and_failures_not_at_all() -> None:
    nx = parse_answer(
        upstream_answer("nx.test.", dns.rcode.NXDOMAIN, soa=True), question("nx.test.")
    )
    nodata = parse_answer(upstream_answer("nd.test.", soa=True), question("nd.test."))
    assert (nx.lifetime, nodata.lifetime) == (60, 60)
    failed = parse_answer(upstream_answer("f.test.", dns.rcode.SERVFAIL), question("f.test."))
    assert failed.lifetime == 0
    cache = AnswerCache(10)
    cache.put((b"f", 1, 1, False), failed)
    assert len(cache) == 0


def test_the_least_recently_used_goes_first_and_ttls_are_capped() -> None:
    clock = Clock()
    cache = AnswerCache(2, max_ttl=50, clock=clock)
    answer = parse_answer(upstream_answer("a.test."), question("a.test."))
    for key in (b"a", b"b"):
        cache.put((key, 1, 1, False), answer)
    assert cache.get((b"a", 1, 1, False)) is not None
    cache.put((b"c", 1, 1, False), answer)
    assert cache.get((b"b", 1, 1, False)) is None
    assert cache.get((b"a", 1, 1, False)) is not None
    clock.now += 51
    assert cache.get((b"a", 1, 1, False)) is None


def test_an_answer_to_another_question_is_refused() -> None:
    with pytest.raises(FormatError, match="another question"):
        parse_answer(upstream_answer("a.test."), question("b.test."))
    with pytest.raises(FormatError):
        parse_answer(upstream_answer("a.test.")[:-5], question("a.test."))


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("10.0.0.53", ("10.0.0.53", 53)),
        ("10.0.0.53:5353", ("10.0.0.53", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
        ("[2001:db8::53]:54", ("2001:db8::53", 54)),
        ("resolver.internal", ("resolver.internal", 53)),
    ],
)
def test_upstream_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["", ":53", "[::1", "[::1]x", "host:0", "host:x"])
def test_bad_upstream_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="not an address"):
        parse_address(text)
