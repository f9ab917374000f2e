"""Wiring the app catalogue into the API: who edits the catalogue (any signed-in staff member,
curator or admin, audited as theirs, as blocklist curation is) and who sees a child's apps and
gives them categories (the child's guardians), with the audit rows the child's device shows.

- A guardian of the child lists the child's apps and changes their categories (404 for anyone
  else). Both are refused once monitoring no longer applies to the child (403
  ``MonitoringInactive``: 18, or the line is not an active child SIM under a guardian's
  contract): which apps a child has is the child's monitored data, as usage is. The list and
  every change leave an audit row the child's device shows.
- Parent and device tokens get 401 on the catalogue's admin routes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from parental.admin.errors import InvalidStaffToken
from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.auth.models import Account
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.curation import staff_curator
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.runtime import Runtime
from telemetry.usage.catalogue.router import create_admin_router, create_guardian_router


@dataclass
class GuardianAppsEditor:
    """The ``AppsEditor`` of ``telemetry.usage.catalogue.router``: a guardian of the child."""

    session: AsyncSession
    runtime: Runtime
    child: Child
    account: Account
    ip: str

    @property
    def child_id(self) -> uuid.UUID:
        return self.child.id

    @property
    def account_id(self) -> uuid.UUID:
        return self.account.id

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def audited(self, action: str, details: dict[str, Any]) -> None:
        now = self.now()
        if not (await children.monitoring_of(self.session, self.child, now)).active:
            raise MonitoringInactive()
        await audit.record(
            self.session,
            at=now,
            action=action,
            actor=audit.Actor("guardian", str(self.account.id)),
            family_id=self.child.family_id,
            child_id=self.child.id,
            subject_type="child",
            subject_id=self.child.id,
            child_visible=True,
            ip=self.ip,
            details=details,
        )


async def guardian_apps_editor(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianAppsEditor:
    """A guardian of the child in the path (404 otherwise)."""
    return GuardianAppsEditor(session, runtime, child, account, ip)


def child_apps_router() -> APIRouter:
    return create_guardian_router(
        editor=guardian_apps_editor,
        caller_errors=(InvalidAccessToken, ChildNotFound, MonitoringInactive),
    )


def app_catalogue_router() -> APIRouter:
    # The blocklists' ``StaffCurator`` is this router's ``Curator`` too: any signed-in staff
    # member, every change audited as theirs.
    return create_admin_router(curator=staff_curator, caller_errors=(InvalidStaffToken,))
