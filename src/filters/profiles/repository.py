from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.profiles.models import FilterProfile, FilterProfileEntry


async def add(session: AsyncSession, row: FilterProfile | FilterProfileEntry) -> None:
    session.add(row)
    await session.flush()


async def by_child(session: AsyncSession, child_id: uuid.UUID) -> FilterProfile | None:
    result: FilterProfile | None = await session.scalar(
        select(FilterProfile).where(FilterProfile.child_id == child_id)
    )
    return result


async def get(session: AsyncSession, profile_id: uuid.UUID) -> FilterProfile | None:
    return await session.get(FilterProfile, profile_id)


async def entries(session: AsyncSession, profile_id: uuid.UUID) -> list[FilterProfileEntry]:
    rows = await session.scalars(
        select(FilterProfileEntry)
        .where(FilterProfileEntry.profile_id == profile_id)
        .order_by(FilterProfileEntry.created_at, FilterProfileEntry.id)
    )
    return list(rows.all())


async def delete(session: AsyncSession, row: FilterProfileEntry) -> None:
    await session.delete(row)
    await session.flush()
