"""Phone numbers in E.164, validated with libphonenumber's metadata."""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def normalize_e164(raw: str, *, regions: Iterable[str] | None = None) -> str:
    """``raw`` as E.164 (``+77011234567``); it must carry its country code.

    With ``regions`` the number must also belong to one of them (``{"KZ"}`` for the carrier's
    own lines). Spaces, dashes and brackets are accepted as people type them.
    """
    text = raw.strip()
    if not text.startswith("+"):
        raise InvalidPhoneNumber("a phone number must start with + and its country code")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number")
    if regions is not None:
        region = phonenumbers.region_code_for_number(number)
        allowed = set(regions)
        if region not in allowed:
            expected = ", ".join(sorted(allowed))
            raise InvalidPhoneNumber(f"the number is of {region or 'no region'}, not {expected}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(phone: str) -> str:
    """A number safe for logs: country code and the last two digits only."""
    return phone[:2] + "*" * max(0, len(phone) - 4) + phone[-2:]
