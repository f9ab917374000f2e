"""``/filter/rpz``: zone files for carriers' resolvers. The composition root passes the
dependency that authenticates the caller (the carrier's key or staff) and the one that gives
the session, the zone cache, the options and the time."""

# No `from __future__ import annotations`: the routes below are built inside create_router and
# their annotations name its local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from filters.check.errors import NoPublishedVersion, ProfileNotFound
from filters.curation.errors import VersionNotFound
from filters.rpz import service
from filters.rpz.cache import ZoneCache
from filters.rpz.errors import ZoneCategoryNotFound
from filters.rpz.zone import ZoneOptions
from parental.kit.errors import error_responses

MEDIA_TYPE = "text/dns"  # RFC 4027: a zone in master file format
_ZONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE: {}}, "description": "The zone, in master file format."},
    304: {"description": "The zone has not changed since the tag in If-None-Match."},
}


@dataclass(frozen=True)
class ZoneContext:
    """What the zone routes need of the process: a session, the cache, options and the time."""

    session: AsyncSession
    cache: ZoneCache
    options: ZoneOptions
    now: datetime


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def create_router(
    *,
    caller: Callable[..., Any],
    context: Callable[..., Awaitable[ZoneContext]],
    caller_errors: tuple[type[Any], ...] = (),
) -> APIRouter:
    router = APIRouter(tags=["filter"], responses=error_responses(*caller_errors))
    CallerDep = Annotated[object, Depends(caller)]
    ContextDep = Annotated[ZoneContext, Depends(context)]
    IfNoneMatch = Annotated[str | None, Header()]

    @router.get(
        "/filter/rpz/{category}.zone",
        response_class=FileResponse,
        responses={
            **_ZONE_RESPONSES,
            **error_responses(ZoneCategoryNotFound, VersionNotFound, NoPublishedVersion),
        },
    )
    async def get_category_zone(
        category: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")],
        _caller: CallerDep,
        ctx: ContextDep,
        version: Annotated[
            int | None, Query(ge=1, le=2**31 - 1, description="Default: the latest.")
        ] = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        """An RPZ zone of one category; its SOA serial and ETag are the blocklist version."""
        number = version if version is not None else await service.latest_version(ctx.session)
        etag = f'"{number}"'
        if _matches(if_none_match, etag):
            return Response(status_code=304, headers={"ETag": etag})
        zone = await service.category_zone(
            ctx.session, ctx.cache, key=category, options=ctx.options, version=number
        )
        return FileResponse(
            zone.path,
            media_type=MEDIA_TYPE,
            filename=f"{category}.zone",
            headers={"ETag": etag},
        )

    @router.get(
        "/filter/rpz/profiles/{profile_id}.zone",
        responses={**_ZONE_RESPONSES, **error_responses(ProfileNotFound)},
        response_class=Response,
    )
    async def get_profile_zone(
        profile_id: uuid.UUID,
        _caller: CallerDep,
        ctx: ContextDep,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        """An RPZ zone of the guardian's own allow and block entries of one child's profile."""
        zone = await service.profile_zone(
            ctx.session, profile_id=profile_id, options=ctx.options, now=ctx.now
        )
        etag = f'"{zone.etag}"'
        if _matches(if_none_match, etag):
            return Response(status_code=304, headers={"ETag": etag})
        return Response(zone.text, media_type=MEDIA_TYPE, headers={"ETag": etag})

    return router
