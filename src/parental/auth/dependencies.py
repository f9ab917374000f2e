from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parental.auth import service
from parental.auth.errors import InvalidAccessToken
from parental.auth.models import Account
from parental.deps import RuntimeDep, SessionDep

bearer = HTTPBearer(auto_error=False, description="Access token from /v1/auth/tokens")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_account(
    credentials: BearerCredentials, session: SessionDep, runtime: RuntimeDep
) -> Account:
    """The signed-in parent; 401 for a missing, expired, device or staff token."""
    if credentials is None:
        raise InvalidAccessToken()
    return await service.authenticate(session, runtime, credentials.credentials)


CurrentAccount = Annotated[Account, Depends(current_account)]
