"""E.164 normalisation with libphonenumber, and masking for logs."""

from __future__ import annotations

import pytest

from parental.kit.phone import InvalidPhoneNumber, mask, normalize_e164


@pytest.mark.parametrize(
    "raw",
    ["+7 701 123 45 67", "+77011234567", " +7 (701) 123-45-67 ", "+7-701-123-45-67"],
)
def test_normalize_accepts_numbers_as_people_type_them(raw: str) -> None:
    assert normalize_e164(raw) == "+77011234567"


def test_normalize_keeps_other_countries_without_regions() -> None:
    assert normalize_e164("+7 916 123 45 67") == "+79161234567"
    assert normalize_e164("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "raw",
    [
        "87011234567",  # national format: no country code
        "77011234567",  # country code but no +
        "garbage",
        "+",
        "+abc",
        "",
        "+7701",  # too short
        "+770112345",  # too short for a Kazakh mobile number
        "+770112345678901",  # too long
    ],
)
def test_normalize_rejects(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize_e164(raw)


def test_invalid_phone_number_is_a_value_error() -> None:
    # Pydantic turns ValueErrors raised in validators into 422 issues.
    assert issubclass(InvalidPhoneNumber, ValueError)


def test_regions_accepts_a_number_of_the_region() -> None:
    assert normalize_e164("+7 701 123 45 67", regions={"KZ"}) == "+77011234567"


def test_regions_rejects_a_russian_number_sharing_the_plus_seven_code() -> None:
    # +7 9xx is Russia, although Kazakhstan shares the +7 country code.
    assert normalize_e164("+7 916 123 45 67") == "+79161234567"

    with pytest.raises(InvalidPhoneNumber, match="RU"):
        normalize_e164("+7 916 123 45 67", regions={"KZ"})
    assert normalize_e164("+7 916 123 45 67", regions={"KZ", "RU"}) == "+79161234567"


def test_mask_keeps_only_country_code_and_last_two_digits() -> None:
    masked = mask("+77011234567")

    assert masked == "+7********67"
    assert len(masked) == len("+77011234567")
    assert "1234" not in masked
