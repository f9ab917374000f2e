"""Wiring screen-time rules into the API: who may set a child's rules (the child's guardians),
who may fetch the policy they make (the child's paired device), and the audit rows the
child's device shows.

- Any guardian of the child reads the rules (404 for anyone else); they are the guardian's own
  settings, not the child's monitored data, so reading them is not audited.
- Changes (the rules, a pause, its end, extra time) are refused once monitoring no longer
  applies to the child (403 ``MonitoringInactive``: 18, or the line is not an active child SIM
  under a guardian's contract), and each leaves an audit row the child's device shows.
- The device fetches its policy while monitoring applies (403 afterwards, so the agent knows
  to stop enforcing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import service as audit
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
from parental.runtime import Runtime
from telemetry.usage.rules.router import create_device_router, create_guardian_router


@dataclass
class GuardianEditor:
    """The ``Editor`` of ``telemetry.usage.rules.router``: a guardian of the child."""

    session: AsyncSession
    runtime: Runtime
    child: Child
    account: Account
    ip: str

    @property
    def child_id(self) -> uuid.UUID:
        return self.child.id

    @property
    def account_id(self) -> str:
        return str(self.account.id)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.child.timezone)

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def changed(self, action: str, details: dict[str, Any]) -> None:
        now = self.now()
        if not (await children.monitoring_of(self.session, self.child, now)).active:
            raise MonitoringInactive()
        await audit.record(
            self.session,
            at=now,
            action=action,
            actor=audit.Actor("guardian", self.account_id),
            family_id=self.child.family_id,
            child_id=self.child.id,
            subject_type="child",
            subject_id=self.child.id,
            child_visible=True,
            ip=self.ip,
            details=details,
        )


async def guardian_editor(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianEditor:
    """A guardian of the child in the path (404 otherwise)."""
    return GuardianEditor(session, runtime, child, account, ip)


@dataclass
class DevicePolicyReader:
    """The ``PolicyReader``: the calling device of a monitored child."""

    session: AsyncSession
    runtime: Runtime
    child: Child

    @property
    def child_id(self) -> uuid.UUID:
        return self.child.id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.child.timezone)

    def now(self) -> datetime:
        return self.runtime.clock.now()


async def device_policy_reader(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DevicePolicyReader:
    """The calling device, if monitoring applies to its child (403 otherwise)."""
    child = await children.monitored_child(session, device.child_id, runtime.clock.now())
    return DevicePolicyReader(session, runtime, child)


def child_screen_time_router() -> APIRouter:
    return create_guardian_router(
        editor=guardian_editor,
        caller_errors=(InvalidAccessToken, ChildNotFound),
        change_errors=(MonitoringInactive,),
    )


def device_policy_router() -> APIRouter:
    return create_device_router(
        reader=device_policy_reader,
        caller_errors=(InvalidDeviceToken, MonitoringInactive),
    )
