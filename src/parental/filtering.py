"""Wiring the content filter into the API: who may ask for verdicts, and from which store."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from filters.check.router import create_router
from filters.engine.store import SnapshotStore
from parental.admin import service as staff
from parental.admin.errors import InvalidStaffToken
from parental.deps import RuntimeDep, SessionDep
from parental.devices import service as devices
from parental.devices.errors import InvalidDeviceToken
from parental.kit.errors import Unauthorized
from parental.lines import service as lines
from parental.lines.errors import InvalidServiceKey

filter_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="FilterCaller",
    description="A carrier service key (sk_...), a device token (dt_...) or a staff token",
)


class InvalidFilterCaller(Unauthorized):
    message = "A carrier service key, a device token or a staff token is required."


async def filter_caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(filter_bearer)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> str:
    """Who is asking: the carrier's resolver, a child's device (in-app browsing) or staff."""
    if credentials is None:
        raise InvalidFilterCaller()
    token = credentials.credentials
    try:
        if token.startswith("sk_"):
            key = await lines.authenticate_service_key(session, key=token, secret=runtime.secret)
            return f"carrier:{key.name}"
        if token.startswith("dt_"):
            device = await devices.authenticate(session, runtime, token)
            return f"device:{device.id}"
        member = await staff.authenticate(session, runtime, token)
        return f"staff:{member.id}"
    except (InvalidServiceKey, InvalidDeviceToken, InvalidStaffToken) as exc:
        raise InvalidFilterCaller() from exc


def snapshot_store(runtime: RuntimeDep) -> SnapshotStore:
    return runtime.snapshots


def clock_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


def filter_check_router() -> APIRouter:
    return create_router(
        caller=filter_caller,
        store=snapshot_store,
        now=clock_now,
        caller_errors=(InvalidFilterCaller,),
    )
