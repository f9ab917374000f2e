"""The in-memory binding index and the address rules it relies on (no database)."""

from __future__ import annotations

import socket
import uuid

import pytest

from parental.lines.addresses import candidate_networks, parse_address, parse_network
from parental.lines.index import Binding, BindingIndex, BoundLine

NOW = 1_000_000.0
A, B, C = (uuid.uuid4() for _ in range(3))


def bind(network: str, line: uuid.UUID, expires: float = NOW + 60) -> Binding:
    return Binding(parse_network(network), BoundLine(line, expires))


def holder(index: BindingIndex, ip: str | bytes, now: float = NOW, **kw: int) -> uuid.UUID | None:
    found = index.lookup(ip, now=now, **kw)
    return found.line_id if found else None


def test_networks_have_one_canonical_spelling() -> None:
    assert parse_network("10.1.2.3").text == "10.1.2.3/32"
    assert parse_network(" 10.1.2.3/32 ").text == "10.1.2.3/32"
    assert parse_network("2A02:0DB8:0:0001::/64").text == "2a02:db8:0:1::/64"
    assert parse_network("2a02:db8::1").text == "2a02:db8::1/128"
    assert parse_network("2a02:db8::/32").length == 32


@pytest.mark.parametrize(
    "bad",
    ["10.1.2.0/24", "10.1.2.3/0", "2a02:db8::/31", "::/0", "2a02:db8::1/64", "::ffff:1.2.3.4",
     "1.2.3", "", "x" * 65, "fe80::1%eth0", "10.1.2.3/33"],
)  # fmt: skip
def test_networks_we_do_not_bind(bad: str) -> None:
    with pytest.raises(ValueError, match=r"IPv4|IPv6|IP address or prefix"):
        parse_network(bad)


def test_addresses_in_every_form() -> None:
    assert parse_address("10.1.2.3") == (4, 0x0A010203)
    assert parse_address("::ffff:10.1.2.3") == (4, 0x0A010203)
    assert parse_address("2a02:db8::1")[0] == 6
    for bad in ("10.1.2", "2a02:::1", "", "10.1.2.3/32"):
        with pytest.raises(ValueError, match="not an IP address"):
            parse_address(bad)
    assert candidate_networks(4, 0x0A010203) == ["10.1.2.3/32"]
    v6 = candidate_networks(*parse_address("2a02:db8:1:2::5"))
    assert (v6[0], v6[64], v6[-1]) == ("2a02:db8:1:2::5/128", "2a02:db8:1:2::/64", "2a02:db8::/32")


def test_ipv4_is_exact_and_accepts_packed_and_mapped_forms() -> None:
    index = BindingIndex.build([bind("10.1.2.3", A), bind("10.1.2.4", B)])
    assert holder(index, "10.1.2.3") == A
    assert holder(index, "10.1.2.4") == B
    assert holder(index, "10.1.2.5") is None
    assert holder(index, socket.inet_pton(socket.AF_INET, "10.1.2.3")) == A
    assert holder(index, socket.inet_pton(socket.AF_INET6, "::ffff:10.1.2.4")) == B
    assert holder(index, "::ffff:10.1.2.3") == A
    assert len(index) == 2
    with pytest.raises(ValueError, match="4 or 16 bytes"):
        index.lookup(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="not an IP address"):
        index.lookup("not an address")


def test_ipv6_takes_the_longest_prefix() -> None:
    index = BindingIndex.build(
        [bind("2a02:db8:1::/48", A), bind("2a02:db8:1:2::/64", B), bind("2a02:db8:1:2::7", C)]
    )
    assert holder(index, "2a02:db8:1:2::7") == C
    assert holder(index, "2a02:db8:1:2::8") == B
    assert holder(index, "2a02:db8:1:2:ffff:ffff:ffff:ffff") == B
    assert holder(index, "2a02:db8:1:3::1") == A
    assert holder(index, "2a02:db8:2::1") is None
    assert holder(index, "10.1.2.3") is None
    # A client subnet of /56 may match only prefixes of /56 or wider.
    assert holder(index, "2a02:db8:1:2::7", widest=56) == A
    assert holder(index, "2a02:db8:1:2::7", widest=40) is None


def test_expiry_is_honoured_at_lookup() -> None:
    index = BindingIndex.build([bind("10.0.0.1", A, NOW + 10), bind("2a02:db8::/64", B, NOW + 10)])
    assert holder(index, "10.0.0.1", NOW + 9.9) == A
    assert holder(index, "10.0.0.1", NOW + 10) is None
    assert holder(index, "2a02:db8::1", NOW + 10) is None


def test_changes_make_a_new_index_and_leave_the_old_one_alone() -> None:
    old = BindingIndex.build([bind("10.0.0.1", A), bind("2a02:db8::/64", A)])
    new = old.with_changes(
        [bind("10.0.0.1", B), bind("10.0.0.2", C), bind("2a02:db8:0:1::/64", C)],
        [parse_network("2a02:db8::/64")],
    )
    assert (holder(old, "10.0.0.1"), holder(old, "10.0.0.2"), holder(old, "2a02:db8::1")) == (
        A,
        None,
        A,
    )
    assert (holder(new, "10.0.0.1"), holder(new, "10.0.0.2"), holder(new, "2a02:db8::1")) == (
        B,
        C,
        None,
    )
    assert holder(new, "2a02:db8:0:1::9") == C
    emptied = new.with_changes([], [parse_network("2a02:db8:0:1::/64")])
    assert holder(emptied, "2a02:db8:0:1::9") is None
    assert len(emptied) == 2
