"""Every SQL statement of the alarms domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, and_, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.alarms.models import Alarm, AlarmSettings, DeviceStatus, LineHandset


def _insert(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT for the engine in use (both speak it)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def _deleted(session: AsyncSession, statement: Delete) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


async def add(session: AsyncSession, row: Alarm | DeviceStatus) -> None:
    session.add(row)
    await session.flush()


async def insert_alarm_once(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert an alarm unless one with its ``dedup_key`` exists; whether it was inserted."""
    result: Any = await session.execute(
        _insert(session)(Alarm).values(values).on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    return bool(result.rowcount)


async def alarm_by_key(session: AsyncSession, dedup_key: str) -> Alarm | None:
    result: Alarm | None = await session.scalar(select(Alarm).where(Alarm.dedup_key == dedup_key))
    return result


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    kind: str | None,
) -> list[Alarm]:
    """The child's alarms, newest first, ``limit`` of them after the keyset ``after``."""
    query = select(Alarm).where(Alarm.child_id == child_id)
    if kind is not None:
        query = query.where(Alarm.kind == kind)
    if after is not None:
        at, row_id = after
        query = query.where(
            or_(Alarm.occurred_at < at, and_(Alarm.occurred_at == at, Alarm.id < row_id))
        )
    query = query.order_by(Alarm.occurred_at.desc(), Alarm.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def settings_of(session: AsyncSession, child_id: uuid.UUID) -> AlarmSettings | None:
    return await session.get(AlarmSettings, child_id)


async def save_settings(session: AsyncSession, values: dict[str, Any]) -> AlarmSettings:
    """Insert or overwrite a child's settings (two guardians saving at once: the last wins)."""
    statement = _insert(session)(AlarmSettings).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["child_id"],
            set_={k: statement.excluded[k] for k in values if k != "child_id"},
        )
    )
    row: AlarmSettings | None = await session.scalar(
        select(AlarmSettings)
        .where(AlarmSettings.child_id == values["child_id"])
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def status_for_update(session: AsyncSession, device_id: uuid.UUID) -> DeviceStatus | None:
    """The device's status row, locked until the transaction ends (PostgreSQL)."""
    result: DeviceStatus | None = await session.scalar(
        select(DeviceStatus)
        .where(DeviceStatus.device_id == device_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result


# Built once: every upload runs it.
_STATUS_AND_SETTINGS = (
    select(DeviceStatus, AlarmSettings)
    .outerjoin(AlarmSettings, AlarmSettings.child_id == DeviceStatus.child_id)
    .where(DeviceStatus.device_id == bindparam("device_id"))
    .with_for_update(of=DeviceStatus)
    .execution_options(populate_existing=True)
)


_STATUSES_AND_SETTINGS = (
    select(DeviceStatus, AlarmSettings)
    .outerjoin(AlarmSettings, AlarmSettings.child_id == DeviceStatus.child_id)
    .where(DeviceStatus.device_id.in_(bindparam("device_ids", expanding=True)))
    .order_by(DeviceStatus.device_id)
    .with_for_update(of=DeviceStatus)
    .execution_options(populate_existing=True)
)


async def statuses_and_settings_for_update(
    session: AsyncSession, device_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[DeviceStatus, AlarmSettings | None]]:
    """``status_and_settings_for_update`` for several devices in one statement, locked in
    device id order; devices without a status row yet are left out."""
    rows = await session.execute(_STATUSES_AND_SETTINGS, {"device_ids": list(device_ids)})
    return {status.device_id: (status, settings) for status, settings in rows}


async def status_and_settings_for_update(
    session: AsyncSession, device_id: uuid.UUID
) -> tuple[DeviceStatus, AlarmSettings | None] | None:
    """The device's status row, locked (PostgreSQL), with its child's settings (None: the
    defaults), in one round trip; None when the device has no status row yet."""
    found = (await session.execute(_STATUS_AND_SETTINGS, {"device_id": device_id})).first()
    return None if found is None else (found[0], found[1])


async def create_status(session: AsyncSession, values: dict[str, Any]) -> DeviceStatus:
    """The device's status row, made from ``values`` unless another request made it first."""
    await session.execute(
        _insert(session)(DeviceStatus)
        .values(values)
        .on_conflict_do_nothing(index_elements=["device_id"])
    )
    row = await status_for_update(session, values["device_id"])
    assert row is not None
    return row


async def statuses_of_child(session: AsyncSession, child_id: uuid.UUID) -> list[DeviceStatus]:
    query = select(DeviceStatus).where(DeviceStatus.child_id == child_id).with_for_update()
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def statuses_to_show(session: AsyncSession, child_id: uuid.UUID) -> list[DeviceStatus]:
    query = select(DeviceStatus).where(DeviceStatus.child_id == child_id)
    return list(await session.scalars(query.order_by(DeviceStatus.last_seen_at.desc())))


async def due_silences(session: AsyncSession, now: datetime, limit: int) -> list[DeviceStatus]:
    """Devices whose silence deadline has passed, oldest first; rows another worker is handling
    are skipped (PostgreSQL), so two workers never raise the same silence."""
    query = (
        select(DeviceStatus)
        .where(DeviceStatus.silent_due_at < now)
        .order_by(DeviceStatus.silent_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(query))


async def delete_statuses(session: AsyncSession, device_ids: Sequence[uuid.UUID]) -> int:
    return await _deleted(
        session, delete(DeviceStatus).where(DeviceStatus.device_id.in_(device_ids))
    )


async def handset_for_update(session: AsyncSession, line_id: uuid.UUID) -> LineHandset | None:
    result: LineHandset | None = await session.scalar(
        select(LineHandset)
        .where(LineHandset.line_id == line_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result


async def insert_handset(session: AsyncSession, values: dict[str, Any]) -> bool:
    """The line's first handset; false if another report made the row first."""
    result: Any = await session.execute(
        _insert(session)(LineHandset)
        .values(values)
        .on_conflict_do_nothing(index_elements=["line_id"])
    )
    return bool(result.rowcount)


async def purge_alarms(session: AsyncSession, before: datetime) -> int:
    return await _deleted(session, delete(Alarm).where(Alarm.occurred_at < before))


async def purge_statuses(session: AsyncSession, before: datetime) -> int:
    return await _deleted(session, delete(DeviceStatus).where(DeviceStatus.last_seen_at < before))


async def purge_handsets(session: AsyncSession, before: datetime) -> int:
    return await _deleted(session, delete(LineHandset).where(LineHandset.observed_at < before))


async def erase_child(
    session: AsyncSession, child_id: uuid.UUID, line_id: uuid.UUID
) -> dict[str, int]:
    return {
        "alarms": await _deleted(session, delete(Alarm).where(Alarm.child_id == child_id)),
        "alarm_settings": await _deleted(
            session, delete(AlarmSettings).where(AlarmSettings.child_id == child_id)
        ),
        "device_statuses": await _deleted(
            session, delete(DeviceStatus).where(DeviceStatus.child_id == child_id)
        ),
        "handsets": await _deleted(
            session, delete(LineHandset).where(LineHandset.line_id == line_id)
        ),
    }
