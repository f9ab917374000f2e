from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, status

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children_repository
from parental.deps import ClientIP, ClockDep, RuntimeDep, SessionDep
from parental.families import service
from parental.families.dependencies import AddressedInvitation, FamilyInvitation, OwnedFamily
from parental.families.errors import (
    AlreadyInFamily,
    CannotRemoveOwner,
    FamilyNotFound,
    GuardianNotFound,
    InvitationClosed,
    InvitationNotFound,
    InvitationPending,
    OwnerOnly,
)
from parental.families.schemas import (
    FamilyCreate,
    FamilyRead,
    FamilyUpdate,
    InvitationCreate,
    InvitationPage,
    InvitationRead,
)
from parental.kit.errors import error_responses
from parental.sms.sender import SmsRejected, SmsUnavailable

router = APIRouter(tags=["families"], responses=error_responses(InvalidAccessToken))


@router.post(
    "/families",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(AlreadyInFamily),
)
async def create_family(
    body: FamilyCreate, account: CurrentAccount, session: SessionDep, clock: ClockDep, ip: ClientIP
) -> FamilyRead:
    """Create a family; the caller becomes its owner."""
    family = await service.create_family(
        session, account=account, name=body.name, now=clock.now(), ip=ip
    )
    return await service.describe(session, family)


@router.get("/families/{family_id}", responses=error_responses(FamilyNotFound))
async def get_family(family: OwnedFamily, session: SessionDep) -> FamilyRead:
    """A family and its guardians."""
    return await service.describe(session, family)


@router.patch("/families/{family_id}", responses=error_responses(FamilyNotFound))
async def update_family(body: FamilyUpdate, family: OwnedFamily, session: SessionDep) -> FamilyRead:
    """Rename a family."""
    if body.name is not None:
        family.name = body.name
    return await service.describe(session, family)


@router.delete(
    "/families/{family_id}/guardians/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(FamilyNotFound, GuardianNotFound, OwnerOnly, CannotRemoveOwner),
)
async def remove_guardian(
    account_id: uuid.UUID,
    family: OwnedFamily,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    background: BackgroundTasks,
) -> None:
    """Remove a guardian (the owner), or leave the family (oneself)."""
    await service.remove_guardian(
        session,
        family=family,
        actor=account,
        account_id=account_id,
        now=runtime.clock.now(),
        ip=ip,
    )
    children = [
        child.id for child, _ in await children_repository.list_with_lines(session, family.id)
    ]
    background.add_task(runtime.revoke_access, children)


@router.post(
    "/families/{family_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        FamilyNotFound, AlreadyInFamily, InvitationPending, SmsRejected, SmsUnavailable
    ),
)
async def create_invitation(
    body: InvitationCreate,
    family: OwnedFamily,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> InvitationRead:
    """Invite another guardian by phone number; they get an SMS."""
    invitation = await service.invite(
        session, runtime, family=family, inviter=account, phone=body.phone, ip=ip
    )
    return service.invitation_read(invitation, runtime.clock.now())


@router.get("/families/{family_id}/invitations", responses=error_responses(FamilyNotFound))
async def list_family_invitations(
    family: OwnedFamily, session: SessionDep, clock: ClockDep
) -> InvitationPage:
    """The family's invitations, newest first."""
    now = clock.now()
    rows = await service.list_family_invitations(session, family)
    return InvitationPage(items=[service.invitation_read(i, now) for i in rows])


@router.delete(
    "/families/{family_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(FamilyNotFound, InvitationNotFound, InvitationClosed),
)
async def revoke_invitation(
    invitation: FamilyInvitation, account: CurrentAccount, session: SessionDep, clock: ClockDep
) -> None:
    """Withdraw a pending invitation."""
    await service.revoke_invitation(session, invitation=invitation, actor=account, now=clock.now())


@router.get("/invitations")
async def list_my_invitations(
    account: CurrentAccount, session: SessionDep, clock: ClockDep
) -> InvitationPage:
    """Pending invitations addressed to the caller's phone number."""
    now = clock.now()
    rows = await service.my_invitations(session, account, now)
    return InvitationPage(items=[service.invitation_read(i, now) for i in rows])


@router.post(
    "/invitations/{invitation_id}/accept",
    responses=error_responses(InvitationNotFound, InvitationClosed, AlreadyInFamily),
)
async def accept_invitation(
    invitation: AddressedInvitation,
    account: CurrentAccount,
    session: SessionDep,
    clock: ClockDep,
    ip: ClientIP,
) -> InvitationRead:
    """Join the family that invited the caller."""
    now = clock.now()
    await service.answer_invitation(
        session, invitation=invitation, account=account, accept=True, now=now, ip=ip
    )
    return service.invitation_read(invitation, now)


@router.post(
    "/invitations/{invitation_id}/decline",
    responses=error_responses(InvitationNotFound, InvitationClosed),
)
async def decline_invitation(
    invitation: AddressedInvitation,
    account: CurrentAccount,
    session: SessionDep,
    clock: ClockDep,
    ip: ClientIP,
) -> InvitationRead:
    """Decline an invitation addressed to the caller."""
    now = clock.now()
    await service.answer_invitation(
        session, invitation=invitation, account=account, accept=False, now=now, ip=ip
    )
    return service.invitation_read(invitation, now)
