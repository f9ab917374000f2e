from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parental.admin import service
from parental.admin.errors import InvalidStaffToken
from parental.admin.models import StaffAccount
from parental.deps import RuntimeDep, SessionDep

staff_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffToken",
    description="Staff access token from /admin/v1/auth/tokens",
)


async def current_staff(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(staff_bearer)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> StaffAccount:
    """The signed-in curator or admin; parent and device tokens are refused (401)."""
    if credentials is None:
        raise InvalidStaffToken()
    return await service.authenticate(session, runtime, credentials.credentials)


CurrentStaff = Annotated[StaffAccount, Depends(current_staff)]
