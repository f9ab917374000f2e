from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, status

from parental.audit import service as audit
from parental.audit.schemas import AuditEventPage
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import service
from parental.children.dependencies import OwnedChild
from parental.children.errors import (
    ChildNotFound,
    InvalidBirthdate,
    LineNotRegistered,
    LineTaken,
    NotAMinor,
    UnknownTimezone,
)
from parental.children.grants import revoke_reads
from parental.children.schemas import ChildCreate, ChildPage, ChildRead, ChildUpdate
from parental.deps import ClientIP, ClockDep, RuntimeDep, SessionDep, SettingsDep
from parental.families.errors import NoFamily
from parental.kit.errors import error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, LimitQuery
from telemetry.locations import positions

router = APIRouter(tags=["children"], responses=error_responses(InvalidAccessToken))


@router.post(
    "/children",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        NoFamily, LineNotRegistered, LineTaken, NotAMinor, InvalidBirthdate, UnknownTimezone
    ),
)
async def create_child(
    body: ChildCreate,
    account: CurrentAccount,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    ip: ClientIP,
) -> ChildRead:
    """Add a child on a child SIM line the carrier registered under the caller's contract."""
    now = clock.now()
    child, _line = await service.add_child(
        session,
        account=account,
        name=body.name,
        birthdate=body.birthdate,
        msisdn=body.msisdn,
        timezone=body.timezone or settings.default_child_timezone,
        now=now,
        ip=ip,
    )
    return await service.describe(session, child, now)


@router.get("/children")
async def list_children(account: CurrentAccount, session: SessionDep, clock: ClockDep) -> ChildPage:
    """The children of the caller's family."""
    return ChildPage(items=await service.list_children(session, account, clock.now()))


@router.get("/children/{child_id}", responses=error_responses(ChildNotFound))
async def get_child(child: OwnedChild, session: SessionDep, clock: ClockDep) -> ChildRead:
    """One child, with whether monitoring applies now."""
    return await service.describe(session, child, clock.now())


@router.patch("/children/{child_id}", responses=error_responses(ChildNotFound, UnknownTimezone))
async def update_child(
    body: ChildUpdate,
    child: OwnedChild,
    session: SessionDep,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> ChildRead:
    """Rename a child or change the child's time zone."""
    now = runtime.clock.now()
    await service.update_child(session, child, name=body.name, timezone=body.timezone, now=now)
    # A new zone moves the 18th birthday's midnight, when read grants end.
    background.add_task(revoke_reads, runtime.grants, runtime.cache, [child.id])
    return await service.describe(session, child, now)


@router.delete(
    "/children/{child_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(ChildNotFound),
)
async def delete_child(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    background: BackgroundTasks,
) -> None:
    """Remove a child with the child's devices, pairing codes and filter data."""
    await service.remove_child(
        session, child=child, account=account, now=runtime.clock.now(), ip=ip
    )
    background.add_task(revoke_reads, runtime.grants, runtime.cache, [child.id])
    background.add_task(positions.forget_cached, runtime.cache, child.id)


@router.get("/children/{child_id}/audit-events", responses=error_responses(ChildNotFound))
async def list_child_audit_events(
    child: OwnedChild,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> AuditEventPage:
    """What was done concerning this child, newest first."""
    return await audit.child_page(
        session, child.id, limit=limit, cursor=cursor, child_visible_only=False
    )
