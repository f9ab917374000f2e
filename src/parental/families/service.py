"""Families, their guardians, and invitations to join them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from parental import i18n
from parental.audit import service as audit
from parental.auth.models import Account
from parental.families import repository
from parental.families.errors import (
    AlreadyInFamily,
    CannotRemoveOwner,
    FamilyNotFound,
    GuardianNotFound,
    InvitationClosed,
    InvitationNotFound,
    InvitationPending,
    NoFamily,
    OwnerOnly,
)
from parental.families.models import Family, Guardian, Invitation
from parental.families.schemas import FamilyRead, GuardianRead, InvitationRead
from parental.runtime import Runtime

InvitationStatus = Literal["pending", "accepted", "declined", "revoked", "expired"]


async def create_family(
    session: AsyncSession, *, account: Account, name: str, now: datetime, ip: str | None = None
) -> Family:
    """Create a family with ``account`` as its owner."""
    if await repository.membership(session, account.id) is not None:
        raise AlreadyInFamily()
    family = Family(name=name, created_at=now)
    await repository.add(session, family)
    await repository.add(
        session, Guardian(family_id=family.id, account_id=account.id, role="owner", joined_at=now)
    )
    await audit.record(
        session,
        at=now,
        action="family.created",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=family.id,
        subject_type="family",
        subject_id=family.id,
        ip=ip,
    )
    return family


async def family_of(session: AsyncSession, account: Account) -> Guardian | None:
    """The account's membership, if it belongs to a family."""
    return await repository.membership(session, account.id)


async def require_family_of(session: AsyncSession, account: Account) -> Guardian:
    membership = await repository.membership(session, account.id)
    if membership is None:
        raise NoFamily()
    return membership


async def guardian_family(session: AsyncSession, account: Account, family_id: uuid.UUID) -> Family:
    """The family ``family_id`` if ``account`` is one of its guardians; 404 otherwise."""
    membership = await repository.membership(session, account.id)
    if membership is None or membership.family_id != family_id:
        raise FamilyNotFound()
    family = await repository.get_family(session, family_id)
    if family is None:
        raise FamilyNotFound()
    return family


async def describe(session: AsyncSession, family: Family) -> FamilyRead:
    members = await repository.guardians_with_accounts(session, family.id)
    return FamilyRead(
        id=family.id,
        name=family.name,
        created_at=family.created_at,
        guardians=[
            GuardianRead(
                account_id=a.id,
                phone=a.phone,
                role="owner" if g.role == "owner" else "guardian",
                joined_at=g.joined_at,
            )
            for g, a in members
        ],
    )


async def guardian_phones(session: AsyncSession, family_id: uuid.UUID) -> list[str]:
    return await repository.guardian_phones(session, family_id)


async def remove_guardian(
    session: AsyncSession,
    *,
    family: Family,
    actor: Account,
    account_id: uuid.UUID,
    now: datetime,
    ip: str | None = None,
) -> None:
    """The owner removes a guardian, or a guardian leaves; the owner cannot be removed."""
    actor_membership = await repository.membership(session, actor.id)
    target = await repository.membership(session, account_id)
    if target is None or target.family_id != family.id:
        raise GuardianNotFound()
    if target.role == "owner":
        raise CannotRemoveOwner()
    if account_id != actor.id and (actor_membership is None or actor_membership.role != "owner"):
        raise OwnerOnly()
    await repository.remove_guardian(session, family.id, account_id)
    await audit.record(
        session,
        at=now,
        action="family.guardian_removed",
        actor=audit.Actor("guardian", str(actor.id)),
        family_id=family.id,
        subject_type="account",
        subject_id=account_id,
        ip=ip,
    )


def invitation_status(invitation: Invitation, now: datetime) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.declined_at is not None:
        return "declined"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def invitation_read(invitation: Invitation, now: datetime) -> InvitationRead:
    return InvitationRead(
        id=invitation.id,
        family_id=invitation.family_id,
        phone=invitation.phone,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        status=invitation_status(invitation, now),
    )


async def invite(
    session: AsyncSession,
    runtime: Runtime,
    *,
    family: Family,
    inviter: Account,
    phone: str,
    ip: str | None = None,
) -> Invitation:
    """Invite the holder of ``phone`` to be a guardian, and tell them by SMS."""
    now = runtime.clock.now()
    if phone in await repository.guardian_phones(session, family.id):
        raise AlreadyInFamily("This number is already a guardian of this family.")
    pending = await repository.list_pending_for_phone(session, phone, now)
    if any(i.family_id == family.id for i in pending):
        raise InvitationPending()
    invitation = Invitation(
        family_id=family.id,
        invited_by=inviter.id,
        phone=phone,
        created_at=now,
        expires_at=now + timedelta(days=runtime.settings.invitation_ttl_days),
    )
    await repository.add(session, invitation)
    await audit.record(
        session,
        at=now,
        action="family.invitation_sent",
        actor=audit.Actor("guardian", str(inviter.id)),
        family_id=family.id,
        subject_type="invitation",
        subject_id=invitation.id,
        ip=ip,
    )
    locale: i18n.Locale = inviter.locale if inviter.locale in ("kk", "ru", "en") else "kk"  # type: ignore[assignment]
    await runtime.sms.send(
        phone, i18n.text("sms.invitation", locale, inviter=inviter.phone, family=family.name)
    )
    return invitation


async def family_invitation(
    session: AsyncSession, family: Family, invitation_id: uuid.UUID
) -> Invitation:
    invitation = await repository.get_invitation(session, invitation_id)
    if invitation is None or invitation.family_id != family.id:
        raise InvitationNotFound()
    return invitation


async def list_family_invitations(session: AsyncSession, family: Family) -> list[Invitation]:
    return await repository.list_family_invitations(session, family.id)


async def revoke_invitation(
    session: AsyncSession, *, invitation: Invitation, actor: Account, now: datetime
) -> None:
    if invitation_status(invitation, now) != "pending":
        raise InvitationClosed()
    invitation.revoked_at = now
    await audit.record(
        session,
        at=now,
        action="family.invitation_revoked",
        actor=audit.Actor("guardian", str(actor.id)),
        family_id=invitation.family_id,
        subject_type="invitation",
        subject_id=invitation.id,
    )


async def my_invitations(
    session: AsyncSession, account: Account, now: datetime
) -> list[Invitation]:
    return await repository.list_pending_for_phone(session, account.phone, now)


async def addressed_invitation(
    session: AsyncSession, account: Account, invitation_id: uuid.UUID
) -> Invitation:
    """An invitation addressed to ``account``'s phone; 404 for anyone else's."""
    invitation = await repository.get_invitation(session, invitation_id)
    if invitation is None or invitation.phone != account.phone:
        raise InvitationNotFound()
    return invitation


async def answer_invitation(
    session: AsyncSession,
    *,
    invitation: Invitation,
    account: Account,
    accept: bool,
    now: datetime,
    ip: str | None = None,
) -> Invitation:
    """Accept (join the family) or decline an invitation addressed to ``account``."""
    if invitation_status(invitation, now) != "pending":
        raise InvitationClosed()
    if accept:
        if await repository.membership(session, account.id) is not None:
            raise AlreadyInFamily()
        await repository.add(
            session,
            Guardian(
                family_id=invitation.family_id,
                account_id=account.id,
                role="guardian",
                joined_at=now,
            ),
        )
        invitation.accepted_at = now
    else:
        invitation.declined_at = now
    await audit.record(
        session,
        at=now,
        action="family.invitation_accepted" if accept else "family.invitation_declined",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=invitation.family_id,
        subject_type="invitation",
        subject_id=invitation.id,
        ip=ip,
    )
    return invitation
