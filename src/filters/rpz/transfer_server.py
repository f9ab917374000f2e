"""A small DNS listener for zone transfers of our RPZ zones (TCP), and SOA queries (UDP and
TCP) that secondaries send to see whether a zone changed.

Only clients in the allow-list get answers; everyone else gets REFUSED. A query that cannot be
parsed closes the TCP connection (or is dropped on UDP): nothing to answer it with. The DNS
front end will mount ``transfer.answer`` itself; this listener is for carriers that only pull
zones, and for the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from filters.dns.datagrams import Datagrams
from filters.rpz import transfer
from filters.rpz.transfer import ZoneProvider

log = logging.getLogger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(allowed: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (``192.0.2.1``, ``10.0.0.0/8``, ``::1``) as networks."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed)


@dataclass
class TransferServer:
    provider: ZoneProvider
    allowed: tuple[Network, ...]
    ixfr_window: int = 10
    tcp: asyncio.Server | None = None
    udp: asyncio.DatagramTransport | None = None
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.tcp is not None
        port: int = self.tcp.sockets[0].getsockname()[1]
        return port

    def permits(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        return any(ip in network for network in self.allowed)

    async def responses(
        self, wire: bytes, peer: str, *, over_udp: bool
    ) -> Iterator[dns.message.Message] | None:
        """What to send back for ``wire`` from ``peer``; None when it cannot be parsed."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if query.flags & dns.flags.QR:
            return None
        if not self.permits(peer):
            return iter([transfer.error(query, dns.rcode.REFUSED)])
        if over_udp and any(
            q.rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR) for q in query.question
        ):
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC  # transfers are TCP only: the client retries there
            return iter([truncated])
        return await transfer.answer(query, self.provider, ixfr_window=self.ixfr_window)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")[0]
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                messages = await self.responses(
                    await reader.readexactly(length), peer, over_udp=False
                )
                if messages is None:
                    break
                for message in messages:
                    data = message.to_wire()
                    writer.write(struct.pack("!H", len(data)) + data)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            log.exception("zone transfer to %s failed", peer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
        if self.tcp is not None:
            self.tcp.close()
            for task in list(self._connections):
                task.cancel()
            await self.tcp.wait_closed()


async def _udp_answers(server: TransferServer, data: bytes, client: str) -> list[bytes]:
    messages = await server.responses(data, client, over_udp=True)
    return [m.to_wire(max_size=512) for m in messages or ()]


async def serve_transfers(
    host: str,
    port: int,
    provider: ZoneProvider,
    *,
    allowed: Iterable[str],
    ixfr_window: int = 10,
) -> TransferServer:
    """Listen on ``host``:``port`` (TCP, and UDP for SOA queries); ``port`` 0 picks one."""
    server = TransferServer(provider, networks(allowed), ixfr_window)

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        server._connections.add(task)
        try:
            await server._serve_connection(reader, writer)
        finally:
            server._connections.discard(task)

    server.tcp = await asyncio.start_server(connected, host, port)
    loop = asyncio.get_running_loop()
    server.udp, _ = await loop.create_datagram_endpoint(
        lambda: Datagrams(lambda data, client: _udp_answers(server, data, client)),
        local_addr=(host, server.port),
    )
    return server
