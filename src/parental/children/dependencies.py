from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from parental.auth.dependencies import CurrentAccount
from parental.children import service
from parental.children.models import Child
from parental.deps import SessionDep


async def owned_child(child_id: uuid.UUID, account: CurrentAccount, session: SessionDep) -> Child:
    """The child in the path, if the caller is one of the child's guardians (404 otherwise)."""
    return await service.guardian_child(session, account, child_id)


OwnedChild = Annotated[Child, Depends(owned_child)]
