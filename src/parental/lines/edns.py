"""What a resolver in front of us may tell about the client in EDNS0 options: pure parsers.

Two options identify a line when our DNS front end sits behind the carrier's resolver (so
every query comes from the resolver's own address):

* a private option (its code in ``line_edns_option_code``) whose payload is the line's MSISDN
  in E.164 ASCII (``+77071234567``) or a paired device's id (a UUID in text);
* EDNS Client Subnet (RFC 7871): the client's address, or a prefix of it.

Every parser takes the option's payload bytes and returns a value or raises ``ValueError``
(never anything else), so the front end can answer FORMERR or ignore the option.
"""

from __future__ import annotations

import re
import socket
import uuid
from dataclasses import dataclass

import dns.edns
import dns.exception

_E164 = re.compile(rb"\+[1-9][0-9]{6,14}")
_UUID_TEXT_LENGTHS = (32, 36)


@dataclass(frozen=True, slots=True)
class LineHint:
    """The line named in the private option: exactly one of the two is set."""

    msisdn: str | None = None
    device_id: uuid.UUID | None = None


def parse_line_option(payload: bytes) -> LineHint:
    """The MSISDN (``+`` and 7 to 15 digits) or the device id (a UUID) the payload carries."""
    if _E164.fullmatch(payload):
        return LineHint(msisdn=payload.decode("ascii"))
    if len(payload) in _UUID_TEXT_LENGTHS:
        try:
            return LineHint(device_id=uuid.UUID(payload.decode("ascii")))
        except (UnicodeDecodeError, ValueError):
            pass
    raise ValueError("the line option carries neither an E.164 number nor a device id")


@dataclass(frozen=True, slots=True)
class ClientSubnet:
    """An EDNS Client Subnet option: the client's address, zero beyond ``source_prefix``."""

    family: int  # 1: IPv4, 2: IPv6 (IANA address family numbers)
    source_prefix: int
    scope_prefix: int
    address: bytes  # packed, 4 or 16 bytes

    @property
    def full_width(self) -> bool:
        return self.source_prefix == len(self.address) * 8


def parse_client_subnet(payload: bytes) -> ClientSubnet:
    """RFC 7871 section 6: FAMILY (2 bytes), SOURCE and SCOPE PREFIX-LENGTH (1 byte each),
    then exactly ceil(SOURCE / 8) address bytes whose bits past SOURCE are zero.

    dnspython does the checks; its errors (a short payload, an unknown family, a prefix too
    long, padding bits set, trailing bytes) all become ``ValueError``.
    """
    try:
        option = dns.edns.option_from_wire(dns.edns.OptionType.ECS, payload, 0, len(payload))
    except (dns.exception.DNSException, ValueError, IndexError) as exc:
        raise ValueError(f"malformed client subnet option: {exc}") from exc
    assert isinstance(option, dns.edns.ECSOption)
    family = 1 if option.family == 1 else 2
    packed = socket.inet_pton(socket.AF_INET if family == 1 else socket.AF_INET6, option.address)
    return ClientSubnet(family, option.srclen, option.scopelen, packed)
