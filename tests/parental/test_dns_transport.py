"""The DNS front end over IPv6, and incremental zone transfers through it.

Both through ``parental.dns.dns_front_end``, as ``parental dns`` runs it: the front end on a
loopback port, the fake upstream for allowed names, dnspython as the phone's or the carrier
resolver's client. Zone transfers are checked message by message (the IXFR difference sequence
of RFC 1995 or the whole zone in AXFR form) and by applying them to a zone, as a secondary
would, and comparing it with a fresh AXFR.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.xfr
import dns.zone
import httpx
import pytest

from filters.dns.server import DnsServer
from filters.engine.rules import Rule
from parental.dns import dns_front_end
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.filters.dns.fake_upstream import FakeUpstream
from tests.filters.rpz.conftest import EXACT, SUBTREE, first_lists
from tests.filters.rpz.conftest import publish as publish_rpz
from tests.parental.factories import FamilyWorld
from tests.parental.test_dns import addresses, ede, publish, upstream

__all__ = ["upstream"]  # the fixture, used by name below
ZONE = "drugs.rpz.test."
IXFR_WINDOW = 2


@pytest.fixture
def parental_settings(upstream: FakeUpstream) -> ParentalSettings:
    return ParentalSettings(
        dns_upstreams=[f"127.0.0.1:{upstream.port}"],
        dns_upstream_timeout_seconds=0.5,
        dns_block_page_ipv4="192.0.2.99",  # type: ignore[arg-type]
        dns_block_page_ipv6="2001:db8::99",  # type: ignore[arg-type]
        rpz_zone_suffix="rpz.test",
        rpz_ixfr_window=IXFR_WINDOW,
    )


def has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


# --- IPv6 ---------------------------------------------------------------------------------


@pytest.fixture
async def server_v6(runtime: Runtime, client: httpx.AsyncClient) -> AsyncIterator[DnsServer]:
    if not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    await publish(runtime)
    async with dns_front_end(runtime, host="::1", port=0) as running:
        yield running


async def ask_v6(
    server: DnsServer, name: str, rtype: str = "A", *, tcp: bool = False
) -> dns.message.Message:
    query = dns.message.make_query(name, rtype, use_edns=0)
    if tcp:
        return await dns.asyncquery.tcp(query, "::1", port=server.port, timeout=3)
    return await dns.asyncquery.udp(query, "::1", port=server.port, timeout=3)


async def test_udp_and_tcp_over_ipv6(server_v6: DnsServer, upstream: FakeUpstream) -> None:
    for tcp in (False, True):
        blocked = await ask_v6(server_v6, "www.weed.test", tcp=tcp)
        assert addresses(blocked) == ["192.0.2.99"]
        assert ede(blocked) == (dns.edns.EDECode.BLOCKED, "category: drugs")
        blocked_v6 = await ask_v6(server_v6, "casino.test", "AAAA", tcp=tcp)
        assert addresses(blocked_v6) == ["2001:db8::99"]
        allowed = await ask_v6(server_v6, "ok.test", tcp=tcp)
        assert addresses(allowed) == ["192.0.2.1"]
    assert upstream.asked("ok.test.") == 1  # the second answer came from the cache
    cut = await dns.asyncquery.udp(
        dns.message.make_query("big.test", "TXT"), "::1", port=server_v6.port, timeout=3
    )
    assert cut.flags & dns.flags.TC
    whole = await ask_v6(server_v6, "big.test", "TXT", tcp=True)
    assert len(addresses(whole)) == 20


async def test_an_ipv6_line_is_known_by_its_address(
    server_v6: DnsServer,
    client: httpx.AsyncClient,
    carrier: dict[str, str],
    family: FamilyWorld,
) -> None:
    entry = {"host": "games.test", "action": "block"}
    added = await client.post(
        f"/v1/children/{family.child_id}/filter-profile/entries",
        headers=family.guardian.headers,
        json=entry,
    )
    assert added.status_code == 201, added.text
    before = await ask_v6(server_v6, "games.test")
    assert not before.options  # nobody's line: the default profile, forwarded
    body = {"msisdn": family.line, "ip": "::1/128", "event": "start", "session_id": "v6"}
    bound = await client.post("/carrier/v1/bindings", headers=carrier, json=body)
    assert bound.status_code == 200, bound.text
    for _ in range(100):  # until the front end has the binding (a notice, or its poll)
        after = await ask_v6(server_v6, "games.test", tcp=True)
        if after.options:
            break
        await asyncio.sleep(0.05)
    assert addresses(after) == ["192.0.2.99"]
    assert ede(after) == (dns.edns.EDECode.FILTERED, "guardian")


# --- IXFR ---------------------------------------------------------------------------------


@pytest.fixture
async def server(runtime: Runtime) -> AsyncIterator[DnsServer]:
    async with dns_front_end(runtime, host="127.0.0.1", port=0) as running:
        yield running


def drugs(*rules: Rule) -> dict[str, tuple[str, list[Rule]]]:
    lists = first_lists()
    lists["drugs"] = ("drugs", list(rules))
    return lists


Record = tuple[str, str, str]


def record(name: dns.name.Name, rdata: dns.rdata.Rdata) -> Record:
    """One record as text; an SOA as its serial."""
    text = str(rdata.serial) if rdata.rdtype == dns.rdatatype.SOA else rdata.to_text()
    return name.to_text(), dns.rdatatype.to_text(rdata.rdtype), text


def records(messages: list[dns.message.Message]) -> list[Record]:
    """Every record of the answers, in order."""
    return [record(rrset.name, rdata) for m in messages for rrset in m.answer for rdata in rrset]


def soa(serial: int) -> Record:
    return (ZONE, "SOA", str(serial))


def cname(owner: str, target: str = ".") -> Record:
    return (f"{owner}.{ZONE}", "CNAME", target)


async def ixfr(server: DnsServer, serial: int) -> list[dns.message.Message]:
    """The raw responses to an IXFR from ``serial`` over TCP (dnspython's transfer client,
    blocking: in a thread, so the front end can answer)."""

    def run() -> list[dns.message.Message]:
        return list(
            dns.query.xfr(
                "127.0.0.1",
                ZONE,
                rdtype=dns.rdatatype.IXFR,
                serial=serial,
                port=server.port,
                timeout=5,
                relativize=False,
            )
        )

    return await asyncio.to_thread(run)


async def pull(server: DnsServer, zone: dns.zone.Zone) -> None:
    """What a secondary does: AXFR into an empty zone, IXFR from the serial it holds."""
    query, _ = dns.xfr.make_query(zone)
    await dns.asyncquery.inbound_xfr("127.0.0.1", zone, query, port=server.port, timeout=5)


async def fresh(server: DnsServer) -> dns.zone.Zone:
    zone = dns.zone.Zone(ZONE, relativize=False)
    await pull(server, zone)
    return zone


def contents(zone: dns.zone.Zone) -> set[Record]:
    return {
        record(name, rdata) for name, rdataset in zone.iterate_rdatasets() for rdata in rdataset
    }


async def test_ixfr_through_the_front_end_is_the_difference(
    server: DnsServer, runtime: Runtime
) -> None:
    v1 = await publish_rpz(runtime, drugs(Rule("weed.test", SUBTREE), Rule("herb.test", EXACT)))
    secondary = await fresh(server)
    assert (v1, secondary.get_soa().serial) == (1, 1)
    v2 = await publish_rpz(runtime, drugs(Rule("weed.test", SUBTREE), Rule("pills.test", EXACT)))
    assert v2 == 2

    answer = records(await ixfr(server, 1))
    # RFC 1995: new SOA, old SOA, what was deleted, new SOA, what was added, new SOA.
    assert answer == [soa(2), soa(1), cname("herb.test"), soa(2), cname("pills.test"), soa(2)]

    await pull(server, secondary)  # an IXFR from serial 1, applied as a secondary would
    assert secondary.get_soa().serial == 2
    assert contents(secondary) == contents(await fresh(server))
    assert ("pills.test." + ZONE, "CNAME", ".") in contents(secondary)
    assert not any(owner.startswith("herb.test.") for owner, _, _ in contents(secondary))

    assert records(await ixfr(server, 2)) == [soa(2)]  # up to date: the SOA alone
    over_udp = await dns.asyncquery.udp(
        dns.xfr.make_query(secondary)[0], "127.0.0.1", port=server.port, timeout=3
    )
    assert over_udp.flags & dns.flags.TC  # transfers are TCP only: retry there


async def test_a_client_too_many_versions_behind_gets_the_whole_zone(
    server: DnsServer, runtime: Runtime
) -> None:
    await publish_rpz(runtime, drugs(Rule("weed.test", SUBTREE)))
    secondary = await fresh(server)
    for number in range(2, 2 + IXFR_WINDOW + 1):
        published = await publish_rpz(runtime, drugs(Rule(f"pills{number}.test", EXACT)))
        assert published == number
    current = 2 + IXFR_WINDOW  # serial 1 is one version more behind than the window allows
    whole = await fresh(server)

    far = records(await ixfr(server, 1))
    assert far[0] == far[-1] == soa(current)
    assert far[1][1] == "NS"  # AXFR form: no old SOA after the first
    assert soa(1) not in far
    assert set(far) == contents(whole)

    near = records(await ixfr(server, current - IXFR_WINDOW))  # at the window's edge: IXFR
    assert near[:2] == [soa(current), soa(current - IXFR_WINDOW)]

    await pull(server, secondary)
    assert secondary.get_soa().serial == current
    assert contents(secondary) == contents(whole)
    assert (f"pills{current}.test.{ZONE}", "CNAME", ".") in contents(secondary)


async def test_transfers_refused_to_other_addresses(server: DnsServer, runtime: Runtime) -> None:
    await publish_rpz(runtime, drugs(Rule("weed.test", SUBTREE)))
    query = dns.message.make_query(ZONE, dns.rdatatype.AXFR)
    response = await dns.asyncquery.tcp(
        query, "127.0.0.1", port=server.port, source="127.0.0.2", timeout=3
    )
    assert response.rcode() == dns.rcode.REFUSED
    assert response.answer == []
