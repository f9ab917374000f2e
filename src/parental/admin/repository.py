from __future__ import annotations

import uuid

from sqlalchemy import select
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
