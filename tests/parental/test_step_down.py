"""The step-down at 18, by moving the clock: reads and uploads answer 410 from the midnight of
the 18th birthday in the child's zone; the worker tells the guardians and the child's device
once, and deletes the monitored data once the grace period has passed, keeping the child's
card. Other reasons monitoring does not apply stay 403."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from parental.child_data.step_down import step_down_adults
from parental.children.monitoring import Monitoring
from parental.children.service import require_monitoring
from parental.kit.clock import FrozenClock
from parental.kit.errors import AppError
from parental.models import AuditEvent, Device
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from parental.worker import run_maintenance
from telemetry.locations.models import LocationFix
from tests.parental.factories import FamilyWorld, add_child, register_line, sign_in
from tests.parental.test_locations import fix, latest, minor_turning_18_tomorrow, upload

# The teen's 18th birthday is 2026-11-26; midnight in Almaty (UTC+5) is 19:00 UTC the day before.
MIDNIGHT = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


async def count(runtime: Runtime, model: type, child_id: str) -> int:
    async with runtime.sessions() as session:
        column = model.child_id  # type: ignore[attr-defined]
        found = await session.scalar(
            select(func.count()).select_from(model).where(column == uuid.UUID(child_id))
        )
    return int(found or 0)


async def outbox(runtime: Runtime) -> list[PushOutboxRow]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(PushOutboxRow).order_by(PushOutboxRow.kind)))


async def actions(runtime: Runtime, child_id: str) -> list[str]:
    async with runtime.sessions() as session:
        query = select(AuditEvent.action).where(AuditEvent.child_id == uuid.UUID(child_id))
        return list(await session.scalars(query.order_by(AuditEvent.occurred_at)))


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, world: FamilyWorld) -> None:
    """A fresh access token for the guardian, after the clock moved past the last one's."""
    world.guardian = await sign_in(client, runtime, world.guardian.phone)


@pytest.fixture
async def teen(client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]) -> FamilyWorld:
    """A child turning 18 the day after the clock's start, with a fix stored and a device that
    registered for push."""
    teen = await minor_turning_18_tomorrow(client, runtime, carrier)
    assert (await upload(client, teen, fix(runtime.clock.now()))).status_code == 200
    token = await client.put(
        "/v1/device/push-token", headers=teen.device_headers, json={"token": "d:" + "x" * 150}
    )
    assert token.status_code == 204, token.text
    return teen


def test_turning_18_is_gone_and_the_lines_reasons_are_forbidden() -> None:
    ends = date(2026, 11, 26)
    refusals = {
        ("adult",): "MonitoringEndedAdult",
        ("adult", "line_inactive"): "MonitoringEndedAdult",  # 18 is final, whatever else
        ("line_inactive",): "MonitoringInactive",
        ("not_child_sim", "not_guardians_line"): "MonitoringInactive",
    }
    for reasons, name in refusals.items():
        with pytest.raises(AppError) as refused:
            require_monitoring(Monitoring(active=False, ends_on=ends, reasons=list(reasons)))
        assert refused.value.code == name
        assert refused.value.status_code == (410 if "adult" in reasons else 403)
    require_monitoring(Monitoring(active=True, ends_on=ends))  # no error


async def test_the_guardians_and_the_device_are_told_once_and_the_data_goes_after_the_grace(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, teen: FamilyWorld
) -> None:
    assert (await step_down_adults(runtime)).stepped_down == []
    clock.set(MIDNIGHT - SECOND)  # 23:59:59 on the eve
    await signed_in(client, runtime, teen)
    assert (await latest(client, teen)).status_code == 200
    assert (await step_down_adults(runtime)).stepped_down == []

    clock.set(MIDNIGHT)
    refused = await latest(client, teen)
    assert (refused.status_code, refused.json()["error"]) == (410, "MonitoringEndedAdult")
    assert refused.json()["detail"] == "The child turned 18: monitoring has ended."
    stored = await upload(client, teen, fix(clock.now()))
    assert (stored.status_code, stored.json()["error"]) == (410, "MonitoringEndedAdult")

    report = await step_down_adults(runtime)
    assert (report.stepped_down, report.erased) == ([uuid.UUID(teen.child_id)], [])
    assert (await step_down_adults(runtime)).stepped_down == []  # once
    told = await outbox(runtime)
    assert [(row.kind, str(row.account_id)) for row in told] == [
        ("child.adult", teen.guardian.account_id),
        ("device.monitoring_ended", teen.device_id),
    ]
    guardian, device = told
    # 30 days after the step-down at 19:00 UTC is 00:00 on 26 December in Almaty.
    assert guardian.payload["data"] == {
        "kind": "child.adult",
        "child_id": teen.child_id,
        "adult_on": "2026-11-26",
        "erase_on": "2026-12-26",
    }
    assert "26.12.2026" in guardian.payload["body"]  # in the guardian's language (kk)
    assert "18 жасқа толды" in guardian.payload["body"]
    assert device.payload["title"] is None  # a data message
    assert device.payload["data"]["type"] == "monitoring_ended"
    assert device.payload["data"]["reason"] == "adult"
    seen = await client.get("/v1/device/audit-events", headers=teen.device_headers)
    assert "child.stepped_down" in [e["action"] for e in seen.json()["items"]]
    card = await client.get(f"/v1/children/{teen.child_id}", headers=teen.guardian.headers)
    assert card.json()["stepped_down_at"] == "2026-11-25T19:00:00Z"
    assert card.json()["monitoring"]["reasons"] == ["adult"]

    clock.set(MIDNIGHT + timedelta(days=30) - SECOND)
    assert (await step_down_adults(runtime)).erased == []
    assert await count(runtime, LocationFix, teen.child_id) == 1  # kept through the grace

    clock.set(MIDNIGHT + timedelta(days=30))
    await signed_in(client, runtime, teen)
    await run_maintenance(runtime)  # the worker's round does it
    assert await count(runtime, LocationFix, teen.child_id) == 0
    assert await count(runtime, Device, teen.child_id) == 0
    assert (await step_down_adults(runtime)).erased == []  # once
    assert (await actions(runtime, teen.child_id)).count("child.adult_data_erased") == 1
    card = await client.get(f"/v1/children/{teen.child_id}", headers=teen.guardian.headers)
    assert card.status_code == 200  # the family still sees the child's card
    assert card.json()["adult_data_erased_at"] == "2026-12-25T19:00:00Z"
    gone = await client.get("/v1/device", headers=teen.device_headers)
    assert gone.status_code == 401  # the device was unpaired with the rest
    removed = await client.delete(f"/v1/children/{teen.child_id}", headers=teen.guardian.headers)
    assert removed.status_code == 204, removed.text


async def test_each_child_steps_down_at_midnight_in_their_own_zone(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
    teen: FamilyWorld,
) -> None:
    # A twin on a second line, living in New York: the birthday's midnight is 05:00 UTC.
    await register_line(client, carrier, "+77075550124", teen.guardian.phone)
    twin = await add_child(
        client, teen.guardian, "+77075550124", name="Dana", birthdate="2008-11-26"
    )
    moved = await client.patch(
        f"/v1/children/{twin['id']}",
        headers=teen.guardian.headers,
        json={"timezone": "America/New_York"},
    )
    assert moved.status_code == 200, moved.text

    clock.set(MIDNIGHT)
    await signed_in(client, runtime, teen)
    assert (await step_down_adults(runtime)).stepped_down == [uuid.UUID(teen.child_id)]
    still = await client.get(f"/v1/children/{twin['id']}/alarms", headers=teen.guardian.headers)
    assert still.status_code == 200, still.text

    clock.set(datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
    await signed_in(client, runtime, teen)
    assert (await step_down_adults(runtime)).stepped_down == [uuid.UUID(twin["id"])]
    ended = await client.get(f"/v1/children/{twin['id']}/alarms", headers=teen.guardian.headers)
    assert (ended.status_code, ended.json()["error"]) == (410, "MonitoringEndedAdult")
    kinds = [row.kind for row in await outbox(runtime)]
    assert kinds.count("child.adult") == 2  # one per child; the twin has no device


async def test_a_line_no_longer_a_child_sim_is_still_403(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, carrier: dict[str, str]
) -> None:
    await register_line(client, carrier, family.line, family.guardian.phone, is_child_sim=False)
    refused = await client.get(
        f"/v1/children/{family.child_id}/alarms", headers=family.guardian.headers
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "MonitoringInactive")
    assert (await step_down_adults(runtime)).stepped_down == []  # 11 years old
