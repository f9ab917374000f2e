from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.devices.models import Device, PairingCode


async def add(session: AsyncSession, row: Device | PairingCode) -> None:
    session.add(row)
    await session.flush()


async def get_device(session: AsyncSession, device_id: uuid.UUID) -> Device | None:
    return await session.get(Device, device_id)


async def is_revoked(session: AsyncSession, device_id: uuid.UUID) -> bool:
    """Whether the device is revoked (or gone), read afresh (not from the session's objects)."""
    revoked = await session.execute(select(Device.revoked_at).where(Device.id == device_id))
    row = revoked.first()
    return row is None or row[0] is not None


async def device_by_token(session: AsyncSession, token_hash: str) -> Device | None:
    result: Device | None = await session.scalar(
        select(Device).where(Device.token_hash == token_hash)
    )
    return result


async def list_devices(session: AsyncSession, child_id: uuid.UUID) -> list[Device]:
    rows = await session.scalars(
        select(Device).where(Device.child_id == child_id).order_by(Device.created_at, Device.id)
    )
    return list(rows.all())


async def pairing_code_by_hash(session: AsyncSession, code_hash: str) -> PairingCode | None:
    result: PairingCode | None = await session.scalar(
        select(PairingCode).where(PairingCode.code_hash == code_hash)
    )
    return result


async def use_pairing_code(session: AsyncSession, code_id: uuid.UUID, now: datetime) -> bool:
    """Mark a code used; false if it was used, or expired, before this request got to it."""
    result = await session.execute(
        update(PairingCode)
        .where(
            PairingCode.id == code_id,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def touch(session: AsyncSession, device_id: uuid.UUID, now: datetime) -> None:
    await session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=now))


async def purge_pairing_codes(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(PairingCode).where(
            or_(PairingCode.expires_at < before, PairingCode.used_at < before)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
