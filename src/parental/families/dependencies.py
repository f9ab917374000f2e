from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from parental.auth.dependencies import CurrentAccount
from parental.deps import SessionDep
from parental.families import service
from parental.families.models import Family, Invitation


async def owned_family(
    family_id: uuid.UUID, account: CurrentAccount, session: SessionDep
) -> Family:
    """The family in the path, if the caller is one of its guardians (404 otherwise)."""
    return await service.guardian_family(session, account, family_id)


OwnedFamily = Annotated[Family, Depends(owned_family)]


async def family_invitation(
    invitation_id: uuid.UUID, family: OwnedFamily, session: SessionDep
) -> Invitation:
    return await service.family_invitation(session, family, invitation_id)


async def addressed_invitation(
    invitation_id: uuid.UUID, account: CurrentAccount, session: SessionDep
) -> Invitation:
    return await service.addressed_invitation(session, account, invitation_id)


FamilyInvitation = Annotated[Invitation, Depends(family_invitation)]
AddressedInvitation = Annotated[Invitation, Depends(addressed_invitation)]
