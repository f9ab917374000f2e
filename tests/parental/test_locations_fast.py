"""The latest position's fast path (``telemetry.locations.fast``): it answers only what the
full route has just vouched for, gives the route's answer, writes the same audit row before
answering, and hands everything else to the route."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from parental.audit.models import AuditEvent
from parental.children import grants
from parental.kit.clock import FrozenClock
from parental.lines import repository as lines_repository
from parental.locations import location_policy
from parental.runtime import Runtime
from telemetry.locations import positions
from tests.parental.factories import FamilyWorld, sign_in
from tests.parental.test_locations import fix, latest, minor_turning_18_tomorrow, upload


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements run while the block runs (their first words)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()[:3]))

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def besides_audit(run: list[str]) -> list[str]:
    """The statements other than the audit rows' (on PostgreSQL those bypass SQLAlchemy)."""
    return [statement for statement in run if statement != "INSERT INTO audit_events"]


async def audit_rows(runtime: Runtime, child_id: str) -> list[AuditEvent]:
    """The child-visible location reads, read in a session of their own (so: committed)."""
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "location.viewed", AuditEvent.child_visible.is_(True))
            .order_by(AuditEvent.occurred_at)
        )
        return [row for row in rows if str(row.child_id) == child_id]


async def test_a_repeated_read_is_answered_from_the_grant_and_audited_like_the_first(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (
        await upload(client, family, fix(clock.now() - timedelta(minutes=1)))
    ).status_code == 200
    first = await latest(client, family)  # the route: checks, grants, fills the cache
    assert first.status_code == 200, first.text
    with statements(runtime) as run:
        second = await latest(client, family)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["content-type"] == "application/json"
    assert besides_audit(run) == []  # no account, family or monitoring lookup

    rows = await audit_rows(runtime, family.child_id)
    assert len(rows) == 2
    fast = rows[1]
    assert (fast.actor_type, fast.actor_id) == ("guardian", family.guardian.account_id)
    assert (str(fast.family_id), fast.subject_type, fast.subject_id) == (
        family.family_id,
        "child",
        family.child_id,
    )
    assert fast.details == rows[0].details
    assert fast.details["basis"] == "device"
    assert fast.ip == rows[0].ip


async def test_every_concurrent_read_has_its_own_committed_row(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, fix(clock.now()))
    assert (await latest(client, family)).status_code == 200
    groups = runtime.audit.groups
    answers = await asyncio.gather(*(latest(client, family) for _ in range(40)))
    assert {a.status_code for a in answers} == {200}
    assert len(await audit_rows(runtime, family.child_id)) == 41
    assert runtime.audit.groups - groups < 40  # written in groups, not one by one


async def test_another_familys_guardian_never_reaches_the_fast_path(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    await upload(client, family, fix(clock.now()))
    assert (await latest(client, family)).status_code == 200
    for _ in range(2):
        stranger = await client.get(
            f"/v1/children/{family.child_id}/location", headers=other_family.guardian.headers
        )
        assert (stranger.status_code, stranger.json()["error"]) == (404, "ChildNotFound")
    anonymous = await client.get(f"/v1/children/{family.child_id}/location")
    assert anonymous.status_code == 401
    assert len(await audit_rows(runtime, family.child_id)) == 1


async def test_a_removed_guardian_is_refused_at_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, fix(clock.now()))
    invited = await client.post(
        f"/v1/families/{family.family_id}/invitations",
        headers=family.guardian.headers,
        json={"phone": "+77019876543"},
    )
    assert invited.status_code == 201, invited.text
    second = await sign_in(client, runtime, "+77019876543")
    accepted = await client.post(
        f"/v1/invitations/{invited.json()['id']}/accept", headers=second.headers
    )
    assert accepted.status_code == 200, accepted.text
    url = f"/v1/children/{family.child_id}/location"
    assert (await client.get(url, headers=second.headers)).status_code == 200  # granted

    removed = await client.delete(
        f"/v1/families/{family.family_id}/guardians/{second.account_id}",
        headers=family.guardian.headers,
    )
    assert removed.status_code == 204, removed.text
    refused = await client.get(url, headers=second.headers)
    assert (refused.status_code, refused.json()["error"]) == (404, "ChildNotFound")


async def test_a_grant_never_outlives_monitoring(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    # 23:59:30 in Almaty (UTC+5) on the eve of the 18th birthday, with a fresh token.
    clock.set(datetime(2026, 11, 25, 18, 59, 30, tzinfo=UTC))
    await upload(client, teen, fix(clock.now()))
    teen.guardian = await sign_in(client, runtime, teen.guardian.phone)
    assert (await latest(client, teen)).status_code == 200
    assert (await latest(client, teen)).status_code == 200
    clock.advance(timedelta(seconds=30))  # midnight: 18 years old; the grant is not a second old
    refused = await latest(client, teen)
    assert (refused.status_code, refused.json()["error"]) == (410, "MonitoringEndedAdult")


async def test_a_lapsed_grant_or_an_empty_cache_goes_to_the_route(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, fix(clock.now()))
    first = (await latest(client, family)).json()

    runtime.grants.clear()  # lapsed
    with statements(runtime) as run:
        assert (await latest(client, family)).json() == first
    assert besides_audit(run) != []

    child_key = f"location:latest:{family.child_id}"
    for kind in ("device", "carrier"):
        await runtime.cache.delete(f"{child_key}:{kind}")
    with statements(runtime) as run:
        assert (await latest(client, family)).json() == first
    assert any(s.startswith("SELECT") for s in run)  # read from SQL, and cached again
    with statements(runtime) as run:
        assert (await latest(client, family)).json() == first
    assert besides_audit(run) == []
    assert len(await audit_rows(runtime, family.child_id)) == 4


async def test_when_the_audit_row_cannot_be_written_the_route_answers(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await upload(client, family, fix(clock.now()))
    first = (await latest(client, family)).json()

    async def broken(**_row: Any) -> None:
        raise ConnectionError("database gone")

    monkeypatch.setattr(runtime.audit, "record", broken)
    again = await latest(client, family)  # the route writes the row in its own transaction
    assert (again.status_code, again.json()) == (200, first)
    assert len(await audit_rows(runtime, family.child_id)) == 2


async def test_a_change_made_by_another_process_voids_the_grant_at_the_next_read(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    await upload(client, family, fix(clock.now()))
    assert (await latest(client, family)).status_code == 200
    with statements(runtime) as run:
        assert (await latest(client, family)).status_code == 200
    assert besides_audit(run) == []

    # Another process ended the child SIM: it committed and wrote a new access version; this
    # process's grant is still in its memory.
    async with runtime.sessions() as session:
        line = await lines_repository.get_line_by_msisdn(session, family.line)
        assert line is not None
        line.is_child_sim = False
        await session.commit()
    await grants.revoke(runtime.cache, [uuid.UUID(family.child_id)])
    child_id = uuid.UUID(family.child_id)
    assert runtime.grants.get(family.guardian.access_token, child_id, clock.now()) is not None
    refused = await latest(client, family)
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")


async def test_the_carriers_change_of_the_line_is_seen_at_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    carrier: dict[str, str],
) -> None:
    await upload(client, family, fix(clock.now()))
    assert (await latest(client, family)).status_code == 200
    ended = await client.delete(f"/carrier/v1/lines/{family.line}", headers=carrier)
    assert ended.status_code == 200, ended.text
    refused = await latest(client, family)
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")


async def test_a_late_fill_from_sql_never_hides_a_newer_cached_fix(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    child_id = uuid.UUID(family.child_id)
    key = f"location:latest:{family.child_id}:device"
    policy = location_policy(runtime.settings)
    # A read found nothing in SQL; before it could cache that, a fix was stored and announced.
    await upload(client, family, fix(clock.now()))
    assert (await runtime.cache.get_many([key]))[0] is not None
    await positions.cache_fix(runtime.cache, key, None, policy.cache_seconds)
    cached = await positions.cached_latest(runtime.cache, child_id, now=clock.now(), policy=policy)
    assert cached is not None
    assert cached.latest is not None
    assert cached.latest.location is not None
    # An older batch arriving late does not replace it either.
    await upload(client, family, fix(clock.now() - timedelta(hours=1)))
    again = await positions.cached_latest(runtime.cache, child_id, now=clock.now(), policy=policy)
    assert again is not None
    assert again.latest == cached.latest


async def test_removing_the_child_drops_the_cached_positions(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    await upload(client, family, fix(clock.now()))
    assert (await latest(client, family)).status_code == 200
    keys = [f"location:latest:{family.child_id}:{kind}" for kind in ("device", "carrier")]
    assert await runtime.cache.get_many(keys) != [None, None]
    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text
    assert await runtime.cache.get_many(keys) == [None, None]
    assert (await latest(client, family)).status_code == 404
