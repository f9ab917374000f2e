"""The front end's listeners: UDP and TCP on one address and port, around ``FrontEnd.handle``.

UDP: with the native fast path (``fastpath``), datagrams are read and answered in batches in
C; what it cannot answer comes back here. Each of those, and every datagram without the fast
path, is answered by its own task, so a query waiting on the upstream or the database holds up
nobody else. TCP (RFC 7766): messages framed by a 2-byte length, several per
connection, answered in order; a connection idle for ``idle_seconds`` is closed, and one
that sends a packet we cannot even answer FORMERR is closed too (its framing is not to be
trusted any more). Connections are capped in all and per source address; one over either cap is
closed at once.

UDP queries pass the per-source rate limit (``ratelimit``) first, on either path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from dataclasses import dataclass, field

from filters.dns.datagrams import Datagrams
from filters.dns.fastpath import Memo, count_hits
from filters.dns.frontend import FrontEnd
from filters.dns.ratelimit import SourceLimiter

log = logging.getLogger(__name__)
_LENGTH = struct.Struct("!H")
BUDGET = 2048  # datagrams the fast path reads per wake-up before the loop runs other work
COUNT_SECONDS = 0.25  # how often the fast path's hits are counted for the children
SOCKET_BUFFER = 4 << 20  # bytes: a burst of queries waits in the kernel rather than being lost


class FastDatagrams:
    """A UDP socket read by the native fast path; what it passes on goes to the front end."""

    def __init__(
        self, sock: socket.socket, front: FrontEnd, memo: Memo, limiter: SourceLimiter
    ) -> None:
        self.sock = sock
        self.front = front
        self.memo = memo
        memo.native.limit(*limiter.native_args())
        self.tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)
        self._counter = asyncio.create_task(self._count_forever())

    def _readable(self) -> None:
        self.memo.follow(self.front.store.current)
        for packet, address, identity, answered in self.memo.native.serve(
            self.sock.fileno(), self.memo.clock(), BUDGET
        ):
            if answered:
                assert identity is not None
                work = self.front.refresh(packet, str(address[0]), identity)
            else:
                work = self._reply(packet, address, identity)
            task = asyncio.create_task(work)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _reply(
        self, packet: bytes, address: tuple[str | int, ...], identity: bytes | None
    ) -> None:
        messages = await self.front.handle(
            packet, str(address[0]), limit_udp=True, identity=identity
        )
        for message in messages:
            try:
                self.sock.sendto(message, address)
            except OSError:  # a full buffer or a client gone: UDP answers may be lost
                return

    async def _count_forever(self) -> None:
        while True:
            await asyncio.sleep(COUNT_SECONDS)
            await self.count()

    async def count(self) -> None:
        front = self.front
        await count_hits(self.memo, front.activity, front.now(), front.stats.count_verdict)

    async def close(self) -> None:
        self._loop.remove_reader(self.sock.fileno())
        self._counter.cancel()
        tasks = [self._counter, *self.tasks]
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.count()  # what was answered is counted, even on the way out
        self.sock.close()


def udp_socket(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket bound to ``host``:``port`` (a name, IPv4 or IPv6)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class DnsServer:
    front: FrontEnd
    idle_seconds: float = 10.0
    max_connections: int = 1000
    max_per_source: int = 20
    limiter: SourceLimiter = field(default_factory=lambda: SourceLimiter(0, 1))
    refused_connections: int = 0
    tcp: asyncio.Server | None = None
    udp: asyncio.DatagramTransport | None = None
    _datagrams: Datagrams | None = None
    fast: FastDatagrams | None = None
    _connections: set[asyncio.Task[None]] = field(default_factory=set)
    _per_source: dict[str, int] = field(default_factory=dict)

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    @property
    def port(self) -> int:
        assert self.tcp is not None
        port: int = self.tcp.sockets[0].getsockname()[1]
        return port

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = str(writer.get_extra_info("peername")[0])
        held = self._per_source.get(peer, 0)
        if len(self._connections) >= self.max_connections or held >= self.max_per_source:
            self.refused_connections += 1
            writer.close()
            return
        self._connections.add(task)
        self._per_source[peer] = held + 1
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
            left = self._per_source.pop(peer) - 1
            if left:
                self._per_source[peer] = left
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def close(self) -> None:
        """Stop listening and end open connections and queries in flight."""
        if self.udp is not None:
            self.udp.close()
        if self.fast is not None:
            await self.fast.close()
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
    front: FrontEnd,
    host: str,
    port: int,
    *,
    idle_seconds: float = 10.0,
    limiter: SourceLimiter | None = None,
    max_connections: int = 1000,
    max_per_source: int = 20,
) -> DnsServer:
    """Listen on ``host``:``port`` over TCP and UDP (``port`` 0: a free one, the same for both)."""
    server = DnsServer(front, idle_seconds, max_connections, max_per_source)
    if limiter is not None:
        server.limiter = limiter
    server.tcp = await asyncio.start_server(server._connection, host, port)
    if front.memo is not None:
        try:
            sock = udp_socket(host, server.port)
        except OSError:
            server.tcp.close()
            raise
        server.fast = FastDatagrams(sock, front, front.memo, server.limiter)
        return server
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: Datagrams(
            lambda data, host: front.handle(data, host, limit_udp=True), server.limiter.allow
        ),
        local_addr=(host, server.port),
    )
    server.udp, server._datagrams = transport, protocol
    return server
