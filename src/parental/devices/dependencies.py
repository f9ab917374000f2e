from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parental.auth.dependencies import CurrentAccount
from parental.deps import RuntimeDep, SessionDep
from parental.devices import service
from parental.devices.errors import InvalidDeviceToken
from parental.devices.models import Device

device_bearer = HTTPBearer(
    auto_error=False, scheme_name="DeviceToken", description="Device token from pairing (dt_...)"
)


async def current_device(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(device_bearer)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> Device:
    """The calling child device; 401 for parent, staff, revoked or unknown tokens."""
    if credentials is None:
        raise InvalidDeviceToken()
    return await service.authenticate(session, runtime, credentials.credentials)


async def owned_device(
    device_id: uuid.UUID, account: CurrentAccount, session: SessionDep
) -> Device:
    """The device in the path, if it belongs to a child of the caller's family (404 otherwise)."""
    return await service.guardian_device(session, account, device_id)


CurrentDevice = Annotated[Device, Depends(current_device)]
DeviceCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(device_bearer)]
OwnedDevice = Annotated[Device, Depends(owned_device)]
