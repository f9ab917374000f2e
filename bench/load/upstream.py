"""The recursive resolver ``parental dns`` forwards allowed names to, for the load scenario.

Run: .venv/bin/python bench/load/upstream.py --port N

This machine has no internet, so the carrier's recursive resolver is played by this stub on a
loopback port (UDP and TCP): every A question gets one address in 198.51.100.0/24 and every
AAAA one in 2001:db8::/64, derived from the name, with an hour's TTL; other types get an empty
answer with an SOA. The front end caches what it forwards, so after the first minute the stub
sees only names it has not been asked before; its cost is not part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct
import zlib
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

TTL = 3600
SOA = "ns.upstream.invalid. admin.upstream.invalid. 1 3600 600 86400 60"


def respond(wire: bytes, *, tcp: bool) -> bytes | None:
    """The answer to one query's wire bytes (None: not a query we can read)."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    if query.question:
        question = query.question[0]
        digest = zlib.crc32(question.name.to_text().lower().encode())
        if question.rdtype == dns.rdatatype.A:
            address = f"198.51.100.{digest % 254 + 1}"
            response.answer.append(dns.rrset.from_text(question.name, TTL, "IN", "A", address))
        elif question.rdtype == dns.rdatatype.AAAA:
            address = f"2001:db8::{digest % 65_535 + 1:x}"
            response.answer.append(dns.rrset.from_text(question.name, TTL, "IN", "AAAA", address))
        else:
            response.authority.append(dns.rrset.from_text("invalid.", 60, "IN", "SOA", SOA))
    return response.to_wire(max_size=65_535 if tcp else max(512, query.payload))


class Udp(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        answer = respond(data, tcp=False)
        if answer is not None:
            self.transport.sendto(answer, addr)


async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            answer = respond(await reader.readexactly(length), tcp=True)
            if answer is None:
                break
            writer.write(struct.pack("!H", len(answer)) + answer)
            await writer.drain()
    writer.close()


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", port))
    server = await asyncio.start_server(connection, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
