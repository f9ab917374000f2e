"""The front end's listeners: UDP and TCP on one address and port, around ``FrontEnd.handle``.

UDP: each datagram is answered by its own task, so a query waiting on the upstream or the
database holds up nobody else. TCP (RFC 7766): messages framed by a 2-byte length, several per
connection, answered in order; a connection idle for ``idle_seconds`` is closed, and one
that sends a packet we cannot even answer FORMERR is closed too (its framing is not to be
trusted any more).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from dataclasses import dataclass, field

from filters.dns.datagrams import Datagrams
from filters.dns.frontend import FrontEnd

log = logging.getLogger(__name__)
_LENGTH = struct.Struct("!H")


@dataclass
class DnsServer:
    front: FrontEnd
    idle_seconds: float = 10.0
    tcp: asyncio.Server | None = None
    udp: asyncio.DatagramTransport | None = None
    _datagrams: Datagrams | None = None
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.tcp is not None
        port: int = self.tcp.sockets[0].getsockname()[1]
        return port

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = str(writer.get_extra_info("peername")[0])
        try:
            while True:
                async with asyncio.timeout(self.idle_seconds):
                    (length,) = _LENGTH.unpack(await reader.readexactly(2))
                    packet = await reader.readexactly(length)
                messages = await self.front.handle(packet, peer, limit_udp=False)
                if not messages:
                    break
                for message in messages:
                    writer.write(_LENGTH.pack(len(message)) + message)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def close(self) -> None:
        """Stop listening and end open connections and queries in flight."""
        if self.udp is not None:
            self.udp.close()
        pending: list[asyncio.Task[None]] = list(self._connections)
        if self._datagrams is not None:
            pending += list(self._datagrams.tasks)
        if self.tcp is not None:
            self.tcp.close()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.tcp is not None:
            await self.tcp.wait_closed()


async def serve_dns(
    front: FrontEnd, host: str, port: int, *, idle_seconds: float = 10.0
) -> DnsServer:
    """Listen on ``host``:``port`` over TCP and UDP (``port`` 0: a free one, the same for both)."""
    server = DnsServer(front, idle_seconds)
    server.tcp = await asyncio.start_server(server._connection, host, port)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: Datagrams(lambda data, host: front.handle(data, host, limit_udp=True)),
        local_addr=(host, server.port),
    )
    server.udp, server._datagrams = transport, protocol
    return server
