"""Who acts on a child's data, as the composition root hands them to the routers of
``telemetry``: a guardian of the child (the child in the path, 404 for anyone else) or the
child's own device, with the request's session and the runtime, and the audit rows the
child's device shows.

Each wiring module (``parental.screen_time``, ``parental.usage``, ...) subclasses these to
give the telemetry router's protocol its exact names (``changed``, ``viewed``, ...); what a
guardian or a device is, where the time comes from and how an action is audited is said once,
here.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.models import Account
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.models import Child
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.events import Event
from parental.notifications.notify import notify
from parental.runtime import Runtime


async def record(
    session: AsyncSession,
    child: Child,
    actor: audit.Actor,
    *,
    at: datetime,
    action: str,
    subject: tuple[str, uuid.UUID] | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """An audit row about ``child`` that the child's device shows; the subject is the child
    unless another is named."""
    subject_type, subject_id = subject or ("child", child.id)
    await audit.record(
        session,
        at=at,
        action=action,
        actor=actor,
        family_id=child.family_id,
        child_id=child.id,
        subject_type=subject_type,
        subject_id=subject_id,
        child_visible=True,
        ip=ip,
        details=details,
    )


@dataclass
class ActingOnChild:
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

    async def require_monitoring(self) -> None:
        """Refuse unless monitoring applies to the child now (``MonitoringInactive``, 403, or
        ``MonitoringEndedAdult``, 410, once the child is 18)."""
        children.require_monitoring(
            await children.monitoring_of(self.session, self.child, self.now())
        )


@dataclass
class ChildGuardian(ActingOnChild):
    """A guardian of the child, by the request's access token."""

    account: Account
    ip: str

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        """Before reading the child's monitored data: refuse unless monitoring applies
        (``children.require_monitoring``), and note the read for the child to see."""
        await children.monitored_read(
            self.session,
            self.child,
            self.account,
            now=self.now(),
            action=action,
            ip=self.ip,
            details=details,
        )

    async def audit(
        self,
        action: str,
        details: dict[str, Any],
        *,
        subject: tuple[str, uuid.UUID] | None = None,
    ) -> None:
        """Note what the guardian did, for the child to see."""
        await record(
            self.session,
            self.child,
            audit.Actor("guardian", str(self.account.id)),
            at=self.now(),
            action=action,
            subject=subject,
            details=details,
            ip=self.ip,
        )


@dataclass
class ChildDevice(ActingOnChild):
    """The child's own paired device, by its token."""

    device_id: uuid.UUID

    async def commit_and_tell(self, events: Sequence[Event]) -> None:
        """Commit the device's upload with the guardians' notifications of ``events``
        (``notify``, in the same transaction), then publish them: told once stored and before
        the answer (a background task would not run at all if the device hung up first)."""
        if not events:
            return
        await notify(self.session, self.runtime, events)
        await self.session.commit()
        for event in events:
            await self.runtime.bus.publish(event)

    async def audit(
        self,
        action: str,
        details: dict[str, Any],
        *,
        subject: tuple[str, uuid.UUID] | None = None,
    ) -> None:
        """Note what the device did, for the child (and the guardians) to see."""
        await record(
            self.session,
            self.child,
            audit.Actor("device", str(self.device_id)),
            at=self.now(),
            action=action,
            subject=subject,
            details=details,
        )


G = TypeVar("G", bound=ChildGuardian)


def guardian_of_child(kind: type[G]) -> Callable[..., Awaitable[G]]:
    """A dependency giving a ``kind`` for the guardian calling about the child in the path."""

    async def dependency(
        child: OwnedChild,
        account: CurrentAccount,
        session: SessionDep,
        runtime: RuntimeDep,
        ip: ClientIP,
    ) -> G:
        """A guardian of the child in the path (404 otherwise)."""
        return kind(session, runtime, child, account, ip)

    return dependency
