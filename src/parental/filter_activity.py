"""A child's filter activity: writing each process's verdict counts and sampled query log to
SQL, and the guardian's reads of them (counts per day and category, the names most recently
blocked, the query log page by page). Each read leaves an audit row the child's device shows,
and is refused once monitoring no longer applies to the child."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from filters.activity import service as activity
from filters.activity.schemas import ActivityRead, QueryLogPage
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.monitoring import local_today
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.db import transaction
from parental.kit.errors import BadRequest, error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.kit.wire import JsonAwareDatetime
from parental.runtime import Runtime

log = logging.getLogger(__name__)


class InvalidPeriod(BadRequest):
    message = "since must not be later than until."


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
    await children.monitored_read(
        session,
        child,
        account,
        now=now,
        action="filter.activity_viewed",
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


@router.get(
    "/children/{child_id}/filter-activity/queries",
    responses=error_responses(InvalidCursor, InvalidPeriod),
)
async def list_filter_queries(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
    action: Annotated[
        Literal["block", "allow"] | None, Query(description="Only blocked or only allowed")
    ] = None,
    since: Annotated[
        JsonAwareDatetime | None, Query(description="Rows of minutes starting at or after this")
    ] = None,
    until: Annotated[
        JsonAwareDatetime | None, Query(description="Rows of minutes starting before this")
    ] = None,
) -> QueryLogPage:
    """The names the child's phone looked up, newest first, one row per name and minute: every
    blocked lookup, and a sample of the allowed ones. The child's device shows that the
    guardian looked.

    Each API and DNS process writes its log every few seconds, so the last seconds may be
    missing; rows are kept for a few days only.
    """
    if since is not None and until is not None and since > until:
        raise InvalidPeriod()
    await children.monitored_read(
        session,
        child,
        account,
        now=runtime.clock.now(),
        action="filter.query_log_viewed",
        ip=ip,
        details={
            "only": action,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "next_page": cursor is not None,
        },
    )
    return await activity.query_page(
        session, child.id, limit=limit, cursor=cursor, action=action, since=since, until=until
    )
