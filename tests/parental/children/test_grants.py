"""Read grants: lapse after ``ttl`` (monotonic), never outlive monitoring, bounded in size."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from parental.children.grants import AccessVersion, ReadGrants, monitoring_ends_at
from parental.children.models import Child
from parental.children.monitoring import Monitoring

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
FRESH: dict[str, Any] = {"version": AccessVersion(b"v1"), "token_expires": LATER, "now": NOW}


def child(birthdate: date = date(2015, 3, 1)) -> Child:
    return Child(
        id=uuid.uuid4(), family_id=uuid.uuid4(), birthdate=birthdate, timezone="Asia/Almaty"
    )


def active(kid: Child) -> Monitoring:
    return Monitoring(active=True, ends_on=kid.birthdate.replace(year=kid.birthdate.year + 18))


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_grant_lapses_after_ttl_seconds() -> None:
    ticks = Ticks()
    grants = ReadGrants(1.0, clock=ticks)
    kid, account = child(), uuid.uuid4()
    grants.grant("t", account_id=account, child=kid, status=active(kid), **FRESH)
    found = grants.get("t", kid.id, NOW)
    assert found is not None
    assert (found.account_id, found.family_id, found.child_id) == (account, kid.family_id, kid.id)
    assert found.holds(b"v1")
    assert not found.holds(b"v2")
    assert not found.holds(None)
    assert grants.get("other token", kid.id, NOW) is None
    assert grants.get("t", uuid.uuid4(), NOW) is None
    ticks.now += 0.99
    assert grants.get("t", kid.id, NOW) is not None
    ticks.now += 0.01
    assert grants.get("t", kid.id, NOW) is None
    assert len(grants) == 0


def test_a_grant_ends_at_midnight_of_the_18th_birthday_in_the_childs_zone() -> None:
    kid = child(date(2008, 11, 26))
    grants = ReadGrants(3600, clock=Ticks())
    ends = monitoring_ends_at(kid, active(kid))
    assert ends == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)  # 00:00 in Almaty (UTC+5)
    grants.grant("t", account_id=uuid.uuid4(), child=kid, status=active(kid), **FRESH)
    assert grants.get("t", kid.id, ends - timedelta(microseconds=1)) is not None
    assert grants.get("t", kid.id, ends) is None
    grants.grant(
        "t",
        account_id=uuid.uuid4(),
        child=kid,
        status=active(kid),
        version=AccessVersion(None),
        token_expires=LATER,
        now=ends,
    )
    assert len(grants) == 0


def test_nothing_is_granted_without_monitoring_or_with_ttl_zero() -> None:
    kid = child()
    inactive = Monitoring(active=False, ends_on=date(2033, 3, 1), reasons=["line_inactive"])
    grants = ReadGrants(5, clock=Ticks())
    grants.grant("t", account_id=uuid.uuid4(), child=kid, status=inactive, **FRESH)
    off = ReadGrants(0, clock=Ticks())
    off.grant("t", account_id=uuid.uuid4(), child=kid, status=active(kid), **FRESH)
    assert (len(grants), len(off)) == (0, 0)


def test_the_oldest_grants_go_first_beyond_the_size_and_clear_empties() -> None:
    grants = ReadGrants(60, size=2, clock=Ticks())
    kids = [child() for _ in range(3)]
    for kid in kids:
        grants.grant("t", account_id=uuid.uuid4(), child=kid, status=active(kid), **FRESH)
    assert [grants.get("t", k.id, NOW) is not None for k in kids] == [False, True, True]
    grants.clear()
    assert len(grants) == 0


def test_a_grant_ends_with_its_token_and_needs_a_known_version() -> None:
    kid = child()
    grants = ReadGrants(3600, clock=Ticks())
    expires = NOW + timedelta(minutes=15)
    status = active(kid)
    account = uuid.uuid4()
    grants.grant(
        "t",
        account_id=account,
        child=kid,
        status=status,
        version=AccessVersion(None),
        token_expires=expires,
        now=NOW,
    )
    found = grants.get("t", kid.id, expires - timedelta(seconds=1))
    assert found is not None
    assert found.holds(None)
    assert grants.get("t", kid.id, expires) is None
    unknown = AccessVersion(None, known=False)  # the cache could not be read
    grants.grant(
        "t",
        account_id=account,
        child=kid,
        status=status,
        version=unknown,
        token_expires=expires,
        now=NOW,
    )
    assert len(grants) == 0
