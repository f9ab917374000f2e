from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parental.deps import RuntimeDep, SessionDep
from parental.lines import service
from parental.lines.errors import InvalidServiceKey
from parental.lines.models import ServiceKey

carrier_bearer = HTTPBearer(
    auto_error=False, scheme_name="CarrierServiceKey", description="Carrier service key (sk_...)"
)


async def carrier_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(carrier_bearer)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> ServiceKey:
    """The carrier system calling; 401 for parent, device or unknown tokens."""
    if credentials is None:
        raise InvalidServiceKey()
    return await service.authenticate_service_key(
        session, key=credentials.credentials, secret=runtime.secret
    )


CarrierKey = Annotated[ServiceKey, Depends(carrier_key)]
