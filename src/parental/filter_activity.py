"""A child's filter activity: writing each process's verdict counts to SQL, and the guardian's
read of them (counts per day and category, the names most recently blocked)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query

from filters.activity import service as activity
from filters.activity.schemas import ActivityRead
from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.monitoring import local_today
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.db import transaction
from parental.kit.errors import error_responses
from parental.runtime import Runtime

log = logging.getLogger(__name__)


async def flush_activity(runtime: Runtime) -> None:
    """Write what this process counted since the last flush; on failure keep it for the next."""
    batch = runtime.activity.take(runtime.clock.now())
    if not batch:
        return
    try:
        async with transaction(runtime.sessions) as session:
            await activity.flush(session, batch)
    except Exception:
        runtime.activity.give_back(batch)
        raise


async def run_flusher(runtime: Runtime) -> None:
    """Flush on an interval until cancelled, then once more so nothing counted is left behind."""
    interval = runtime.settings.filter_activity_flush_seconds
    try:
        while True:
            await asyncio.sleep(interval)
            try:
                await flush_activity(runtime)
            except Exception:
                log.exception("writing filter activity failed; retrying in %s s", interval)
    finally:
        try:
            await flush_activity(runtime)
        except Exception:
            log.exception("writing filter activity at shutdown failed")


router = APIRouter(
    tags=["filter profiles"],
    responses=error_responses(InvalidAccessToken, ChildNotFound, MonitoringInactive),
)


@router.get("/children/{child_id}/filter-activity")
async def get_filter_activity(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    days: Annotated[int, Query(ge=1, le=31, description="Local days up to today")] = 7,
) -> ActivityRead:
    """What the filter did for the child: lookups and blocks per day and category, and the
    names most recently blocked. The child's device shows that the guardian looked.

    Each API process writes its counts every few seconds, so the last seconds may be missing.
    """
    now = runtime.clock.now()
    status = await children.monitoring_of(session, child, now)
    if not status.active:
        raise MonitoringInactive()
    await audit.record(
        session,
        at=now,
        action="filter.activity_viewed",
        actor=audit.Actor("guardian", str(account.id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        child_visible=True,
        ip=ip,
        details={"days": days},
    )
    return await activity.read(
        session,
        child.id,
        timezone=child.timezone,
        today=local_today(now, child.timezone),
        days=days,
    )
