"""A UDP listener that answers each datagram in its own task (the front end, zone transfers)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import cast

Answer = Callable[[bytes, str], Awaitable[Iterable[bytes]]]


class Datagrams(asyncio.DatagramProtocol):
    """Calls ``answer(data, client address)`` per datagram and sends back what it returns."""

    def __init__(self, answer: Answer, admit: Callable[[str], bool] | None = None) -> None:
        self.answer = answer
        self.admit = admit  # None: every datagram; else only those from a source it admits
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if self.admit is not None and not self.admit(str(addr[0])):
            return
        task = asyncio.create_task(self._reply(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        for message in await self.answer(data, str(addr[0])):
            if self.transport is not None and not self.transport.is_closing():
                self.transport.sendto(message, addr)
