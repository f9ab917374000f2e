"""The upload's fast path (``telemetry.locations.fast_upload``): it stores only for a device the
full route has just vouched for, answers what the route answers, and hands everything else to
the route with the body as it came."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event

from parental.children import grants
from parental.children.grants import ReadGrants
from parental.children.models import Child
from parental.children.monitoring import Monitoring
from parental.kit.clock import FrozenClock
from parental.lines import repository as lines_repository
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld
from tests.parental.test_locations import (
    fix,
    latest,
    minor_turning_18_tomorrow,
    stored_count,
    upload,
)


@contextmanager
def tables_read(runtime: Runtime) -> Iterator[list[str]]:
    """The statements run while the block runs, in full."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def checks_caller(run: list[str]) -> bool:
    """Whether any statement looked up a device, a child, a line or a guardian."""
    return any(
        f"FROM {table} " in statement or statement.endswith(f"FROM {table}")
        for statement in run
        for table in ("devices", "children", "lines", "guardians", "families")
    )


async def test_a_repeated_upload_is_stored_from_the_grant(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    now = clock.now()
    with tables_read(runtime) as run:
        first = await upload(client, family, fix(now - timedelta(minutes=3)))
    assert first.status_code == 200, first.text
    assert checks_caller(run)  # the route: the device, its child, the line, the guardians

    with tables_read(runtime) as run:
        second = await upload(
            client,
            family,
            fix(now - timedelta(minutes=1), client_id="a"),
            fix(now - timedelta(minutes=3), client_id="b"),
            fix(now - timedelta(minutes=2), latitude=123, client_id="c"),
        )
    assert second.status_code == 200, second.text
    assert second.headers["content-type"] == "application/json"
    assert not checks_caller(run)
    assert second.json() == {
        "accepted": 1,
        "duplicate": 1,
        "rejected": 1,
        "items": [
            {"index": 0, "client_id": "a", "status": "accepted", "reason": None},
            {"index": 1, "client_id": "b", "status": "duplicate", "reason": None},
            {"index": 2, "client_id": "c", "status": "rejected", "reason": "invalid_coordinates"},
        ],
    }
    assert await stored_count(runtime) == 2
    # Announced after the answer, as the route does: the newest fix is the latest position.
    shown = await latest(client, family)
    assert shown.json()["location"]["fixed_at"] == (now - timedelta(minutes=1)).isoformat().replace(
        "+00:00", "Z"
    )


async def test_a_body_the_schema_refuses_gets_the_routes_422_and_stores_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await upload(client, family, fix(clock.now()))).status_code == 200
    assert len(runtime.grants) == 1
    refused = await client.post(
        "/v1/device/locations",
        headers=family.device_headers,
        json={"fixes": [{"latitude": 43.2, "longitude": 76.9}]},
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == "ValidationError"
    assert "fixed_at" in refused.json()["detail"]
    broken = await client.post(
        "/v1/device/locations",
        headers={**family.device_headers, "content-type": "application/json"},
        content=b'{"fixes": [',
    )
    assert (broken.status_code, broken.json()["error"]) == (422, "ValidationError")
    assert await stored_count(runtime) == 1


async def test_a_revoked_device_is_refused_at_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await upload(client, family, fix(clock.now()))).status_code == 200
    revoked = await client.delete(
        f"/v1/devices/{family.device_id}", headers=family.guardian.headers
    )
    assert revoked.status_code == 204, revoked.text
    refused = await upload(client, family, fix(clock.now() - timedelta(minutes=1)))
    assert (refused.status_code, refused.json()["error"]) == (401, "InvalidDeviceToken")
    assert await stored_count(runtime) == 1


async def test_a_change_made_by_another_process_sends_the_upload_to_the_route(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    assert (await upload(client, family, fix(clock.now()))).status_code == 200
    # Another process ended the child SIM: it committed and wrote a new access version; this
    # process's grant is still in its memory.
    async with runtime.sessions() as session:
        line = await lines_repository.get_line_by_msisdn(session, family.line)
        assert line is not None
        line.is_child_sim = False
        await session.commit()
    await grants.revoke(runtime.cache, [uuid.UUID(family.child_id)])
    assert len(runtime.grants) == 1
    refused = await upload(client, family, fix(clock.now() - timedelta(minutes=1)))
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")
    assert await stored_count(runtime) == 1


async def test_a_grant_never_outlives_monitoring(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
) -> None:
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    # 23:59:30 in Almaty (UTC+5) on the eve of the 18th birthday.
    clock.set(datetime(2026, 11, 25, 18, 59, 30, tzinfo=UTC))
    assert (await upload(client, teen, fix(clock.now()))).status_code == 200
    assert (await upload(client, teen, fix(clock.now(), latitude=43.3))).status_code == 200
    clock.advance(timedelta(seconds=30))  # midnight: 18 years old; the grant is not a second old
    refused = await upload(client, teen, fix(clock.now()))
    assert (refused.status_code, refused.json()["error"]) == (410, "MonitoringEndedAdult")


def test_a_check_that_began_before_a_local_change_gives_no_grant() -> None:
    """SQLite reads from the snapshot of a transaction's first read: a check that began before
    a revocation in this process committed may not see it, so its grant is not given."""
    local = ReadGrants(60)
    child = Child(id=uuid.uuid4(), family_id=uuid.uuid4(), timezone="Asia/Almaty")
    status = Monitoring(active=True, ends_on=date(2030, 1, 1))
    now = datetime(2026, 11, 25, tzinfo=UTC)
    version = grants.AccessVersion(b"v1")
    begun = local.epoch
    local.clear()  # a device of the child was revoked in this process meanwhile
    local.grant_device(
        "dt_x", device_id=uuid.uuid4(), child=child, status=status, version=version,
        epoch=begun, now=now,
    )  # fmt: skip
    assert local.get_device("dt_x", now) is None
    local.grant_device(
        "dt_x", device_id=uuid.uuid4(), child=child, status=status, version=version,
        epoch=local.epoch, now=now,
    )  # fmt: skip
    assert local.get_device("dt_x", now) is not None
