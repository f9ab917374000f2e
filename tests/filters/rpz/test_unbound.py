"""Our zones in a real Unbound: per-client tags, NXDOMAIN for blocked names, passthru
exceptions, and a zone pulled by AXFR from our transfer listener.

Unbound runs unprivileged on loopback ports; the names it resolves come from a small
authoritative server in this process (a stub zone), so nothing needs the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import cast

import dns.asyncquery
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from filters.rpz import service
from filters.rpz.service import CategoryZones
from filters.rpz.transfer_server import serve_transfers
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.filters.rpz.conftest import OPTIONS, cache_in, first_lists, publish

UNBOUND = shutil.which("unbound") or (
    "/usr/sbin/unbound" if Path("/usr/sbin/unbound").exists() else None
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# A line whose tags include the categories, and one tagged with another category only. A client
# with no tag at all gets every RPZ zone in Unbound (its tag check needs a tag on both sides).
TAGGED, OTHER_TAG = "127.0.0.2", "127.0.0.3"
ANSWER = "192.0.2.80"

if UNBOUND is None and not IN_CI:
    pytestmark = pytest.mark.skip(reason="unbound is not installed (apt-get install unbound)")


# Names our matcher lets through although a rule sits next to them: an exact rule's subdomain,
# the name of a subdomains-only rule, passthru exceptions, a URL rule's host, an unlisted name.
RESOLVED = {
    "www.poker.test": dns.rcode.NOERROR,
    "cards.test": dns.rcode.NOERROR,
    "safe.casino.test": dns.rcode.NOERROR,
    "x.safe.casino.test": dns.rcode.NOERROR,
    "lotto.test": dns.rcode.NOERROR,
    "bet.test": dns.rcode.NOERROR,
    "school.test": dns.rcode.NOERROR,
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Authority(asyncio.DatagramProtocol):
    """Authoritative for ``test.``: every name has the address ``ANSWER``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        if question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", ANSWER))
        self.transport.sendto(response.to_wire(), addr)


@pytest.fixture
async def authority() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Authority, local_addr=("127.0.0.1", 0))
    yield transport.get_extra_info("sockname")[1]
    transport.close()


def unbound_config(
    directory: Path, port: int, authority: int, gambling: Path, transfer_port: int
) -> str:
    return f"""
server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{directory}"
    pidfile: "{directory}/unbound.pid"
    logfile: ""
    use-syslog: no
    verbosity: 1
    num-threads: 1
    so-reuseport: no
    do-not-query-localhost: no
    domain-insecure: "test"
    local-zone: "test." nodefault  # Unbound answers RFC 6761 names itself by default
    module-config: "respip validator iterator"
    access-control: 127.0.0.0/8 allow
    access-control: {TAGGED}/32 allow
    access-control: {OTHER_TAG}/32 allow
    define-tag: "gambling drugs adult"
    access-control-tag: {TAGGED}/32 "gambling drugs"
    access-control-tag: {OTHER_TAG}/32 "adult"

remote-control:
    control-enable: no

stub-zone:
    name: "test"
    stub-addr: 127.0.0.1@{authority}

rpz:
    name: "{OPTIONS.origin("gambling")}"
    zonefile: "{gambling}"
    tags: "gambling"

rpz:
    name: "{OPTIONS.origin("drugs")}"
    primary: 127.0.0.1@{transfer_port}
    allow-notify: 127.0.0.1
    tags: "drugs"
"""


@pytest.fixture
def unbound_binary() -> str:
    if UNBOUND is None:
        pytest.fail("unbound is required in CI (.ci/run installs it)")
    return UNBOUND


async def ask(name: str, source: str, port: int) -> dns.message.Message:
    query = dns.message.make_query(name, dns.rdatatype.A)
    return await dns.asyncquery.udp(query, "127.0.0.1", port=port, source=source, timeout=2)


async def notify(zone: str, port: int) -> None:
    """Tell Unbound the zone changed (RFC 1996), so it pulls it again now."""
    message = dns.message.make_query(zone, dns.rdatatype.SOA)
    message.set_opcode(dns.opcode.NOTIFY)
    message.flags |= dns.flags.AA
    with contextlib.suppress(dns.exception.Timeout, OSError):
        await dns.asyncquery.udp(message, "127.0.0.1", port=port, timeout=1)


async def until(condition: str, check: object, deadline: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while True:
        try:
            if await check():  # type: ignore[operator]
                return
        except (dns.exception.Timeout, OSError):
            pass
        if loop.time() > end:
            pytest.fail(f"unbound: {condition} within {deadline} s")
        await asyncio.sleep(0.2)


@pytest.fixture
def process_reaper() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
async def test_unbound_enforces_our_zones_per_client_tag(
    runtime: Runtime,
    tmp_path: Path,
    authority: int,
    unbound_binary: str,
    process_reaper: list[subprocess.Popen[bytes]],
) -> None:
    await publish(runtime, first_lists())
    cache = cache_in(tmp_path)
    async with transaction(runtime.sessions) as session:
        gambling = await service.category_zone(session, cache, key="gambling", options=OPTIONS)
    transfers = await serve_transfers(
        "127.0.0.1", 0, CategoryZones(runtime.sessions, cache, OPTIONS), allowed=["127.0.0.1"]
    )
    port = free_port()
    directory = tmp_path / "unbound"
    directory.mkdir()
    conf = directory / "unbound.conf"
    conf.write_text(unbound_config(directory, port, authority, gambling.path, transfers.port))
    checked = subprocess.run(  # noqa: ASYNC221, S603 - a quick syntax check first
        [str(Path(unbound_binary).with_name("unbound-checkconf")), str(conf)],
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = (directory / "unbound.log").open("wb")
    process_reaper.append(
        subprocess.Popen(  # noqa: ASYNC220, S603 - runs beside the test, reaped by the fixture
            [unbound_binary, "-d", "-c", str(conf)], stdout=log, stderr=log
        )
    )
    try:

        async def blocked_by_transferred_zone() -> bool:
            if (await ask("weed.test", TAGGED, port)).rcode() == dns.rcode.NXDOMAIN:
                return True
            await notify(OPTIONS.origin("drugs"), port)  # a first pull that failed waits minutes
            return False

        await until("the drugs zone transferred from our listener", blocked_by_transferred_zone)
        expectations = {
            # name: what the tagged client gets
            "casino.test": dns.rcode.NXDOMAIN,
            "www.casino.test": dns.rcode.NXDOMAIN,  # subtree
            "poker.test": dns.rcode.NXDOMAIN,  # exact
            "a.cards.test": dns.rcode.NXDOMAIN,
            "a.lotto.test": dns.rcode.NXDOMAIN,
            "weed.test": dns.rcode.NXDOMAIN,  # the transferred zone
            "a.weed.test": dns.rcode.NXDOMAIN,
        }
        expectations.update(RESOLVED)
        for name, rcode in expectations.items():
            tagged = await ask(name, TAGGED, port)
            assert dns.rcode.to_text(tagged.rcode()) == dns.rcode.to_text(rcode), name
            if rcode == dns.rcode.NOERROR:
                assert tagged.answer[-1][0].to_text() == ANSWER, name
        for name in expectations:
            other = await ask(name, OTHER_TAG, port)  # not tagged with these categories
            assert other.rcode() == dns.rcode.NOERROR, name
            assert other.answer[-1][0].to_text() == ANSWER, name
    finally:
        await transfers.close()
        log.close()
