"""Signs of life and battery readings of each device, and the alarms they raise.

A heartbeat, an SOS or a batch of fixes is a sign of life at the time it arrives (fixes may
have been collected offline, but the upload itself shows the device is alive now); the battery
readings they carry go through ``engine.read_battery`` in reading-time order. One status row per
device holds the result, locked while it changes so a heartbeat and a batch of fixes arriving
together do not lose each other's update.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.db import write_fields
from parental.kit.ids import new_id
from telemetry.alarms import engine, repository
from telemetry.alarms.events import DeviceSilent, LowBattery
from telemetry.alarms.models import Alarm, AlarmSettings, DeviceStatus
from telemetry.alarms.rules import AlarmDefaults, Alerts, Rules, defaults_rules, rules_of
from telemetry.alarms.schemas import HeartbeatCreate
from telemetry.locations.fix import Fix


def _silence(row: DeviceStatus) -> engine.Silence:
    return engine.Silence(row.last_seen_at, row.silent_due_at, row.silence_noted_at)


def _silence_values(state: engine.Silence) -> dict[str, Any]:
    return {
        "last_seen_at": state.last_seen_at,
        "silent_due_at": state.due_at,
        "silence_noted_at": state.noted_at,
    }


def _set_silence(row: DeviceStatus, state: engine.Silence) -> None:
    for column, value in _silence_values(state).items():
        setattr(row, column, value)


def _battery(row: DeviceStatus) -> engine.BatteryState:
    return engine.BatteryState(
        row.battery_pct, row.charging, row.battery_read_at, row.battery_low_noted
    )


def _battery_values(state: engine.BatteryState) -> dict[str, Any]:
    return {
        "battery_pct": state.level_pct,
        "charging": state.charging,
        "battery_read_at": state.read_at,
        "battery_low_noted": state.low_noted,
    }


async def _status(
    session: AsyncSession, child_id: uuid.UUID, device_id: uuid.UUID, now: datetime
) -> tuple[DeviceStatus, bool]:
    """The device's status row, locked; and whether it was just made."""
    row = await repository.status_for_update(session, device_id)
    if row is not None:
        return row, False
    values = {
        "device_id": device_id,
        "child_id": child_id,
        "last_seen_at": now,
        "battery_low_noted": False,
    }
    return await repository.create_status(session, values), True


async def sign_of_life(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    rules: Rules,
    now: datetime,
    alerts: Alerts,
    readings: Sequence[engine.BatteryReading] = (),
    app_version: str | None = None,
    locked: DeviceStatus | None = None,
) -> tuple[DeviceStatus, list[LowBattery]]:
    """Note that the device is alive now, apply its battery readings; the alarms raised.
    ``locked``: the device's status row, already read and locked by the caller."""
    if locked is not None:
        row, created = locked, False
    else:
        row, created = await _status(session, child_id, device_id, now)
    silence = engine.seen(None if created else _silence(row), now, rules.silent_after)
    battery = _battery(row)
    raised: list[LowBattery] = []
    for reading in sorted(readings, key=lambda r: r.read_at):
        step = engine.read_battery(battery, reading, rules.battery_threshold_pct, now=now)
        battery = step.state
        if not step.crossed:
            continue
        if rules.low_battery_enabled and await alerts():
            raised.append(await _low_battery(session, row, reading, rules, now))
        else:
            battery = engine.unnoted(battery)
    values = {**_silence_values(silence), **_battery_values(battery)}
    if app_version is not None:
        values["app_version"] = app_version
    # One statement, not through the unit of work: every upload and heartbeat writes the row.
    await write_fields(session, [(row, values)])
    return row, raised


async def _low_battery(
    session: AsyncSession,
    row: DeviceStatus,
    reading: engine.BatteryReading,
    rules: Rules,
    now: datetime,
) -> LowBattery:
    alarm = Alarm(
        id=new_id(),
        child_id=row.child_id,
        device_id=row.device_id,
        kind="low_battery",
        occurred_at=reading.read_at,
        received_at=now,
        battery_pct=reading.level_pct,
    )
    await repository.add(session, alarm)
    return LowBattery(
        occurred_at=reading.read_at,
        alarm_id=alarm.id,
        child_id=row.child_id,
        device_id=row.device_id,
        battery_pct=reading.level_pct,
        threshold_pct=rules.battery_threshold_pct,
    )


async def heartbeat(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    body: HeartbeatCreate,
    now: datetime,
    defaults: AlarmDefaults,
    alerts: Alerts,
    locked: tuple[DeviceStatus, AlarmSettings | None] | None = None,
) -> tuple[DeviceStatus, list[LowBattery]]:
    """The device agent's periodic report: alive, its battery now, its app version.
    ``locked``: the device's status row and the child's settings, read and locked by the
    caller."""
    # The device's status row (there is one after its first report) and the child's rules,
    # read and locked together: a heartbeat is a round trip fewer.
    found = locked or await repository.status_and_settings_for_update(session, device_id)
    row: DeviceStatus | None = None
    if found is None:
        rules = await rules_of(session, child_id, defaults)
    else:
        row, settings = found
        rules = defaults_rules(defaults) if settings is None else Rules.of(settings)
    return await sign_of_life(
        session,
        child_id=child_id,
        device_id=device_id,
        rules=rules,
        now=now,
        alerts=alerts,
        readings=[engine.BatteryReading(body.battery_pct, body.charging, now)],
        app_version=body.app_version,
        locked=row,
    )


# Where ``lock_statuses`` leaves what it locked, for the rest of the transaction.
_LOCKED = "alarms.locked_statuses"


async def lock_statuses(session: AsyncSession, device_ids: Sequence[uuid.UUID]) -> None:
    """Lock the status rows of several devices, with their children's settings, in one
    statement (a group of uploads); until the transaction ends ``record_fixes`` finds them
    without asking again."""
    locked: dict[uuid.UUID, tuple[DeviceStatus, AlarmSettings | None]]
    locked = session.info.setdefault(_LOCKED, {})
    locked.update(await repository.statuses_and_settings_for_update(session, device_ids))


async def record_fixes(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    fixes: Sequence[Fix],
    now: datetime,
    defaults: AlarmDefaults,
    alerts: Alerts,
) -> list[LowBattery]:
    """New fixes of one child: a sign of life of each device that sent some (the carrier's
    network positions come from no device and count for none), and their battery readings."""
    by_device: dict[uuid.UUID, list[engine.BatteryReading]] = {}
    for fix in fixes:
        if fix.device_id is None:
            continue
        readings = by_device.setdefault(fix.device_id, [])
        if fix.battery_pct is not None:
            readings.append(engine.BatteryReading(fix.battery_pct, fix.charging, fix.fixed_at))
    raised: list[LowBattery] = []
    rules: Rules | None = None
    for device_id, readings in by_device.items():
        # Uploads come from one device, which has a status row after its first: the row and
        # the child's rules are read together.
        found = session.info.get(_LOCKED, {}).get(device_id)
        if found is None:
            found = await repository.status_and_settings_for_update(session, device_id)
        locked = None
        if found is not None:
            locked, settings = found
            rules = rules or (Rules.of(settings) if settings else defaults_rules(defaults))
        _, events = await sign_of_life(
            session,
            child_id=child_id,
            device_id=device_id,
            rules=rules or await rules_of(session, child_id, defaults),
            now=now,
            alerts=alerts,
            readings=readings,
            locked=locked,
        )
        raised.extend(events)
    return raised


async def reschedule(session: AsyncSession, child_id: uuid.UUID, rules: Rules) -> None:
    """The child's rules changed: pending silences are due by the new ones."""
    for row in await repository.statuses_of_child(session, child_id):
        _set_silence(row, engine.rescheduled(_silence(row), rules.silent_after))
    await session.flush()


async def due_silences(session: AsyncSession, now: datetime, limit: int) -> list[DeviceStatus]:
    """Up to ``limit`` devices silent past their deadline, locked for this transaction."""
    return await repository.due_silences(session, now, limit)


async def note_silence(
    session: AsyncSession, row: DeviceStatus, now: datetime, *, alert: bool
) -> DeviceSilent | None:
    """Deal with a due silence once: raise it, or (``alert`` false) just note it."""
    state = _silence(row)
    if not engine.is_due(state, now) or state.due_at is None:
        return None
    _set_silence(row, engine.noted(state, now))
    await session.flush()
    if not alert:
        return None
    alarm = Alarm(
        id=new_id(),
        child_id=row.child_id,
        device_id=row.device_id,
        kind="device_silent",
        occurred_at=state.due_at,
        received_at=now,
        last_seen_at=state.last_seen_at,
    )
    await repository.add(session, alarm)
    return DeviceSilent(
        occurred_at=state.due_at,
        alarm_id=alarm.id,
        child_id=row.child_id,
        device_id=row.device_id,
        last_seen_at=state.last_seen_at,
        silent_after_minutes=int((state.due_at - state.last_seen_at).total_seconds() // 60),
    )


async def forget_devices(session: AsyncSession, device_ids: Sequence[uuid.UUID]) -> int:
    """Drop the status of devices that are gone or revoked: nothing to watch any more."""
    if not device_ids:
        return 0
    return await repository.delete_statuses(session, device_ids)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete the status of devices last seen before ``before`` (their next sign of life starts
    afresh)."""
    return await repository.purge_statuses(session, before)
