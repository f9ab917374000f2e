"""Asking the carrier's resolvers about names we allow: cached, coalesced, bounded in time.

Clients' questions for the same name and type while one is already on its way upstream wait
for that one answer rather than sending their own (many phones resolve the same popular names
at once). Each upstream gets an equal share of ``timeout`` in turn; when all fail the caller
answers SERVFAIL at once and the failure is counted, rather than leaving the phone to wait
for its own retry. A truncated UDP answer is asked again over TCP.

An upstream that let ``skip_after`` questions in a row time out (down, or cut off without a
refusal) is skipped for ``cooldown`` seconds: with every upstream skipped, questions are
answered SERVFAIL at once instead of each waiting out the timeout. The first question after
the cooldown tries it again, and one answer puts it back in use. A refused question (ICMP
port unreachable) costs nothing to ask again, so refusals never cause a skip, and an
upstream restarted on its address is used at the next question.

The question goes upstream as a fresh query of our own: only the name, type, class, the RD
and CD flags and the DO bit, never the client's EDNS options (the line option and the client
subnet name a child's line and are not the upstream's business).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from filters.dns.build import OUR_UDP_SIZE
from filters.dns.cache import Answer, AnswerCache, Key, parse_answer
from filters.dns.wire import CD, DO_BIT, HEADER, RD, FormatError

log = logging.getLogger(__name__)
Address = tuple[str, int]


@dataclass
class UpstreamStats:
    """Counters of this process since it started (for logs and metrics)."""

    forwarded: int = 0
    cache_hits: int = 0
    coalesced: int = 0
    tcp_retries: int = 0
    failures: int = 0


def parse_address(text: str, default_port: int = 53) -> Address:
    """``host``, ``host:port``, ``v6`` or ``[v6]:port`` as (host, port); ``ValueError`` if not."""
    host, port = text.strip(), str(default_port)
    if host.startswith("["):
        host, sep, rest = host[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"not an address: {text!r}")
        port = rest[1:] or port
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"not an address: {text!r}")
    return host, int(port)


def upstream_query(ident: int, question: bytes, *, flags: int, do: bool) -> bytes:
    opt = b"\x00" + struct.pack("!HHIH", 41, OUR_UDP_SIZE, DO_BIT if do else 0, 0)
    return HEADER.pack(ident, flags & (RD | CD), 1, 0, 0, 1) + question + opt


class _Channel(asyncio.DatagramProtocol):
    """One UDP socket to one upstream; answers matched to questions by id."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if len(data) < 2:
            return
        waiter = self.pending.pop(int.from_bytes(data[:2], "big"), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(exc)
        self.pending.clear()

    def new_id(self) -> int:
        while True:
            ident = secrets.randbelow(65_536)
            if ident not in self.pending:
                return ident


@dataclass
class Upstream:
    servers: Sequence[Address]
    timeout: float
    cache: AnswerCache
    stats: UpstreamStats = field(default_factory=UpstreamStats)
    skip_after: int = 3
    cooldown: float = 5.0
    _channels: dict[Address, _Channel] = field(default_factory=dict)
    _timeouts: dict[Address, int] = field(default_factory=dict)  # in a row
    _skip_until: dict[Address, float] = field(default_factory=dict)  # loop time
    _inflight: dict[Key, asyncio.Future[Answer | None]] = field(default_factory=dict)

    async def answer(self, key: Key, question: bytes, *, flags: int) -> tuple[Answer, float] | None:
        """The answer to ``question`` and its age in the cache; None when no upstream answered."""
        hit = self.cache.get(key)
        if hit is not None:
            self.stats.cache_hits += 1
            return hit
        pending = self._inflight.get(key)
        if pending is not None:
            self.stats.coalesced += 1
            shared = await asyncio.shield(pending)
            return None if shared is None else (shared, 0.0)
        future: asyncio.Future[Answer | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        answer = None
        try:
            answer = await self._ask(question, flags=flags, do=key[3])
        finally:
            del self._inflight[key]
            future.set_result(answer)
        if answer is None:
            self.stats.failures += 1
            return None
        self.cache.put(key, answer)
        return answer, 0.0

    async def _ask(self, question: bytes, *, flags: int, do: bool) -> Answer | None:
        self.stats.forwarded += 1
        share = self.timeout / max(1, len(self.servers))
        now = asyncio.get_running_loop().time()
        for server in self.servers:
            if self._skip_until.get(server, 0.0) > now:
                continue
            try:
                async with asyncio.timeout(share):
                    answer = await self._udp(server, question, flags=flags, do=do)
                    if answer.truncated:
                        self.stats.tcp_retries += 1
                        answer = await self._tcp(server, question, flags=flags, do=do)
            except TimeoutError:
                self._timed_out(server)
            except (OSError, FormatError, asyncio.IncompleteReadError) as exc:
                log.warning("upstream %s:%s failed: %r", *server, exc)
            else:
                self._timeouts.pop(server, None)
                self._skip_until.pop(server, None)
                return answer
        return None

    def _timed_out(self, server: Address) -> None:
        strikes = self._timeouts[server] = self._timeouts.get(server, 0) + 1
        log.warning("upstream %s:%s did not answer in time (%d in a row)", *server, strikes)
        if strikes >= self.skip_after:
            self._skip_until[server] = asyncio.get_running_loop().time() + self.cooldown

    async def _udp(self, server: Address, question: bytes, *, flags: int, do: bool) -> Answer:
        channel = self._channels.get(server)
        if channel is None or channel.transport is None or channel.transport.is_closing():
            _, channel = await asyncio.get_running_loop().create_datagram_endpoint(
                _Channel, remote_addr=server
            )
            self._channels[server] = channel
        ident = channel.new_id()
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        channel.pending[ident] = waiter
        try:
            assert channel.transport is not None
            channel.transport.sendto(upstream_query(ident, question, flags=flags, do=do))
            return parse_answer(await waiter, question)
        finally:
            channel.pending.pop(ident, None)

    async def _tcp(self, server: Address, question: bytes, *, flags: int, do: bool) -> Answer:
        reader, writer = await asyncio.open_connection(*server)
        try:
            query = upstream_query(secrets.randbelow(65_536), question, flags=flags, do=do)
            writer.write(struct.pack("!H", len(query)) + query)
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            return parse_answer(await reader.readexactly(length), question)
        finally:
            writer.close()

    def close(self) -> None:
        for channel in self._channels.values():
            if channel.transport is not None:
                channel.transport.close()
        self._channels.clear()
