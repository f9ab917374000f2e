"""What a binding's address may be, in one canonical spelling, and its packed integer form.

An IPv4 line holds one address (a /32); an IPv6 line holds a delegated prefix, at most as wide
as ``MIN_V6_PREFIX`` (a /0 to /31 would claim a whole carrier's or region's space for one SIM).
The canonical text ("10.1.2.3/32", "2a02:db8:1::/64") is what SQL stores and compares, so one
network is spelled one way whatever the carrier sent.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import NamedTuple

MIN_V6_PREFIX = 32
V4_BITS, V6_BITS = 32, 128
MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"  # ::ffff:0:0/96, IPv4 as a dual-stack socket sees it


class Network(NamedTuple):  # a tuple: the index loads a million of these at a time
    version: int  # 4 or 6
    value: int  # the network address as an integer (host bits zero)
    length: int  # prefix length

    @property
    def text(self) -> str:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address
        if self.version == 6:
            address = ipaddress.IPv6Address(self.value)
        else:
            address = ipaddress.IPv4Address(self.value)
        return f"{address.compressed}/{self.length}"


def parse_network(raw: str) -> Network:
    """A binding's address: an IPv4 address (or /32) or an IPv6 prefix /32../128.

    Host bits set in an IPv6 prefix are refused rather than masked: the carrier's accounting
    sends the delegated prefix, so anything else is a mistake worth hearing about.
    """
    text = raw.strip()
    if not text or len(text) > 64 or "%" in text:  # no zone ids: a link-local name is no line
        raise ValueError("not an IP address or prefix")
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IP address or prefix: {exc}") from exc
    if isinstance(net, ipaddress.IPv4Network):
        if net.prefixlen != V4_BITS:
            raise ValueError("an IPv4 binding is one address (/32)")
        return Network(4, int(net.network_address), V4_BITS)
    if net.prefixlen < MIN_V6_PREFIX:
        raise ValueError(f"an IPv6 prefix must be /{MIN_V6_PREFIX} or longer")
    if net.network_address.ipv4_mapped is not None:
        raise ValueError("an IPv4-mapped IPv6 address is bound as IPv4")
    return Network(6, int(net.network_address), net.prefixlen)


def from_canonical(text: str) -> Network:
    """A network as SQL stores it (written by ``parse_network``): the index loads a million of
    these, so this skips the checks, at a tenth of ``ipaddress``'s cost."""
    address, _, length = text.partition("/")
    if ":" in address:
        return Network(6, int.from_bytes(socket.inet_pton(socket.AF_INET6, address)), int(length))
    return Network(4, int.from_bytes(socket.inet_pton(socket.AF_INET, address)), V4_BITS)


def parse_address(raw: str) -> tuple[int, int]:
    """(version, integer) of one address as a caller or a socket gives it; ValueError if not.

    IPv4-mapped IPv6 addresses (``::ffff:10.1.2.3``, as a dual-stack socket reports IPv4
    clients) are their IPv4 address.
    """
    try:
        if ":" in raw:
            return packed_address(socket.inet_pton(socket.AF_INET6, raw))
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, raw))
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"not an IP address: {raw!r}") from exc


def packed_address(packed: bytes) -> tuple[int, int]:
    """(version, integer) of a packed 4- or 16-byte address; ValueError for other lengths."""
    if len(packed) == 4:
        return 4, int.from_bytes(packed)
    if len(packed) == 16:
        if packed[:12] == MAPPED_PREFIX:
            return 4, int.from_bytes(packed[12:])
        return 6, int.from_bytes(packed)
    raise ValueError("a packed address has 4 or 16 bytes")


def candidate_networks(version: int, value: int) -> list[str]:
    """Canonical texts of every network a binding of this address could be stored as,
    longest prefix first (what SQL looks up for the support staff's question)."""
    if version == 4:
        return [Network(4, value, V4_BITS).text]
    return [
        Network(6, (value >> (V6_BITS - length)) << (V6_BITS - length), length).text
        for length in range(V6_BITS, MIN_V6_PREFIX - 1, -1)
    ]
