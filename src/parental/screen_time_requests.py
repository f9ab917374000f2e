"""Wiring the child's screen-time requests and tasks into the API: the child's paired device
asks (extra time, an app install) and marks tasks done; the child's guardians answer, set and
remove tasks (``telemetry.usage.requests.service`` and ``telemetry.usage.tasks.service`` say how).

- A guardian of another family gets 404 for the child and everything under it; a device sees
  and acts on its own child's requests and tasks only (another child's ids are 404).
- Monitoring rules apply to both ends, as for the rules themselves: once monitoring no longer
  applies to the child (18, or the line is not an active child SIM under a guardian's
  contract), both get 403 ``MonitoringInactive``.
- Every guardian answer and task change, and every request and task marked done by the
  device, leaves an audit row the child's device shows. An answer that changes the device's
  policy (extra time granted, a task's reward, any install answer) wakes the child's devices
  with an FCM data message (``sync_policy``).
- The device's writes are held to ``limit_screen_time_requests_per_device`` (429), and a child
  has at most ``screen_time_max_pending_requests`` requests waiting (409).
- New requests and tasks marked done are published on the event bus once committed, for the
  notification side to push to the guardians.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.acting import ChildDevice, ChildGuardian
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.commands.push import wake_for_policy
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.errors import TooManyRequests
from parental.kit.events import Event
from parental.kit.ratelimit import Rule
from telemetry.usage.requests import router as requests_router
from telemetry.usage.tasks import router as tasks_router


@dataclass
class GuardianCaller(ChildGuardian):
    """The ``Guardian`` of ``telemetry.usage.requests.router``."""

    @property
    def account_id(self) -> str:
        return str(self.account.id)

    async def changed(
        self,
        action: str,
        subject_type: str,
        subject_id: uuid.UUID,
        details: dict[str, Any],
        *,
        policy_changed: bool,
    ) -> None:
        await self.audit(action, details, subject=(subject_type, subject_id))
        if policy_changed:
            await wake_for_policy(self.session, self.child_id, now=self.now())


async def guardian_caller(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianCaller:
    """A guardian of the child in the path (404 otherwise), while monitoring applies to the
    child (403 otherwise)."""
    guardian = GuardianCaller(session, runtime, child, account, ip)
    await guardian.require_monitoring()
    return guardian


@dataclass
class DeviceCaller(ChildDevice):
    """The ``ChildDevice``: the calling device of a monitored child."""

    @property
    def max_pending_requests(self) -> int:
        return self.runtime.settings.screen_time_max_pending_requests

    async def did(
        self, action: str, subject_type: str, subject_id: uuid.UUID, details: dict[str, Any]
    ) -> None:
        await self.audit(action, details, subject=(subject_type, subject_id))

    async def announce(self, event: Event) -> None:
        await self.commit_and_tell([event])


async def device_caller(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DeviceCaller:
    """The calling device, if monitoring applies to its child (403 otherwise)."""
    child = await children.monitored_child(session, device.child_id, runtime.clock.now())
    return DeviceCaller(session, runtime, child, device.id)


async def device_writer(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DeviceCaller:
    """The calling device, within its rate for these requests (429), if monitoring applies to
    its child (403 otherwise)."""
    rule = Rule(
        "screen-time-request:device", runtime.settings.limit_screen_time_requests_per_device
    )
    await runtime.limiter.hit(rule, str(device.id))
    return await device_caller(device, session, runtime)


def child_screen_time_requests_router() -> APIRouter:
    caller_errors = (InvalidAccessToken, ChildNotFound, MonitoringInactive)
    router = APIRouter()
    router.include_router(
        requests_router.create_guardian_router(
            guardian=guardian_caller, caller_errors=caller_errors
        )
    )
    router.include_router(
        tasks_router.create_guardian_router(guardian=guardian_caller, caller_errors=caller_errors)
    )
    return router


def device_screen_time_requests_router() -> APIRouter:
    options: dict[str, Any] = {
        "reader": device_caller,
        "writer": device_writer,
        "caller_errors": (InvalidDeviceToken, MonitoringInactive),
        "write_errors": (TooManyRequests,),
    }
    router = APIRouter()
    router.include_router(requests_router.create_device_router(**options))
    router.include_router(tasks_router.create_device_router(**options))
    return router
