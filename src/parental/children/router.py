from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, status
from fastapi.responses import StreamingResponse

from parental.age_policy import service as age_policy
from parental.audit import service as audit
from parental.audit.schemas import AuditEventPage
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.child_data import export
from parental.child_data.cache import forget_child
from parental.children import service
from parental.children.dependencies import OwnedChild
from parental.children.errors import (
    ChildNotFound,
    InvalidBirthdate,
    LineNotRegistered,
    LineTaken,
    MonitoringInactive,
    NotAMinor,
    UnknownTimezone,
)
from parental.children.schemas import ChildCreate, ChildPage, ChildRead, ChildUpdate
from parental.commands.push import wake_for_policy
from parental.consent import service as consent
from parental.consent.errors import ConsentTextMismatch
from parental.conversations import message_cipher, messages_mode
from parental.deps import ClientIP, ClockDep, RuntimeDep, SessionDep, SettingsDep
from parental.families.errors import NoFamily
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.kit.ratelimit import Rule
from telemetry.conversations.schemas import MessagesMode

router = APIRouter(tags=["children"], responses=error_responses(InvalidAccessToken))


@router.post(
    "/children",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        NoFamily,
        LineNotRegistered,
        LineTaken,
        NotAMinor,
        InvalidBirthdate,
        UnknownTimezone,
        ConsentTextMismatch,
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
    """Add a child on a child SIM line the carrier registered under the caller's contract,
    with your consents (``consents``, to the text ``consent_text_version``): messages and
    listening need one; location and app usage come with adding the child."""
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
        consents=body.consents,
        consent_text_version=(
            consent.checked_version(settings, True, body.consent_text_version)
            if body.consents
            else None
        ),
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
    zone = child.timezone
    await service.update_child(session, child, name=body.name, timezone=body.timezone, now=now)
    if child.timezone != zone:
        # The child's days, downtime and limits follow the zone: the devices fetch their
        # screen-time policy now, not at their next poll.
        await wake_for_policy(session, child.id, now=now)
    # A new zone moves the 18th birthday's midnight, when read grants end.
    background.add_task(runtime.revoke_access, [child.id])
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
    """Remove a child with everything held about the child: devices, commands and their
    recordings, pairing codes, locations, usage, messages, filter data, and what the cache
    holds. The family's audit log keeps a record of the removal (counts, no personal data)."""
    await service.remove_child(
        session, child=child, account=account, now=runtime.clock.now(), ip=ip
    )
    background.add_task(forget_child, runtime, child.id)


@router.get(
    "/children/{child_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/json": {}},
            "description": "Everything held about the child, as one JSON document",
        },
        **error_responses(ChildNotFound, MonitoringInactive, TooManyRequests),
    },
)
async def get_child_export(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> StreamingResponse:
    """Download everything held about the child as JSON: profile, line, devices, locations,
    places, alarms, usage, screen time, message alerts (the words only while you may read
    whole conversations), commands, audit events and notifications. The child's device shows
    that you downloaded it."""
    rule = Rule("child-export:account", runtime.settings.limit_child_exports_per_account)
    await runtime.limiter.hit(rule, str(account.id))
    now = runtime.clock.now()
    status_ = await service.monitoring_of(session, child, now)
    await service.monitored_read(
        session, child, account, now=now, action="child.data_exported", ip=ip, details={}
    )
    policy = await age_policy.current(session, runtime.settings)
    mode = messages_mode(runtime, policy, child, active=status_.active)
    scope = export.ExportScope(
        child_id=child.id,
        monitoring=status_,
        transcripts=mode is MessagesMode.TRANSCRIPTS,
        cipher=message_cipher(runtime),
    )
    filename = f"child-{child.id}-{now:%Y%m%d}.json"
    return StreamingResponse(
        export.stream(runtime, scope),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/children/{child_id}/audit-events", responses=error_responses(ChildNotFound, InvalidCursor)
)
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
