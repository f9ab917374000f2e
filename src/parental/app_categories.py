"""Wiring the app catalogue into the API: who edits the catalogue (any signed-in staff member,
curator or admin, audited as theirs, as blocklist curation is) and who sees a child's apps and
gives them categories (the child's guardians), with the audit rows the child's device shows.

- A guardian of the child lists the child's apps and changes their categories (404 for anyone
  else). Both are refused once monitoring no longer applies to the child (403
  ``MonitoringInactive``: 18, or the line is not an active child SIM under a guardian's
  contract): which apps a child has is the child's monitored data, as usage is. The list and
  every change leave an audit row the child's device shows.
- Parent and device tokens get 401 on the catalogue's admin routes.
- A curator's change of an app's category or ``always_allowed`` wakes the devices of the
  children whose policies it may change (``telemetry.usage.catalogue.service.children_with``)
  with the same ``sync_policy`` data message a guardian's change sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from parental.admin.dependencies import CurrentStaff
from parental.admin.errors import InvalidStaffToken
from parental.auth.errors import InvalidAccessToken
from parental.children.acting import ChildGuardian, guardian_of_child
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.commands.push import wake_children_for_policy, wake_for_policy
from parental.curation import StaffCurator
from parental.deps import ClientIP, RuntimeDep, SessionDep
from telemetry.usage.catalogue.router import create_admin_router, create_guardian_router


@dataclass
class GuardianAppsEditor(ChildGuardian):
    """The ``AppsEditor`` of ``telemetry.usage.catalogue.router``: a guardian of the child."""

    @property
    def account_id(self) -> uuid.UUID:
        return self.account.id

    async def audited(self, action: str, details: dict[str, Any]) -> None:
        await self.require_monitoring()
        await self.audit(action, details)
        if action != "apps.viewed":  # an app's category changed: so may what it is allowed
            await wake_for_policy(self.session, self.child_id, now=self.now())


guardian_apps_editor = guardian_of_child(GuardianAppsEditor)


def child_apps_router() -> APIRouter:
    return create_guardian_router(
        editor=guardian_apps_editor,
        caller_errors=(InvalidAccessToken, ChildNotFound, MonitoringInactive),
    )


@dataclass
class CatalogueCurator(StaffCurator):
    """The blocklists' ``StaffCurator`` (any signed-in staff member, every change audited as
    theirs) as the catalogue's ``Curator``, which also wakes children's devices."""

    async def policies_changed(self, child_ids: Collection[uuid.UUID]) -> None:
        await wake_children_for_policy(self.session, child_ids, now=self.now())


async def catalogue_curator(
    staff: CurrentStaff, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> CatalogueCurator:
    """Authenticate the staff member first: no id in a path is looked at before that."""
    return CatalogueCurator(session, staff.id, runtime, ip)


def app_catalogue_router() -> APIRouter:
    return create_admin_router(curator=catalogue_curator, caller_errors=(InvalidStaffToken,))
