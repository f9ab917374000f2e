"""Parsing the EDNS0 options that name a line: exact cases, malformed input, and fuzzing."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parental.lines.edns import ClientSubnet, parse_client_subnet, parse_line_option


def test_the_line_option_carries_an_msisdn_or_a_device_id() -> None:
    assert parse_line_option(b"+77071234567").msisdn == "+77071234567"
    device = uuid.uuid4()
    assert parse_line_option(str(device).encode()).device_id == device
    assert parse_line_option(device.hex.encode()).device_id == device
    assert parse_line_option(str(device).encode()).msisdn is None


@pytest.mark.parametrize(
    "bad",
    [b"", b"77071234567", b"+7707", b"+0123456789", b"+7707123456789012", b"+7707 123456",
     b"\xff" * 36, b"z" * 36, b"+77071234567\x00", uuid.uuid4().bytes],
)  # fmt: skip
def test_anything_else_in_the_line_option_is_a_value_error(bad: bytes) -> None:
    with pytest.raises(ValueError, match="neither an E"):
        parse_line_option(bad)


def test_client_subnet_per_rfc_7871() -> None:
    assert parse_client_subnet(bytes([0, 1, 32, 0, 10, 1, 2, 3])) == ClientSubnet(
        1, 32, 0, bytes([10, 1, 2, 3])
    )
    v4_24 = parse_client_subnet(bytes([0, 1, 24, 0, 10, 1, 2]))
    assert (v4_24.address, v4_24.full_width) == (bytes([10, 1, 2, 0]), False)
    v6 = parse_client_subnet(bytes([0, 2, 56, 0]) + bytes.fromhex("2a020db8000102"))
    assert v6.family == 2
    assert v6.source_prefix == 56
    assert v6.address == bytes.fromhex("2a020db8000102" + "00" * 9)
    zero = parse_client_subnet(bytes([0, 1, 0, 0]))
    assert zero.address == bytes(4)
    assert parse_client_subnet(bytes([0, 1, 32, 24, 10, 1, 2, 3])).scope_prefix == 24


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x00\x01\x20",  # header cut short
        bytes([0, 1, 32, 0, 10, 1, 2]),  # address shorter than the source prefix says
        bytes([0, 1, 24, 0, 10, 1, 2, 3]),  # longer: trailing bytes
        bytes([0, 3, 8, 0, 10]),  # unknown family
        bytes([0, 1, 33, 0, 1, 2, 3, 4, 5]),  # prefix longer than IPv4
        bytes([0, 2, 129, 0]) + bytes(17),
        bytes([0, 1, 32, 33, 10, 1, 2, 3]),  # scope longer than IPv4
        bytes([0, 1, 23, 0, 10, 1, 3]),  # a bit set past the prefix
    ],
)
def test_malformed_client_subnets_are_value_errors(bad: bytes) -> None:
    with pytest.raises(ValueError, match="malformed client subnet"):
        parse_client_subnet(bad)


@given(st.binary(max_size=40))
def test_any_payload_parses_or_is_a_value_error(payload: bytes) -> None:
    for parse in (parse_client_subnet, parse_line_option):
        with contextlib.suppress(ValueError):
            parse(payload)


@given(st.integers(0, 1), st.integers(0, 128), st.binary(min_size=16, max_size=16))
def test_well_formed_subnets_round_trip(v6: int, length: int, raw: bytes) -> None:
    width = 16 if v6 else 4
    length %= width * 8 + 1
    value = int.from_bytes(raw[:width]) >> (width * 8 - length) << (width * 8 - length)
    address = value.to_bytes(width)
    payload = bytes([0, 2 if v6 else 1, length, 0]) + address[: (length + 7) // 8]
    parsed = parse_client_subnet(payload)
    assert (parsed.source_prefix, parsed.address) == (length, address)
