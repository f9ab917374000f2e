from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.lines.models import Line, ServiceKey


async def add(session: AsyncSession, row: Line | ServiceKey) -> None:
    session.add(row)
    await session.flush()


async def get_line(session: AsyncSession, line_id: uuid.UUID) -> Line | None:
    return await session.get(Line, line_id)


async def get_line_by_msisdn(session: AsyncSession, msisdn: str) -> Line | None:
    result: Line | None = await session.scalar(select(Line).where(Line.msisdn == msisdn))
    return result


async def get_service_key(session: AsyncSession, key_hash: str) -> ServiceKey | None:
    result: ServiceKey | None = await session.scalar(
        select(ServiceKey).where(ServiceKey.key_hash == key_hash)
    )
    return result


async def get_service_key_by_name(session: AsyncSession, name: str) -> ServiceKey | None:
    result: ServiceKey | None = await session.scalar(
        select(ServiceKey).where(ServiceKey.name == name)
    )
    return result
