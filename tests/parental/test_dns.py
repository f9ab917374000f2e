"""``parental dns`` end to end: the front end on a loopback port, a fake upstream on another,
dnspython as the phone's (or the carrier resolver's) client, lines bound through the API."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import httpx
import pytest

from filters.dns.server import DnsServer
from parental.dns import dns_front_end
from parental.filter_activity import flush_activity
from parental.runtime import Runtime
from parental.settings import BlockMode, ParentalSettings
from tests.filters.dns.fake_upstream import RECORDS, FakeUpstream
from tests.filters.rpz.conftest import first_lists
from tests.filters.rpz.conftest import publish as publish_rpz
from tests.parental.factories import FamilyWorld, publish_lists
from tests.parental.test_cli import cli_env

__all__ = ["cli_env"]  # the fixture, used by name below
CHILD_ADDRESS = "127.0.0.2"
LISTS = {"drugs": ["||weed.test^"], "gambling": ["||casino.test^"]}


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    fake = await FakeUpstream(dict(RECORDS)).start()
    yield fake
    await fake.close()


@pytest.fixture
def parental_settings(upstream: FakeUpstream) -> ParentalSettings:
    return ParentalSettings(
        dns_upstreams=[f"127.0.0.1:{upstream.port}"],
        dns_upstream_timeout_seconds=0.5,
        dns_block_page_ipv4="192.0.2.99",  # type: ignore[arg-type]
        dns_block_page_ipv6="2001:db8::99",  # type: ignore[arg-type]
        rpz_zone_suffix="rpz.test",
    )


async def publish(runtime: Runtime) -> None:
    await publish_lists(runtime, LISTS)


@pytest.fixture
async def server(runtime: Runtime, client: httpx.AsyncClient) -> AsyncIterator[DnsServer]:
    await publish(runtime)
    async with dns_front_end(runtime, host="127.0.0.1", port=0) as running:
        yield running


async def udp(
    server: DnsServer, name: str, rtype: str = "A", *, source: str = "127.0.0.1", **edns: object
) -> dns.message.Message:
    query = dns.message.make_query(name, rtype, **edns)  # type: ignore[arg-type]
    return await dns.asyncquery.udp(
        query, "127.0.0.1", port=server.port, source=source, timeout=3, ignore_trailing=True
    )


def addresses(response: dns.message.Message) -> list[str]:
    return [rdata.to_text() for rrset in response.answer for rdata in rrset]


def ede(response: dns.message.Message) -> tuple[int, str | None]:
    (option,) = response.options
    assert isinstance(option, dns.edns.EDEOption)
    return option.code, option.text


async def bind(client: httpx.AsyncClient, carrier: dict[str, str], world: FamilyWorld) -> None:
    body = {"msisdn": world.line, "ip": CHILD_ADDRESS, "event": "start", "session_id": "s1"}
    response = await client.post("/carrier/v1/bindings", headers=carrier, json=body)
    assert response.status_code == 200, response.text


async def test_blocked_names_and_allowed_names_cached(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    blocked = await udp(server, "www.weed.test", use_edns=0)
    assert addresses(blocked) == ["192.0.2.99"]
    assert ede(blocked) == (dns.edns.EDECode.BLOCKED, "category: drugs")
    v6 = await udp(server, "casino.test", "AAAA", use_edns=0)
    assert addresses(v6) == ["2001:db8::99"]
    for _ in range(2):
        allowed = await udp(server, "ok.test")
        assert addresses(allowed) == ["192.0.2.1"]
    assert upstream.asked("ok.test.") == 1
    assert upstream.asked("www.weed.test.") == 0


@pytest.mark.parametrize(
    "parental_settings",
    [ParentalSettings(dns_block_mode=BlockMode.NXDOMAIN, dns_upstreams=["127.0.0.1:9"])],
)
async def test_nxdomain_mode(server: DnsServer) -> None:
    blocked = await udp(server, "weed.test", use_edns=0)
    assert blocked.rcode() == dns.rcode.NXDOMAIN
    assert ede(blocked)[0] == dns.edns.EDECode.BLOCKED


async def test_truncation_then_tcp_with_several_queries_per_connection(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    cut = await udp(server, "big.test", "TXT")
    assert cut.flags & dns.flags.TC
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        for name, rtype, count in (("big.test", "TXT", 20), ("ok.test", "A", 1)):
            query = dns.message.make_query(name, rtype).to_wire()
            writer.write(len(query).to_bytes(2, "big") + query)
            length = int.from_bytes(await reader.readexactly(2), "big")
            response = dns.message.from_wire(await reader.readexactly(length))
            assert len(addresses(response)) == count
    finally:
        writer.close()
        await writer.wait_closed()
    assert upstream.asked("big.test.", "TXT", "tcp") == 1  # the upstream truncated too


async def test_upstream_down_is_servfail_quickly(server: DnsServer, upstream: FakeUpstream) -> None:
    upstream.silent = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await udp(server, "other.test")
    assert answer.rcode() == dns.rcode.SERVFAIL
    assert loop.time() - started < 2
    assert server.front.upstream.stats.failures == 1


async def test_a_bound_line_gets_its_childs_profile_and_counts(
    server: DnsServer,
    client: httpx.AsyncClient,
    runtime: Runtime,
    carrier: dict[str, str],
    family: FamilyWorld,
) -> None:
    headers = family.guardian.headers
    profile = f"/v1/children/{family.child_id}/filter-profile"
    added = await client.post(
        f"{profile}/entries", headers=headers, json={"host": "games.test", "action": "block"}
    )
    assert added.status_code == 201, added.text
    off = await client.patch(profile, headers=headers, json={"safesearch": False})
    assert off.status_code == 200, off.text
    await bind(client, carrier, family)

    mine = await bound(server, "games.test")
    assert addresses(mine) == ["192.0.2.99"]
    assert ede(mine) == (dns.edns.EDECode.FILTERED, "guardian")
    stranger = await udp(server, "games.test", use_edns=0)  # the default profile
    assert stranger.rcode() == dns.rcode.NXDOMAIN  # forwarded: the upstream knows no games.test
    # SafeSearch: on in the default profile, off in this child's.
    default = await udp(server, "www.google.com")
    assert default.answer[0].rdtype == dns.rdatatype.CNAME
    assert addresses(default) == ["forcesafesearch.google.com.", "216.239.38.120"]
    plain = await udp(server, "www.google.com", source=CHILD_ADDRESS)
    assert addresses(plain) == ["142.250.1.1"]
    await udp(server, "weed.test", source=CHILD_ADDRESS)

    await flush_activity(runtime)
    report = await client.get(f"/v1/children/{family.child_id}/filter-activity", headers=headers)
    today = report.json()["days"][-1]
    assert (today["lookups"], today["blocked"]) == (3, 2)
    blocked = {b["host"]: b["category"] for b in report.json()["recent_blocks"]}
    assert blocked == {"games.test": "guardian", "weed.test": "drugs"}


async def bound(server: DnsServer, name: str) -> dns.message.Message:
    """The answer to the child's line once the front end has the binding (a notice, or its
    poll every ``line_binding_poll_seconds``), or the last one after a few seconds."""
    for _ in range(100):
        answer = await udp(server, name, source=CHILD_ADDRESS, use_edns=0)
        if answer.options:
            break
        await asyncio.sleep(0.05)
    return answer


async def test_the_edns_line_option_names_the_line(
    server: DnsServer, client: httpx.AsyncClient, family: FamilyWorld, runtime: Runtime
) -> None:
    await client.post(
        f"/v1/children/{family.child_id}/filter-profile/entries",
        headers=family.guardian.headers,
        json={"host": "games.test", "action": "block"},
    )
    code = runtime.settings.line_edns_option_code
    line = dns.edns.GenericOption(code, family.line.encode())
    named = await udp(server, "games.test", use_edns=0, options=[line])
    assert addresses(named) == ["192.0.2.99"]
    garbage = dns.edns.GenericOption(code, b"nonsense")
    bad = await udp(server, "games.test", use_edns=0, options=[garbage])
    assert bad.rcode() == dns.rcode.FORMERR


async def test_zone_transfers_through_the_front_end(server: DnsServer, runtime: Runtime) -> None:
    await publish_rpz(runtime, first_lists())
    zone = dns.zone.Zone("gambling.rpz.test.")
    await asyncio.to_thread(dns.query.inbound_xfr, "127.0.0.1", zone, port=server.port, timeout=5)
    assert zone.get_soa().serial == 2  # our publish made 1, the RPZ lists 2
    assert zone.get_node("casino.test") is not None
    soa = await udp(server, "gambling.rpz.test", "SOA")
    assert soa.answer[0][0].serial == 2
    refused = await udp(server, "gambling.rpz.test", "SOA", source=CHILD_ADDRESS)
    assert refused.rcode() == dns.rcode.REFUSED  # not in rpz_transfer_clients


async def test_malformed_packets_never_stop_the_server(server: DnsServer) -> None:
    def send_junk() -> bytes:  # a blocking socket: in a thread, so the server can answer
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            for junk in (b"", b"\x01", b"\xff" * 40):
                sock.sendto(junk, ("127.0.0.1", server.port))
            sock.sendto(b"\x12\x34\x01\x00" + b"\x00" * 8, ("127.0.0.1", server.port))
            return sock.recv(512)

    formerr = dns.message.from_wire(await asyncio.to_thread(send_junk))
    assert (formerr.id, formerr.rcode()) == (0x1234, dns.rcode.FORMERR)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"\x00\x03abc")
    assert await reader.read() == b""  # no header to answer: the connection is closed
    writer.close()
    await writer.wait_closed()
    assert addresses(await udp(server, "ok.test")) == ["192.0.2.1"]


def free_udp_and_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (the server listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


async def test_the_parental_dns_command(
    cli_env: str,
    runtime: Runtime,
    upstream: FakeUpstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARENTAL_DATA_DIR", str(tmp_path))  # the runtime's snapshots
    monkeypatch.setenv("PARENTAL_DNS_UPSTREAMS", f'["127.0.0.1:{upstream.port}"]')
    await publish(runtime)
    port = free_udp_and_tcp_port()
    command = [str(Path(sys.executable).parent / "parental"), "dns", "--port", str(port)]
    process = await asyncio.create_subprocess_exec(*command, env=dict(os.environ))
    try:
        query = dns.message.make_query("weed.test", "A")
        answer = None
        for _ in range(100):  # until it listens
            try:
                answer = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=0.2)
                break
            except (TimeoutError, dns.exception.Timeout, ConnectionRefusedError):
                await asyncio.sleep(0.1)
            if process.returncode is not None:
                raise AssertionError(f"parental dns exited with {process.returncode}")
        assert answer is not None
        assert addresses(answer) == ["0.0.0.0"]  # noqa: S104 - the default block address
    finally:
        if process.returncode is None:
            process.terminate()
    assert await process.wait() == 0


async def test_metrics_are_served_when_a_port_is_set(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    await publish(runtime)
    port = free_udp_and_tcp_port()
    runtime.settings = runtime.settings.model_copy(update={"dns_metrics_port": port})
    async with dns_front_end(runtime, host="127.0.0.1", port=0) as server:
        for _ in range(3):
            await udp(server, "ok.test")
        await udp(server, "weed.test")
        async with httpx.AsyncClient() as scraper:
            text = (await scraper.get(f"http://127.0.0.1:{port}/metrics")).text
    values = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert values["parental_dns_upstream_forwarded_total"] == "1"
    assert values["parental_dns_tcp_connections"] == "0"
    assert values["parental_dns_udp_rate_limited_total"] == "0"
    if server.fast is not None:  # built with the native fast path: the repeats were its
        assert int(values["parental_dns_fast_path_answered_total"]) == 2
