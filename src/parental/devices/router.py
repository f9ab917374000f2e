"""Routes for guardians managing devices, and for the child's device itself (``/device``)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, status

from parental.audit import service as audit
from parental.audit.schemas import AuditEventPage
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children_repository
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound
from parental.children.schemas import MonitoringRead
from parental.deps import ClientIP, ClockDep, RuntimeDep, SessionDep
from parental.devices import service
from parental.devices.dependencies import CurrentDevice, OwnedDevice
from parental.devices.errors import (
    DeviceNotFound,
    InvalidDeviceToken,
    InvalidPairingCode,
    PairingLocked,
)
from parental.devices.schemas import (
    DeviceChildRead,
    DevicePage,
    DevicePair,
    DevicePaired,
    DeviceRead,
    DeviceSelf,
    DeviceUpdate,
    PairingCodeRead,
)
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.kit.ratelimit import RateLimitUnavailable

guardian_router = APIRouter(tags=["devices"], responses=error_responses(InvalidAccessToken))
device_router = APIRouter(tags=["device agent"])


@guardian_router.post(
    "/children/{child_id}/pairing-codes",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(ChildNotFound),
)
async def create_pairing_code(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> PairingCodeRead:
    """A one-time code (10 minutes) to pair the child's device."""
    issued = await service.create_pairing_code(
        session, runtime, child=child, account=account, ip=ip
    )
    return PairingCodeRead(code=issued.code, expires_at=issued.expires_at)


@guardian_router.get("/children/{child_id}/devices", responses=error_responses(ChildNotFound))
async def list_devices(child: OwnedChild, session: SessionDep) -> DevicePage:
    """The child's paired devices, revoked ones included."""
    rows = await service.list_devices(session, child)
    return DevicePage(items=[DeviceRead.model_validate(d) for d in rows])


@guardian_router.get("/devices/{device_id}", responses=error_responses(DeviceNotFound))
async def get_device(device: OwnedDevice) -> DeviceRead:
    """One device of a child in the caller's family."""
    return DeviceRead.model_validate(device)


@guardian_router.patch("/devices/{device_id}", responses=error_responses(DeviceNotFound))
async def update_device(body: DeviceUpdate, device: OwnedDevice) -> DeviceRead:
    """Rename a device."""
    if body.name is not None:
        device.name = body.name
    return DeviceRead.model_validate(device)


@guardian_router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(DeviceNotFound),
)
async def revoke_device(
    device: OwnedDevice,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    background: BackgroundTasks,
) -> None:
    """Revoke a device; its token stops working at once."""
    now = runtime.clock.now()
    await service.revoke_device(session, device=device, account=account, now=now, ip=ip)
    # After commit (background tasks run once the response is sent): the device's upload
    # grant and the filter subject of its token, in every process.
    background.add_task(runtime.revoke_access, [device.child_id])


@device_router.post(
    "/device/pair",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        InvalidPairingCode, TooManyRequests, PairingLocked, RateLimitUnavailable
    ),
)
async def pair_device(
    body: DevicePair, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> DevicePaired:
    """Redeem a guardian's pairing code for this device's token."""
    paired = await service.pair_device(
        session, runtime, code=body.code, name=body.name, platform=body.platform, ip=ip
    )
    return DevicePaired(
        device_id=paired.device.id, child_id=paired.device.child_id, device_token=paired.token
    )


@device_router.get("/device", responses=error_responses(InvalidDeviceToken))
async def get_own_device(device: CurrentDevice, session: SessionDep, clock: ClockDep) -> DeviceSelf:
    """This device, its child, and whether monitoring is active (always shown to the child)."""
    child = await children_repository.get(session, device.child_id)
    assert child is not None  # devices.child_id is a foreign key with cascade
    status_ = await children.monitoring_of(session, child, clock.now())
    return DeviceSelf(
        device=DeviceRead.model_validate(device),
        child=DeviceChildRead(
            id=child.id, name=child.name, birthdate=child.birthdate, timezone=child.timezone
        ),
        monitoring=MonitoringRead(
            active=status_.active, ends_on=status_.ends_on, reasons=status_.reasons
        ),
    )


@device_router.get(
    "/device/audit-events", responses=error_responses(InvalidDeviceToken, InvalidCursor)
)
async def list_own_audit_events(
    device: CurrentDevice,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> AuditEventPage:
    """What guardians did that concerns this child ("your parent checked your location")."""
    return await audit.child_page(
        session, device.child_id, limit=limit, cursor=cursor, child_visible_only=True
    )
