"""Every query of the age policy's single row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parental.age_policy.models import SINGLE_ROW, AgePolicyRow
from parental.age_policy.policy import AgePolicy, ordered_bands

_TABLE = AgePolicyRow.metadata.tables[AgePolicyRow.__tablename__]


def policy_of(row: AgePolicyRow) -> AgePolicy:
    return AgePolicy(
        transcripts_under_age=row.transcripts_under_age,
        excerpts_under_age=row.excerpts_under_age,
        listen_age_bands=ordered_bands(row.listen_age_bands),
        child_consent_age=row.child_consent_age,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def stored(session: AsyncSession) -> AgePolicy | None:
    """The carrier's policy as committed (None: it has set none)."""
    row = await session.scalar(select(AgePolicyRow).where(AgePolicyRow.id == SINGLE_ROW))
    return policy_of(row) if row is not None else None


async def locked(session: AsyncSession) -> AgePolicyRow | None:
    """The row, locked until the transaction ends (two changes at once are applied in turn)."""
    query = (
        select(AgePolicyRow)
        .where(AgePolicyRow.id == SINGLE_ROW)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


async def create(session: AsyncSession, policy: AgePolicy, *, at: datetime, by: str) -> bool:
    """Store the first policy; false when another transaction stored one first (then lock and
    change that one)."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_TABLE)
        .values(
            id=SINGLE_ROW,
            **policy.values(),
            updated_at=at,
            updated_by=by,
        )
        .on_conflict_do_nothing(index_elements=[_TABLE.c.id])
        .returning(_TABLE.c.id)
    )
    return (await session.scalar(statement)) is not None
