"""Zone transfers from the listener, with dnspython's own transfer client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import dns.asyncquery
import dns.message
import dns.rcode
import dns.rdatatype
import dns.xfr
import dns.zone
import pytest

from filters.engine.rules import Rule
from filters.rpz.service import CategoryZones
from filters.rpz.transfer import difference
from filters.rpz.transfer_server import TransferServer, serve_transfers
from parental.runtime import Runtime
from tests.filters.rpz.conftest import ALLOW, EXACT, OPTIONS, SUBTREE, cache_in, first_lists
from tests.filters.rpz.conftest import publish as publish_lists

ORIGIN = "drugs.rpz.child-sim.invalid."


@pytest.fixture
async def zones(runtime: Runtime, tmp_path: Path) -> CategoryZones:
    return CategoryZones(runtime.sessions, cache_in(tmp_path), OPTIONS)


@pytest.fixture
async def server(zones: CategoryZones) -> AsyncIterator[TransferServer]:
    running = await serve_transfers("127.0.0.1", 0, zones, allowed=["127.0.0.1/32"], ixfr_window=2)
    yield running
    await running.close()


def names(zone: dns.zone.Zone) -> dict[str, str]:
    return {
        name.to_text(): rdataset[0].to_text()
        for name, rdataset in zone.iterate_rdatasets(dns.rdatatype.CNAME)
    }


async def pull(server: TransferServer, zone: dns.zone.Zone) -> None:
    query, _ = dns.xfr.make_query(zone)
    await dns.asyncquery.inbound_xfr("127.0.0.1", zone, query, port=server.port, timeout=10)


def drugs(*rules: Rule) -> dict[str, tuple[str, list[Rule]]]:
    lists = first_lists()
    lists["drugs"] = ("drugs", list(rules))
    return lists


async def test_axfr_then_ixfr_between_versions(runtime: Runtime, server: TransferServer) -> None:
    await publish_lists(runtime, first_lists())
    zone = dns.zone.Zone(ORIGIN)
    await pull(server, zone)  # no SOA yet: an AXFR
    assert zone.get_soa().serial == 1
    assert names(zone) == {"weed": ".", "*.weed": "."} or names(zone) == {
        "weed.test": ".",
        "*.weed.test": ".",
    }
    await publish_lists(
        runtime, drugs(Rule("weed.test", EXACT), Rule("pills.test", SUBTREE, ALLOW))
    )
    await pull(server, zone)  # an IXFR from serial 1
    assert zone.get_soa().serial == 2
    assert names(zone) == {
        "pills.test": "rpz-passthru.",
        "*.pills.test": "rpz-passthru.",
        "weed.test": ".",
    }
    await pull(server, zone)  # up to date: nothing changes
    assert zone.get_soa().serial == 2


async def test_a_client_too_far_behind_gets_the_whole_zone(
    runtime: Runtime, server: TransferServer
) -> None:
    await publish_lists(runtime, first_lists())
    old = dns.zone.Zone(ORIGIN)
    await pull(server, old)
    for number in range(3):
        await publish_lists(runtime, drugs(Rule(f"pills{number}.test", EXACT)))
    query, serial = dns.xfr.make_query(old)
    assert (query.question[0].rdtype, serial) == (dns.rdatatype.IXFR, 1)
    # Serial 1 when the zone is at 4 and the window is 2: the answer is the whole zone.
    await dns.asyncquery.inbound_xfr("127.0.0.1", old, query, port=server.port, timeout=10)
    assert old.get_soa().serial == 4
    assert names(old) == {"pills2.test": "."}


async def test_soa_over_udp_and_unknown_zones(runtime: Runtime, server: TransferServer) -> None:
    await publish_lists(runtime, first_lists())
    soa = await dns.asyncquery.udp(
        dns.message.make_query(ORIGIN, dns.rdatatype.SOA), "127.0.0.1", port=server.port, timeout=5
    )
    assert soa.answer[0][0].serial == 1
    for name in ("nosuch.rpz.child-sim.invalid.", "example.com.", "a.drugs.rpz.child-sim.invalid."):
        other = await dns.asyncquery.udp(
            dns.message.make_query(name, dns.rdatatype.SOA),
            "127.0.0.1",
            port=server.port,
            timeout=5,
        )
        assert other.rcode() == dns.rcode.NOTAUTH
    over_udp = await dns.asyncquery.udp(
        dns.message.make_query(ORIGIN, dns.rdatatype.AXFR), "127.0.0.1", port=server.port, timeout=5
    )
    assert over_udp.flags & dns.flags.TC


async def test_clients_outside_the_allow_list_are_refused(
    runtime: Runtime, zones: CategoryZones
) -> None:
    await publish_lists(runtime, first_lists())
    running = await serve_transfers("127.0.0.1", 0, zones, allowed=["192.0.2.0/24"])
    try:
        with pytest.raises(dns.xfr.TransferError, match="REFUSED"):
            await pull(running, dns.zone.Zone(ORIGIN))
        soa = await dns.asyncquery.udp(
            dns.message.make_query(ORIGIN, dns.rdatatype.SOA),
            "127.0.0.1",
            port=running.port,
            timeout=5,
        )
        assert (soa.rcode(), soa.answer) == (dns.rcode.REFUSED, [])
    finally:
        await running.close()


def test_difference_walks_both_versions_once() -> None:
    old = [("a.test", "."), ("*.a.test", "."), ("b.test", "."), ("d.test", ".")]
    new = [("a.test", "rpz-passthru."), ("*.a.test", "."), ("c.test", "."), ("d.test", ".")]
    assert difference(old, new) == (
        [("a.test", "."), ("b.test", ".")],
        [("a.test", "rpz-passthru."), ("c.test", ".")],
    )
