"""SOS, the guardian's alarm settings and reading of alarms, retention and erasure.

An SOS is stored and raised whatever the settings or monitoring rules say: the child asked for
help. The press time comes from the device's clock; a clock running ahead is not allowed to
date the alarm in the future (it is dated when it arrived), while the time as sent still
identifies a press sent twice.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.ids import new_id
from parental.kit.paging import decode_cursor, encode_cursor
from telemetry.alarms import liveness, repository
from telemetry.alarms.events import SosPressed
from telemetry.alarms.models import Alarm
from telemetry.alarms.rules import AlarmDefaults, Rules, rules_of
from telemetry.alarms.schemas import (
    AlarmKind,
    AlarmPage,
    AlarmRead,
    AlarmSettingsUpdate,
    DeviceStatusList,
    DeviceStatusRead,
    Position,
    SosCreate,
)


def sos_key(device_id: uuid.UUID, body: SosCreate) -> str:
    """What makes two SOS requests the same press: the device's client id, else its time."""
    if body.client_id is not None:
        identity = f"{device_id}|id|{body.client_id}"
    else:
        identity = f"{device_id}|at|{body.pressed_at.astimezone(UTC).isoformat()}"
    return hashlib.sha256(identity.encode()).hexdigest()


async def _never() -> bool:
    return False  # an SOS raises nothing but itself


async def press_sos(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    body: SosCreate,
    now: datetime,
    defaults: AlarmDefaults,
) -> tuple[Alarm, SosPressed | None]:
    """Store the press once; the event only the first time (None for a duplicate)."""
    key = sos_key(device_id, body)
    position = body.position
    inserted = await repository.insert_alarm_once(
        session,
        {
            "id": new_id(),
            "child_id": child_id,
            "device_id": device_id,
            "kind": "sos",
            "occurred_at": min(body.pressed_at.astimezone(UTC), now),
            "received_at": now,
            "dedup_key": key,
            "client_id": body.client_id,
            "latitude": position.latitude if position else None,
            "longitude": position.longitude if position else None,
            "accuracy_m": position.accuracy_m if position else None,
        },
    )
    alarm = await repository.alarm_by_key(session, key)
    assert alarm is not None
    await liveness.sign_of_life(
        session,
        child_id=child_id,
        device_id=device_id,
        rules=await rules_of(session, child_id, defaults),
        now=now,
        alerts=_never,
    )
    if not inserted:
        return alarm, None
    return alarm, SosPressed(
        occurred_at=alarm.occurred_at,
        alarm_id=alarm.id,
        child_id=child_id,
        device_id=device_id,
        latitude=alarm.latitude,
        longitude=alarm.longitude,
        accuracy_m=alarm.accuracy_m,
    )


def alarm_read(alarm: Alarm) -> AlarmRead:
    position = None
    if alarm.latitude is not None and alarm.longitude is not None and alarm.accuracy_m is not None:
        position = Position(
            latitude=alarm.latitude, longitude=alarm.longitude, accuracy_m=alarm.accuracy_m
        )
    return AlarmRead(
        id=alarm.id,
        child_id=alarm.child_id,
        device_id=alarm.device_id,
        kind=alarm.kind,  # type: ignore[arg-type]  # written only from AlarmKind values
        occurred_at=alarm.occurred_at,
        received_at=alarm.received_at,
        position=position,
        battery_pct=alarm.battery_pct,
        last_seen_at=alarm.last_seen_at,
    )


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    kind: AlarmKind | None,
) -> AlarmPage:
    """The child's alarms, newest first."""
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.page(session, child_id, limit=limit + 1, after=after, kind=kind)
    more = len(rows) > limit
    rows = rows[:limit]
    return AlarmPage(
        items=[alarm_read(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].occurred_at, rows[-1].id) if more and rows else None,
    )


async def device_statuses(session: AsyncSession, child_id: uuid.UUID) -> DeviceStatusList:
    """The last sign of life and battery reading of each of the child's devices."""
    rows = await repository.statuses_to_show(session, child_id)
    return DeviceStatusList(items=[DeviceStatusRead.model_validate(row) for row in rows])


async def update_settings(
    session: AsyncSession, child_id: uuid.UUID, body: AlarmSettingsUpdate, *, now: datetime
) -> Rules:
    """Replace the child's settings; silences pending on the child's devices follow them."""
    row = await repository.save_settings(
        session, {"child_id": child_id, **body.model_dump(), "updated_at": now}
    )
    rules = Rules.of(row)
    await liveness.reschedule(session, child_id, rules)
    return rules


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete alarms that happened before ``before``."""
    return await repository.purge_alarms(session, before)


async def erase_child(
    session: AsyncSession, child_id: uuid.UUID, line_id: uuid.UUID
) -> dict[str, int]:
    """Delete a removed child's alarms, settings, device statuses and the line's handset;
    how many of each went (kinds with none left out)."""
    erased = await repository.erase_child(session, child_id, line_id)
    return {kind: count for kind, count in erased.items() if count}
