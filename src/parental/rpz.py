"""Wiring the RPZ export into the API and the CLI: the carrier's resolver (service key) or
staff fetch zones; zone files are cached under the data directory, one cache per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from filters.rpz.cache import ZoneCache
from filters.rpz.router import ZoneContext, create_router
from filters.rpz.service import CategoryZones
from filters.rpz.zone import ZoneOptions
from parental.admin import service as staff
from parental.admin.errors import InvalidStaffToken
from parental.deps import RuntimeDep, SessionDep
from parental.kit.errors import Unauthorized
from parental.lines import service as lines
from parental.lines.errors import InvalidServiceKey
from parental.runtime import Runtime

zone_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ZoneCaller",
    description="A carrier service key (sk_...) or a staff token",
)


class InvalidZoneCaller(Unauthorized):
    message = "A carrier service key or a staff token is required."


@lru_cache
def zone_cache(directory: Path) -> ZoneCache:
    """One cache per directory in this process, so its per-file locks are shared."""
    return ZoneCache(directory)


def zone_options(runtime: Runtime) -> ZoneOptions:
    return ZoneOptions(runtime.settings.rpz_zone_suffix, runtime.settings.rpz_ttl_seconds)


def runtime_zone_cache(runtime: Runtime) -> ZoneCache:
    return zone_cache((runtime.kit.data_dir / "rpz").resolve())


def category_zones(runtime: Runtime) -> CategoryZones:
    """Category zones by DNS name, for ``filters.rpz.transfer_server`` and the DNS front end."""
    return CategoryZones(runtime.sessions, runtime_zone_cache(runtime), zone_options(runtime))


async def zone_caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(zone_bearer)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> str:
    """Who fetches zones: the carrier (its resolvers serve every line) or staff. A child's
    device gets no zones: they list what is blocked for every child."""
    if credentials is None:
        raise InvalidZoneCaller()
    token = credentials.credentials
    try:
        if token.startswith("sk_"):
            key = await lines.authenticate_service_key(session, key=token, secret=runtime.secret)
            return f"carrier:{key.name}"
        member = await staff.authenticate(session, runtime, token)
        return f"staff:{member.id}"
    except (InvalidServiceKey, InvalidStaffToken) as exc:
        raise InvalidZoneCaller() from exc


async def zone_context(session: SessionDep, runtime: RuntimeDep) -> ZoneContext:
    return ZoneContext(
        session, runtime_zone_cache(runtime), zone_options(runtime), runtime.clock.now()
    )


def rpz_router() -> APIRouter:
    return create_router(
        caller=zone_caller, context=zone_context, caller_errors=(InvalidZoneCaller,)
    )
