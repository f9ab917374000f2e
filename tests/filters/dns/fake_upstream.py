"""A resolver on a loopback port that answers from a table (dnspython-built answers) and counts
the questions it gets, so the front end's real forwarding, caching and retries run against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

SOA = "ns.upstream.test. admin.upstream.test. 1 3600 600 86400 60"


@dataclass
class FakeUpstream:
    records: dict[tuple[str, str], list[str]]  # (name with the dot, type) -> rdata texts
    ttl: int = 300
    delay: float = 0.0
    silent: bool = False
    questions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    tcp: asyncio.Server | None = None
    udp: asyncio.DatagramTransport | None = None

    @property
    def port(self) -> int:
        assert self.tcp is not None
        port: int = self.tcp.sockets[0].getsockname()[1]
        return port

    def asked(self, name: str, rtype: str = "A", transport: str | None = None) -> int:
        return sum(
            count
            for (n, t, via), count in self.questions.items()
            if n == name and t == rtype and transport in (None, via)
        )

    def respond(self, wire: bytes, *, tcp: bool) -> bytes:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text().lower()
        rtype = dns.rdatatype.to_text(question.rdtype)
        self.questions[(name, rtype, "tcp" if tcp else "udp")] += 1
        response = dns.message.make_response(query)
        found = self.records.get((name, rtype))
        if found:
            response.answer.append(
                dns.rrset.from_text_list(question.name, self.ttl, "IN", rtype, found)
            )
        else:
            if not any(n == name for n, _ in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(dns.rrset.from_text("upstream.test.", 600, "IN", "SOA", SOA))
        if tcp:
            return response.to_wire(max_size=65_535)
        try:
            return response.to_wire(max_size=max(512, query.payload))
        except dns.exception.TooBig:
            cut = dns.message.make_response(query)
            cut.flags |= dns.flags.TC
            return cut.to_wire()

    async def _answer_later(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        await asyncio.sleep(self.delay)
        if self.udp is not None and not self.silent:
            self.udp.sendto(self.respond(data, tcp=False), addr)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                answer = self.respond(await reader.readexactly(length), tcp=True)
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        writer.close()

    async def start(self, port: int = 0) -> FakeUpstream:
        """Listen on ``port`` (0: a free one), UDP and TCP; after ``close``, again on the same
        port for a test that takes the upstream away and brings it back."""
        self.tcp = await asyncio.start_server(self._connection, "127.0.0.1", port)
        upstream = self
        tasks: set[asyncio.Task[None]] = set()

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
                task = asyncio.create_task(upstream._answer_later(data, addr))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            Protocol, local_addr=("127.0.0.1", self.port)
        )
        self.udp = cast(asyncio.DatagramTransport, transport)
        return self

    async def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
        if self.tcp is not None:
            self.tcp.close()
            await self.tcp.wait_closed()


# Enough TXT records that the answer does not fit 512 bytes (but fits 4096).
BIG_TXT = [f'"record {i:02d} {"x" * 40}"' for i in range(20)]
RECORDS: dict[tuple[str, str], list[str]] = {
    ("ok.test.", "A"): ["192.0.2.1"],
    ("ok.test.", "AAAA"): ["2001:db8::1"],
    ("other.test.", "A"): ["192.0.2.2"],
    ("big.test.", "TXT"): BIG_TXT,
    ("forcesafesearch.google.com.", "A"): ["216.239.38.120"],
    ("restrict.youtube.com.", "A"): ["216.239.38.120"],
    ("www.google.com.", "A"): ["142.250.1.1"],
}
