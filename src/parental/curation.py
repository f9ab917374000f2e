"""Wiring blocklist curation into the admin API: any signed-in staff member (curator or admin)
curates, every change is audited as theirs, and a published version is put in force in every
process the way ``parental filters publish`` does it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from filters.curation.egress import Egress
from filters.curation.router import create_router
from parental.admin.dependencies import CurrentStaff
from parental.admin.errors import InvalidStaffToken
from parental.audit import service as audit
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.runtime import Runtime
from parental.settings import ParentalSettings


def source_egress(settings: ParentalSettings) -> Egress:
    """Where URL sources may be fetched from: public addresses and the networks allowed."""
    return Egress(tuple(settings.curation_source_private_networks))


@dataclass
class StaffCurator:
    """The ``Curator`` the curation routes act through (see ``filters.curation.router``)."""

    session: AsyncSession
    staff_id: uuid.UUID
    runtime: Runtime
    ip: str | None = None

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def snapshot_path(self, number: int) -> Path:
        return self.runtime.snapshots.path_for_number(number)

    @property
    def egress(self) -> Egress:
        return source_egress(self.runtime.settings)

    async def activate(self, number: int) -> None:
        await self.runtime.snapshots.publish(str(number), self.runtime.notices)

    async def record(
        self, action: str, subject_type: str, subject_id: object, details: dict[str, Any]
    ) -> None:
        await audit.record(
            self.session,
            at=self.now(),
            action=action,
            actor=audit.Actor("staff", str(self.staff_id)),
            subject_type=subject_type,
            subject_id=str(subject_id),
            ip=self.ip,
            details=details,
        )


async def staff_curator(
    staff: CurrentStaff, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> StaffCurator:
    """Authenticate the staff member first: no id in a path is looked at before that."""
    return StaffCurator(session, staff.id, runtime, ip)


def curation_router() -> APIRouter:
    return create_router(curator=staff_curator, caller_errors=(InvalidStaffToken,))
