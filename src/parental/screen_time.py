"""Wiring screen-time rules into the API: who may set a child's rules (the child's guardians),
who may fetch the policy they make (the child's paired device), and the audit rows the
child's device shows.

- Any guardian of the child reads the rules (404 for anyone else); they are the guardian's own
  settings, not the child's monitored data, so reading them is not audited.
- Changes (the rules, a pause, its end, extra time) are refused once monitoring no longer
  applies to the child (403 ``MonitoringInactive``: 18, or the line is not an active child SIM
  under a guardian's contract), and each leaves an audit row the child's device shows.
- The device fetches its policy while monitoring applies (403 afterwards, so the agent knows
  to stop enforcing), and every change wakes the child's devices with an FCM data message
  (``sync_policy``) so they fetch it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.acting import ActingOnChild, ChildGuardian, guardian_of_child
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.commands.push import wake_for_policy
from parental.deps import RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from telemetry.usage.rules.router import create_device_router, create_guardian_router


@dataclass
class GuardianEditor(ChildGuardian):
    """The ``Editor`` of ``telemetry.usage.rules.router``: a guardian of the child."""

    @property
    def account_id(self) -> str:
        return str(self.account.id)

    async def changed(self, action: str, details: dict[str, Any]) -> None:
        await self.require_monitoring()
        await self.audit(action, details)
        # The device fetches its new policy now, not at its next poll.
        await wake_for_policy(self.session, self.child_id, now=self.now())


guardian_editor = guardian_of_child(GuardianEditor)


@dataclass
class DevicePolicyReader(ActingOnChild):
    """The ``PolicyReader``: the calling device of a monitored child."""


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
