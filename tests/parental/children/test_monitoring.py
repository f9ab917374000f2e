"""The monitoring rule, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from parental.children.monitoring import adulthood_date, monitoring_status

GUARDIAN = "+77011234567"


def status(now: datetime, birthdate: date = date(2010, 5, 20), **line: object) -> list[str]:
    args: dict[str, object] = {
        "line_active": True,
        "line_is_child_sim": True,
        "line_guardian_phone": GUARDIAN,
        "guardian_phones": [GUARDIAN],
    }
    args.update(line)
    return monitoring_status(
        birthdate=birthdate,
        timezone="Asia/Almaty",
        now=now,
        **args,  # type: ignore[arg-type]
    ).reasons


def test_monitoring_ends_at_midnight_of_the_18th_birthday_in_the_childs_zone() -> None:
    # 2028-05-19 18:59 UTC is 23:59 in Almaty (UTC+5): still 17.
    assert status(datetime(2028, 5, 19, 18, 59, tzinfo=UTC)) == []
    # 19:00 UTC is midnight in Almaty: 18th birthday, monitoring stops.
    assert status(datetime(2028, 5, 19, 19, 0, tzinfo=UTC)) == ["adult"]


@pytest.mark.parametrize(
    ("birthdate", "expected"),
    [
        (date(2010, 5, 20), date(2028, 5, 20)),
        (date(2008, 2, 29), date(2026, 2, 28)),
        (date(2012, 2, 29), date(2030, 2, 28)),
    ],
)
def test_adulthood_date(birthdate: date, expected: date) -> None:
    assert adulthood_date(birthdate) == expected


def test_every_line_condition_is_reported() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert status(now, line_active=False) == ["line_inactive"]
    assert status(now, line_is_child_sim=False) == ["not_child_sim"]
    assert status(now, line_guardian_phone="+77019999999") == ["not_guardians_line"]
    assert status(datetime(2040, 1, 1, tzinfo=UTC), line_active=False) == [
        "adult",
        "line_inactive",
    ]
