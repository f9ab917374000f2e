"""Wiring location fixes into the API: who may upload a child's fixes (the child's paired
device, the carrier for the child's line) and who may see them (the child's guardians), what
reacts to new fixes (``fix_listeners``), and the audit rows the child's device shows.

Monitoring rules apply to both ends: a device or line of a child no longer monitored (18, or
the line is not an active child SIM under a guardian's contract) stores nothing, and guardians
read nothing of that child. The device hears it as the same 403 its guardians get; the
carrier's positions are accepted and ignored (202), as for line bindings. So it is when the
location consent was withdrawn (``parental.consent``): the device gets 403
``ConsentRequired``, the carrier's positions are ignored (``no_consent``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from parental.alarms import fix_listener as alarm_listener
from parental.auth import service as auth
from parental.auth.dependencies import BearerCredentials, CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import grants
from parental.children import repository as children_repository
from parental.children import service as children
from parental.children.acting import ChildGuardian
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.children.monitoring import Monitoring
from parental.consent import service as consent
from parental.consent.errors import ConsentRequired
from parental.consent.models import Purpose
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices import repository as devices_repository
from parental.devices.dependencies import CurrentDevice, DeviceCredentials
from parental.devices.errors import InvalidDeviceToken
from parental.kit.cache import Cache
from parental.kit.errors import TooManyRequests
from parental.kit.events import Event
from parental.kit.notices import Notices
from parental.kit.ratelimit import Rule
from parental.lines import repository as lines_repository
from parental.lines import service as lines
from parental.lines.dependencies import CarrierKey
from parental.lines.errors import InvalidMsisdn, InvalidServiceKey, LineInactive, LineNotFound
from parental.notifications.notify import notify
from parental.places import place_tracker
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.locations.fix import FixListener
from telemetry.locations.router import (
    Ignored,
    create_carrier_router,
    create_device_router,
    create_guardian_router,
)
from telemetry.locations.service import Outlets, Policy


def fix_listeners(runtime: Runtime, *, timezone: str | None = None) -> list[FixListener]:
    """What reacts to a child's new fixes, in the transaction that stores them (geofences,
    alarms); the events they return are published once it has committed. ``timezone``: the
    child's, when the caller has it as checked."""
    return [place_tracker(runtime, timezone=timezone), alarm_listener(runtime)]


async def location_listeners(runtime: RuntimeDep) -> list[FixListener]:
    return fix_listeners(runtime)


Listeners = Annotated[list[FixListener], Depends(location_listeners)]


def location_policy(settings: ParentalSettings) -> Policy:
    return Policy(
        max_future_skew=timedelta(seconds=settings.location_max_future_skew_seconds),
        retention=timedelta(days=settings.location_retention_days),
        max_accuracy_m=settings.location_max_accuracy_m,
        carrier_max_accuracy_m=settings.location_carrier_max_accuracy_m,
        carrier_fallback=timedelta(seconds=settings.location_carrier_fallback_seconds),
        cache_seconds=settings.location_latest_cache_seconds,
    )


async def _require_monitoring(session: AsyncSession, child: Child, now: datetime) -> Monitoring:
    status = await children.monitoring_of(session, child, now)
    children.require_monitoring(status)
    return status


@dataclass
class ChildUploader:
    """The ``Uploader`` of ``telemetry.locations.router``: a child's device, or the carrier
    (``device_id`` None) for the child's line."""

    session: AsyncSession
    runtime: Runtime
    child_id: uuid.UUID
    device_id: uuid.UUID | None
    listeners: list[FixListener]

    @property
    def policy(self) -> Policy:
        return location_policy(self.runtime.settings)

    @property
    def outlets(self) -> Outlets:
        return Outlets(self.runtime.cache, self.runtime.notices, self.runtime.bus)

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def record_events(self, events: Sequence[Event]) -> None:
        await notify(self.session, self.runtime, events)


def upload_rule(settings: ParentalSettings) -> Rule:
    return Rule("location-upload:device", settings.limit_location_uploads_per_device)


async def grant_epoch(runtime: RuntimeDep) -> int:
    return runtime.grants.epoch


async def device_uploader(
    # First: FastAPI solves dependencies in this order (see ReadGrants.grant_device).
    epoch: Annotated[int, Depends(grant_epoch)],
    device: CurrentDevice,
    credentials: DeviceCredentials,
    session: SessionDep,
    runtime: RuntimeDep,
    listeners: Listeners,
) -> ChildUploader:
    """The calling device, if monitoring applies to its child (403 otherwise), within its
    upload rate (429). The check passed, the token gets a grant for the fast path
    (``FastUpload``)."""
    await runtime.limiter.hit(upload_rule(runtime.settings), str(device.id))
    now = runtime.clock.now()
    version = await grants.read_version(runtime.cache, device.child_id)
    child, status = await children.monitored(session, device.child_id, now)
    # Without the location consent nothing is stored and no grant is given (a withdrawal
    # voids the grants, so the next upload comes here: parental.consent.router).
    await consent.require(session, runtime.settings, child, Purpose.LOCATION, now)
    if version.known and not await devices_repository.is_revoked(session, device.id):
        assert credentials is not None  # CurrentDevice has authenticated them
        runtime.grants.grant_device(
            credentials.credentials,
            device_id=device.id,
            child=child,
            status=status,
            version=version,
            epoch=epoch,
            now=now,
        )
    return ChildUploader(session, runtime, child.id, device.id, listeners)


@dataclass
class CarrierLocator:
    """The ``LineLocator``: the carrier's positions go to the child on the line, if any."""

    session: AsyncSession
    runtime: Runtime
    listeners: list[FixListener]

    async def uploader(self, msisdn: str) -> ChildUploader | Ignored:
        number = lines.carrier_msisdn(msisdn, self.runtime.settings.carrier_regions)
        line = await lines_repository.get_line_by_msisdn(self.session, number)
        if line is None:
            raise LineNotFound()
        if not line.active:
            raise LineInactive()
        if not line.is_child_sim:
            return Ignored("not_child_sim")
        child = await children_repository.by_line(self.session, line.id)
        if child is None:
            return Ignored("no_child")
        now = self.runtime.clock.now()
        status = await children.monitoring_of(self.session, child, now)
        if not status.active:
            return Ignored("not_monitored")
        state = await consent.of_purpose(
            self.session, self.runtime.settings, child, Purpose.LOCATION, now
        )
        if not state.effective:  # the carrier cannot ask the family: accepted and dropped
            return Ignored("no_consent")
        return ChildUploader(self.session, self.runtime, child.id, None, self.listeners)


async def carrier_locator(
    key: CarrierKey, session: SessionDep, runtime: RuntimeDep, listeners: Listeners
) -> CarrierLocator:
    """Authenticate the carrier first: no line in a path is looked at before that."""
    return CarrierLocator(session, runtime, listeners)


@dataclass
class GuardianViewer(ChildGuardian):
    """The ``Viewer``: a guardian of the child, monitoring applying; every read is audited."""

    @property
    def account_id(self) -> uuid.UUID:
        return self.account.id

    @property
    def policy(self) -> Policy:
        return location_policy(self.runtime.settings)

    @property
    def cache(self) -> Cache:
        return self.runtime.cache

    @property
    def notices(self) -> Notices:
        return self.runtime.notices

    @property
    def stream_heartbeat(self) -> float:
        return self.runtime.settings.location_stream_heartbeat_seconds

    @property
    def stream_lifetime(self) -> float:
        return self.runtime.settings.location_stream_max_seconds

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        await self.audit(action, details)


async def access_version(child_id: uuid.UUID, runtime: RuntimeDep) -> grants.AccessVersion:
    """The child's access version, read before anything is checked."""
    return await grants.read_version(runtime.cache, child_id)


async def guardian_viewer(
    # First: FastAPI solves dependencies in this order, and the version must be read before
    # the checks below read the database (see parental.children.grants).
    version: Annotated[grants.AccessVersion, Depends(access_version)],
    child: OwnedChild,
    account: CurrentAccount,
    credentials: BearerCredentials,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianViewer:
    """A guardian of the child in the path (404 otherwise), while monitoring applies (403).
    The check passed, the token gets a read grant for the fast path (``FastLatest``)."""
    now = runtime.clock.now()
    status = await _require_monitoring(session, child, now)
    assert credentials is not None  # CurrentAccount has authenticated them
    token = credentials.credentials
    runtime.grants.grant(
        token,
        account_id=account.id,
        child=child,
        status=status,
        version=version,
        token_expires=auth.access_token_expiry(runtime, token),
        now=now,
    )
    return GuardianViewer(session, runtime, child, account, ip)


def device_locations_router() -> APIRouter:
    return create_device_router(
        uploader=device_uploader,
        caller_errors=(InvalidDeviceToken, MonitoringInactive, ConsentRequired, TooManyRequests),
    )


def carrier_locations_router() -> APIRouter:
    return create_carrier_router(
        locator=carrier_locator,
        caller_errors=(InvalidServiceKey, InvalidMsisdn, LineNotFound, LineInactive),
    )


def child_locations_router() -> APIRouter:
    return create_guardian_router(
        viewer=guardian_viewer,
        caller_errors=(InvalidAccessToken, ChildNotFound, MonitoringInactive),
    )
