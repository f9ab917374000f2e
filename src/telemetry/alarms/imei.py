"""IMEI checks: 15 digits, the last a Luhn check digit over the first 14 (3GPP TS 23.003)."""

from __future__ import annotations

IMEI_PATTERN = r"^[0-9]{15}$"


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` (ASCII digits only) end in a correct Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def is_valid_imei(text: str) -> bool:
    return len(text) == 15 and text.isascii() and text.isdigit() and luhn_valid(text)
