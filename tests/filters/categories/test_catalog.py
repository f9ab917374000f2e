from __future__ import annotations

from datetime import date

import pytest

from filters.categories.catalog import BUILTIN, AgeBand, age_band, builtin

REQUIRED = {
    "self_harm",
    "drugs",
    "abuse_violence",
    "adult",
    "gambling",
    "malware_phishing",
    "filter_bypass",
    "stalkerware",
}


def test_the_required_categories_exist_once_each() -> None:
    keys = [c.key for c in BUILTIN]
    assert len(keys) == len(set(keys))
    assert set(keys) >= REQUIRED


def test_every_category_speaks_kazakh_russian_and_english_and_has_every_band() -> None:
    for category in BUILTIN:
        assert set(category.names) == {"kk", "ru", "en"}, category.key
        assert set(category.descriptions) == {"kk", "ru", "en"}, category.key
        assert all(v.strip() for v in [*category.names.values(), *category.descriptions.values()])
        assert set(category.defaults) == set(AgeBand), category.key


def test_protective_categories_are_on_for_every_child() -> None:
    for key in ("self_harm", "drugs", "abuse_violence", "adult", "stalkerware"):
        assert all(builtin(key).defaults.values()), key


@pytest.mark.parametrize(
    ("birthdate", "today", "band"),
    [
        (date(2018, 6, 1), date(2027, 5, 31), AgeBand.UNDER_9),
        (date(2018, 6, 1), date(2027, 6, 1), AgeBand.AGE_9_12),
        (date(2014, 1, 1), date(2026, 12, 31), AgeBand.AGE_9_12),
        (date(2014, 1, 1), date(2027, 1, 1), AgeBand.AGE_13_15),
        (date(2010, 3, 1), date(2026, 3, 1), AgeBand.AGE_16_17),
        (date(2012, 2, 29), date(2025, 2, 28), AgeBand.AGE_9_12),
        (date(2012, 2, 29), date(2025, 3, 1), AgeBand.AGE_13_15),
    ],
)
def test_age_bands(birthdate: date, today: date, band: AgeBand) -> None:
    assert age_band(birthdate, today) is band
