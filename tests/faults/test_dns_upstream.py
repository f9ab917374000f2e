"""The upstream resolver down, then back: the DNS front end answers SERVFAIL at once (not
after its timeout), blocked names and cached answers still come from the snapshot and the
cache, and once the upstream is back on its address the next question is answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import dns.edns
import dns.message
import dns.rcode
import httpx
import pytest

from filters.dns.server import DnsServer
from parental.dns import dns_front_end
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.filters.dns.fake_upstream import RECORDS, FakeUpstream
from tests.parental.factories import publish_lists
from tests.parental.test_dns import addresses, ede, udp

pytestmark = pytest.mark.faults

UPSTREAM_TIMEOUT = 2.0  # the resolver's default: SERVFAIL must come well before it
FAST = 1.0  # seconds a SERVFAIL may take with the upstream down
LISTS = {"drugs": ["||weed.test^"]}


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    fake = await FakeUpstream(dict(RECORDS)).start()
    yield fake
    await fake.close()


@pytest.fixture
def parental_settings(upstream: FakeUpstream) -> ParentalSettings:
    return ParentalSettings(
        dns_upstreams=[f"127.0.0.1:{upstream.port}"],
        dns_upstream_timeout_seconds=UPSTREAM_TIMEOUT,
        dns_block_page_ipv4="192.0.2.99",  # type: ignore[arg-type]
    )


@pytest.fixture
async def server(runtime: Runtime, client: httpx.AsyncClient) -> AsyncIterator[DnsServer]:
    await publish_lists(runtime, LISTS)
    async with dns_front_end(runtime, host="127.0.0.1", port=0) as running:
        yield running


async def timed(server: DnsServer, name: str) -> tuple[dns.message.Message, float]:
    started = time.monotonic()
    answer = await udp(server, name, use_edns=0)
    return answer, time.monotonic() - started


async def test_upstream_down_then_back(server: DnsServer, upstream: FakeUpstream) -> None:
    assert addresses(await udp(server, "ok.test")) == ["192.0.2.1"]  # now in the cache
    port = upstream.port

    await upstream.close()  # the port refuses: nothing listens on it

    for _ in range(3):
        failed, took = await timed(server, "other.test")
        assert failed.rcode() == dns.rcode.SERVFAIL
        assert ede(failed)[0] == dns.edns.EDECode.NO_REACHABLE_AUTHORITY
        assert took < FAST, f"SERVFAIL took {took:.2f} s"
    assert server.front.upstream.stats.failures == 3
    # What needs no upstream is answered as before: blocks from the snapshot, and what the
    # cache holds.
    blocked, took = await timed(server, "weed.test")
    assert addresses(blocked) == ["192.0.2.99"]
    assert ede(blocked) == (dns.edns.EDECode.BLOCKED, "category: drugs")
    assert took < FAST
    assert addresses(await udp(server, "ok.test")) == ["192.0.2.1"]

    await upstream.start(port)

    # No restart of the front end: the next question goes upstream again (a failure is not
    # cached) and is answered.
    answer, took = await timed(server, "other.test")
    assert answer.rcode() == dns.rcode.NOERROR
    assert addresses(answer) == ["192.0.2.2"]
    assert took < FAST
    assert upstream.asked("other.test.") == 1


SHORT_TIMEOUT = 0.3


async def test_an_upstream_that_stops_answering_is_skipped_then_tried_again(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    """Cut off without a refusal (packets dropped): after a few timeouts the front end stops
    waiting for it, and takes it back once it answers again."""
    forward = server.front.upstream
    forward.timeout = SHORT_TIMEOUT  # three timeouts in a short test
    forward.cooldown = 1.0
    upstream.silent = True
    for n in range(forward.skip_after):
        failed, took = await timed(server, f"slow{n}.test")
        assert failed.rcode() == dns.rcode.SERVFAIL
        assert took >= SHORT_TIMEOUT * 0.9  # each waited for the upstream
    skipped, took = await timed(server, "other.test")
    assert skipped.rcode() == dns.rcode.SERVFAIL
    assert took < SHORT_TIMEOUT / 2  # no longer waited for
    assert upstream.asked("other.test.") == 0
    assert addresses(await udp(server, "weed.test")) == ["192.0.2.99"]  # blocked, as ever

    upstream.silent = False
    await asyncio.sleep(forward.cooldown)
    answer, _ = await timed(server, "other.test")
    assert addresses(answer) == ["192.0.2.2"]
    assert forward.stats.failures == forward.skip_after + 1
