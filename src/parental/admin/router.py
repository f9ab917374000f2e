from __future__ import annotations

from fastapi import APIRouter, status

from parental.admin import service
from parental.admin.dependencies import CurrentStaff
from parental.admin.errors import (
    InvalidSecondFactor,
    InvalidStaffCredentials,
    InvalidStaffToken,
    SecondFactorRequired,
    StaffSignInLocked,
)
from parental.admin.schemas import StaffRead, StaffToken, StaffTokenCreate
from parental.audit import service as audit
from parental.audit.schemas import AuditEventPage
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.kit.ratelimit import RateLimitUnavailable

router = APIRouter(tags=["admin"])


@router.post(
    "/auth/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        InvalidStaffCredentials,
        SecondFactorRequired,
        InvalidSecondFactor,
        StaffSignInLocked,
        TooManyRequests,
        RateLimitUnavailable,
    ),
)
async def create_staff_token(
    body: StaffTokenCreate, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> StaffToken:
    """Sign a curator or admin in with username, password and (once enrolled) one-time code."""
    token = await service.sign_in(
        session, runtime, username=body.username, password=body.password, code=body.code, ip=ip
    )
    return StaffToken(access_token=token, expires_in=int(service.STAFF_TOKEN_TTL.total_seconds()))


@router.get("/me", responses=error_responses(InvalidStaffToken))
async def get_staff_me(staff: CurrentStaff) -> StaffRead:
    """The signed-in staff account."""
    return StaffRead.model_validate(staff)


@router.get("/audit-events", responses=error_responses(InvalidStaffToken, InvalidCursor))
async def list_audit_events(
    staff: CurrentStaff,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> AuditEventPage:
    """The whole audit log, newest first."""
    return await audit.page(session, limit=limit, cursor=cursor)
