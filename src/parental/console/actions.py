"""The admin API's own curation actions, for the console to call.

The console does not re-implement publishing, rolling back, adding or removing a rule: it
calls the very route functions of ``/admin/v1/filter/...`` (``filters.curation.router``), with
the same ``StaffCurator``, so validation, the audit rows and putting a version in force are
the API's, line for line. They are looked up by name once, from a router built for that.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.admin.models import StaffAccount
from parental.curation import StaffCurator, curation_router
from parental.runtime import Runtime

Endpoint = Callable[..., Awaitable[Any]]


@functools.cache
def _endpoints() -> dict[str, Endpoint]:
    return {r.name: r.endpoint for r in curation_router().routes if isinstance(r, APIRoute)}


def endpoint(name: str) -> Endpoint:
    """The admin API's route function ``name`` (its operation id)."""
    return _endpoints()[name]


def curator(
    session: AsyncSession, staff: StaffAccount, runtime: Runtime, ip: str | None
) -> StaffCurator:
    return StaffCurator(session, staff.id, runtime, ip)


async def staff_names(session: AsyncSession, actors: set[str]) -> dict[str, str]:
    """``staff:<id>`` actors -> their usernames, for pages that show who did what."""
    ids = set()
    for actor in actors:
        kind, _, raw = actor.partition(":")
        if kind == "staff":
            try:
                ids.add(uuid.UUID(raw))
            except ValueError:
                continue
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.username).where(StaffAccount.id.in_(ids))
    )
    return {f"staff:{row.id}": row.username for row in rows}
