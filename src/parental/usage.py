"""Wiring screen-time usage into the API: who may upload a child's sessions (the child's paired
device) and who may read them (the child's guardians), and the audit rows the child's device
shows.

Monitoring rules apply to both ends, as for locations: a device of a child no longer monitored
(18, or the line is not an active child SIM under a guardian's contract) stores nothing (403
``MonitoringInactive``), and guardians read nothing of that child (403). Every read a guardian
makes leaves a ``usage.viewed`` audit row the child's device shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.auth.models import Account
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.errors import TooManyRequests
from parental.kit.ratelimit import Rule
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.usage.router import create_device_router, create_guardian_router
from telemetry.usage.service import Limits


def usage_limits(settings: ParentalSettings) -> Limits:
    return Limits(
        max_future_skew=timedelta(seconds=settings.usage_max_future_skew_seconds),
        retention=timedelta(days=settings.usage_retention_days),
    )


@dataclass
class DeviceUploader:
    """The ``Uploader`` of ``telemetry.usage.router``: the calling device of a monitored child."""

    session: AsyncSession
    runtime: Runtime
    child_id: uuid.UUID
    device_id: uuid.UUID

    @property
    def limits(self) -> Limits:
        return usage_limits(self.runtime.settings)

    def now(self) -> datetime:
        return self.runtime.clock.now()


async def device_uploader(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DeviceUploader:
    """The calling device, within its upload rate (429), if monitoring applies to its child
    (403 otherwise)."""
    rule = Rule("usage-upload:device", runtime.settings.limit_usage_uploads_per_device)
    await runtime.limiter.hit(rule, str(device.id))
    child = await children.monitored_child(session, device.child_id, runtime.clock.now())
    return DeviceUploader(session, runtime, child.id, device.id)


@dataclass
class GuardianViewer:
    """The ``Viewer``: a guardian of the child; ``viewed`` checks monitoring and audits."""

    session: AsyncSession
    runtime: Runtime
    child: Child
    account: Account
    ip: str

    @property
    def child_id(self) -> uuid.UUID:
        return self.child.id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.child.timezone)

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        await children.monitored_read(
            self.session,
            self.child,
            self.account,
            now=self.now(),
            action=action,
            ip=self.ip,
            details=details,
        )


async def guardian_viewer(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianViewer:
    """A guardian of the child in the path (404 otherwise)."""
    return GuardianViewer(session, runtime, child, account, ip)


def device_usage_router() -> APIRouter:
    return create_device_router(
        uploader=device_uploader,
        caller_errors=(InvalidDeviceToken, MonitoringInactive, TooManyRequests),
    )


def child_usage_router() -> APIRouter:
    return create_guardian_router(
        viewer=guardian_viewer,
        caller_errors=(InvalidAccessToken, ChildNotFound, MonitoringInactive),
    )
