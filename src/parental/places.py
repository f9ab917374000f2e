"""Wiring geofences into the API, ingestion and the worker.

Guardians manage the places of their own children (another family's place is as unknown as a
made-up id); each change is an audit row the child's device shows, so a child always knows
which places tell the parents about them. Reading where the child went (the place events) is
refused once monitoring no longer applies, and audited for the child, like every read of
location data.

Fixes reach the places through ``place_tracker``, one of ingestion's fix listeners. The worker
runs ``check_arrival_deadlines`` each round for the "not arrived by" rules; a child monitoring
no longer applies to gets none (the deadlines still move on).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children_repository
from parental.children import service as children
from parental.children.acting import ChildGuardian
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.db import transaction
from parental.kit.events import Event
from parental.notifications.notify import notify
from parental.runtime import Runtime
from telemetry.geofences import service as geofences
from telemetry.geofences.errors import PlaceNotFound
from telemetry.geofences.router import create_router
from telemetry.locations.fix import Fix, FixListener

log = logging.getLogger(__name__)


@dataclass
class GuardianKeeper(ChildGuardian):
    """The ``Keeper`` the place routes act through (see ``telemetry.geofences.router``)."""

    @property
    def timezone(self) -> str:
        return self.child.timezone

    @property
    def max_places(self) -> int:
        return self.runtime.settings.geofence_max_places_per_child

    async def record(self, action: str, place_id: uuid.UUID, details: dict[str, Any]) -> None:
        await self.audit(action, details, subject=("place", place_id))

    async def viewing(self, details: dict[str, Any]) -> None:
        await self.require_monitoring()
        await self.audit("places.events_viewed", details)


async def child_keeper(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianKeeper:
    """The guardian acting on the places of the child in the path (404 for others' children)."""
    return GuardianKeeper(session, runtime, child, account, ip)


async def place_keeper(
    place_id: uuid.UUID,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianKeeper:
    """The guardian acting on the place in the path; 404 unless it is one of their children's.
    The caller is authenticated before the id is looked at."""
    child_id = await geofences.child_of_place(session, place_id)
    try:
        child = await children.guardian_child(session, account, child_id)
    except ChildNotFound as exc:
        raise PlaceNotFound() from exc
    return GuardianKeeper(session, runtime, child, account, ip)


def places_router() -> APIRouter:
    return create_router(
        child_keeper=child_keeper,
        place_keeper=place_keeper,
        caller_errors=(InvalidAccessToken, ChildNotFound),
        view_errors=(MonitoringInactive,),
    )


@dataclass
class PlaceTracker:
    """The fix listener that runs a child's new fixes through the child's places.

    Ingestion stores (and so passes on) fixes only of children monitoring applies to (see
    ``parental.locations``), so what the places produce is told; a child without places
    costs one indexed query per batch.
    """

    runtime: Runtime
    # The child's zone when the caller knows it as checked (the upload fast path's grant,
    # void once the child is edited); else it is read with the places.
    timezone: str | None = None

    async def __call__(
        self, session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        places = await geofences.places_to_track(session, child_id)
        if not places:
            return []
        timezone = self.timezone
        if timezone is None:
            child = await children_repository.get(session, child_id)
            if child is None:
                return []
            timezone = child.timezone
        return await geofences.track(
            session,
            places,
            fixes,
            timezone=timezone,
            margin_m=self.runtime.settings.geofence_hysteresis_m,
            now=now,
        )

    async def prefetch(
        self, session: AsyncSession, uploads: Sequence[tuple[uuid.UUID, uuid.UUID | None]]
    ) -> None:
        """A group of uploads: the children's places in one statement."""
        await geofences.lock_places(session, sorted({child for child, _ in uploads}))


def place_tracker(runtime: Runtime, *, timezone: str | None = None) -> FixListener:
    return PlaceTracker(runtime, timezone)


async def check_arrival_deadlines(runtime: Runtime) -> int:
    """Tell the guardians of each child not seen at a place by its deadline; each round checks
    every deadline that has come (in batches, each its own transaction) and returns how many
    were told. Events are published once their batch has committed."""
    grace = timedelta(minutes=runtime.settings.geofence_arrival_grace_minutes)
    told = 0
    while True:
        now = runtime.clock.now()
        events: list[Event] = []
        async with transaction(runtime.sessions) as session:
            due = await geofences.due_checks(session, now)
            monitored: dict[uuid.UUID, Child | None] = {}
            for place in due:
                if place.child_id not in monitored:
                    monitored[place.child_id] = await _monitored_child(session, place.child_id, now)
                child = monitored[place.child_id]
                events += await geofences.check_arrival(
                    session,
                    place,
                    timezone=child.timezone if child else place.timezone,
                    now=now,
                    grace=grace,
                    announce=child is not None,
                )
            await notify(session, runtime, events)
        for event in events:
            await runtime.bus.publish(event)
        told += len(events)
        if len(due) < geofences.DUE_CHECKS_PER_ROUND:
            return told


async def _monitored_child(
    session: AsyncSession, child_id: uuid.UUID, now: datetime
) -> Child | None:
    """The child, if monitoring applies to them now."""
    child = await children_repository.get(session, child_id)
    if child is None:
        return None
    status = await children.monitoring_of(session, child, now)
    return child if status.active else None
