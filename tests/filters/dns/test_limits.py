"""Floods cost a source its answers, not everyone else's: the UDP rate limit per source (in C
and in Python, the same rule) and the caps on TCP connections."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from ipaddress import ip_network

import dns.message
import pytest

from filters.dns.fastpath import native_fast_path
from filters.dns.ratelimit import SourceLimiter
from filters.dns.server import serve_dns
from tests.filters.dns.conftest import OPTION_CODE, FrontFactory

FastPath = native_fast_path()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_python_limit_refills_at_its_rate_up_to_the_burst() -> None:
    clock = Clock()
    limiter = SourceLimiter(10, 5, [ip_network("10.0.0.0/8")], clock=clock)
    assert [limiter.allow("192.0.2.1") for _ in range(8)] == [True] * 5 + [False] * 3
    assert limiter.allow("192.0.2.2")  # another source has its own bucket
    clock.now += 0.25  # two and a half tokens
    assert [limiter.allow("192.0.2.1") for _ in range(3)] == [True, True, False]
    clock.now += 60  # never more than the burst
    assert sum(limiter.allow("192.0.2.1") for _ in range(20)) == 5
    assert all(limiter.allow("10.1.2.3") for _ in range(100))  # exempt
    assert limiter.limited == 1 + 15 + 3
    assert all(SourceLimiter(0, 1).allow("192.0.2.1") for _ in range(1000))  # off


@pytest.mark.skipif(FastPath is None, reason="the native fast path is not built")
def test_the_fast_path_drops_what_is_over_the_limit_before_anything_else() -> None:
    assert FastPath is not None
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        server.bind(("127.0.0.1", 0))
        server.setblocking(False)
        native = FastPath(10, 10, OPTION_CODE)

        def burst(count: int, now: float) -> int:
            for _ in range(count):
                client.sendto(
                    dns.message.make_query("ok.test", "A").to_wire(), server.getsockname()
                )
            return len(native.serve(server.fileno(), now, 1000))  # passed on to Python

        native.limit(10, 5, [])
        assert burst(20, 1.0) == 5
        assert burst(20, 1.25) == 2  # 2.5 tokens since
        assert native.stats()["limited"] == 15 + 18
        native.limit(10, 5, [(bytes([127, 0, 0, 0]), 8)])
        assert burst(20, 1.3) == 20
        native.limit(0, 1, [])
        assert burst(50, 1.4) == 50
    finally:
        server.close()
        client.close()


async def test_tcp_connections_are_capped_per_source(make_front: FrontFactory) -> None:
    server = await serve_dns(make_front(), "127.0.0.1", 0, max_per_source=2)
    try:
        first = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        async with asyncio.timeout(2):
            assert await reader.read() == b""  # closed at once
        writer.close()
        assert server.refused_connections == 1
        query = dns.message.make_query("ok.test", "A").to_wire()
        reader, writer = first[0]
        writer.write(len(query).to_bytes(2, "big") + query)
        async with asyncio.timeout(2):
            length = int.from_bytes(await reader.readexactly(2), "big")
            answer = dns.message.from_wire(await reader.readexactly(length))
        assert answer.answer
        for _, held in first:
            held.close()
    finally:
        await server.close()


async def test_the_python_listener_applies_the_same_limit(make_front: FrontFactory) -> None:
    front = make_front()  # no memo: every datagram through the Python listener
    server = await serve_dns(front, "127.0.0.1", 0, limiter=SourceLimiter(0.001, 2))
    loop = asyncio.get_running_loop()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            for ident in range(5):
                query = dns.message.make_query("ok.test", "A")
                query.id = ident
                await loop.sock_sendto(sock, query.to_wire(), ("127.0.0.1", server.port))
            answers = []
            with contextlib.suppress(TimeoutError):  # until nothing more comes
                async with asyncio.timeout(1):
                    while True:
                        answers.append(dns.message.from_wire(await loop.sock_recv(sock, 4096)))
        assert sorted(a.id for a in answers) == [0, 1]
        assert server.limiter.limited == 3
    finally:
        await server.close()
