from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.admin.models import StaffAccount


async def add(session: AsyncSession, row: StaffAccount) -> None:
    session.add(row)
    await session.flush()


async def get(session: AsyncSession, staff_id: uuid.UUID) -> StaffAccount | None:
    return await session.get(StaffAccount, staff_id)


async def by_username(session: AsyncSession, username: str) -> StaffAccount | None:
    result: StaffAccount | None = await session.scalar(
        select(StaffAccount).where(StaffAccount.username == username)
    )
    return result


async def spend_totp_step(session: AsyncSession, staff_id: uuid.UUID, step: int) -> bool:
    """Record ``step`` as the account's last accepted code if it is newer than the last one;
    False when it is not (a replay). One statement, so two requests cannot both spend it."""
    result = await session.execute(
        update(StaffAccount)
        .where(
            StaffAccount.id == staff_id,
            or_(StaffAccount.totp_last_step.is_(None), StaffAccount.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
