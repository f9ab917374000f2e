from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth.models import Account
from parental.families.models import Family, Guardian, Invitation


async def add(session: AsyncSession, row: Family | Guardian | Invitation) -> None:
    session.add(row)
    await session.flush()


async def get_family(session: AsyncSession, family_id: uuid.UUID) -> Family | None:
    return await session.get(Family, family_id)


async def membership(session: AsyncSession, account_id: uuid.UUID) -> Guardian | None:
    result: Guardian | None = await session.scalar(
        select(Guardian).where(Guardian.account_id == account_id)
    )
    return result


async def guardians_with_accounts(
    session: AsyncSession, family_id: uuid.UUID
) -> list[tuple[Guardian, Account]]:
    rows = await session.execute(
        select(Guardian, Account)
        .join(Account, Account.id == Guardian.account_id)
        .where(Guardian.family_id == family_id)
        .order_by(Guardian.joined_at)
    )
    return [(g, a) for g, a in rows.all()]


async def guardian_phones(session: AsyncSession, family_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        select(Account.phone)
        .join(Guardian, Guardian.account_id == Account.id)
        .where(Guardian.family_id == family_id)
    )
    return list(rows.all())


async def remove_guardian(
    session: AsyncSession, family_id: uuid.UUID, account_id: uuid.UUID
) -> int:
    result = await session.execute(
        delete(Guardian).where(Guardian.family_id == family_id, Guardian.account_id == account_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_invitation(session: AsyncSession, invitation_id: uuid.UUID) -> Invitation | None:
    return await session.get(Invitation, invitation_id)


async def list_family_invitations(session: AsyncSession, family_id: uuid.UUID) -> list[Invitation]:
    rows = await session.scalars(
        select(Invitation)
        .where(Invitation.family_id == family_id)
        .order_by(Invitation.created_at.desc())
        .limit(200)
    )
    return list(rows.all())


async def list_pending_for_phone(
    session: AsyncSession, phone: str, now: datetime
) -> list[Invitation]:
    rows = await session.scalars(
        select(Invitation)
        .where(
            Invitation.phone == phone,
            Invitation.accepted_at.is_(None),
            Invitation.declined_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc())
    )
    return list(rows.all())


async def purge_closed_invitations(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(Invitation).where(Invitation.expires_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
