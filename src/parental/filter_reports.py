"""Wiring filter reports into the API: a guardian reports for one of their children, a child's
device for itself, the block page for whoever hit the block, and curators work the queue.

Who may see what:
- A guardian sees every report concerning their child, with the status and the curator's note;
  the child's own comments are for the curators and are left out.
- A child's device sees the reports its child filed. Reports a guardian files about the child
  are child-visible audit rows (without the comment), as every other change a guardian makes to
  the child's filtering is: the child is told that someone asked for a site to be blocked or
  unblocked for them.
- The block page takes no credentials and stores nothing about the person: no child, no
  address (the rate limit keys on a keyed hash of it, kept only for the limit's window), no
  comment, and no audit row.
- Curators see the targets, verdicts, comments and what kind of reporter filed each, not who.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from filters.check.service import default_profile
from filters.curation.errors import InvalidEntry
from filters.engine.profile import Profile
from filters.profiles import service as profiles
from filters.reports import reading
from filters.reports import service as reports
from filters.reports.errors import (
    CategoryRequired,
    InvalidCategory,
    InvalidReportTarget,
    NoteRequired,
    ReportAlreadyDecided,
    ReportNotFound,
)
from filters.reports.schemas import (
    BlockPageReportCreate,
    ReportCreate,
    ReportDecisionCreate,
    ReportDetail,
    ReportKind,
    ReportPage,
    ReportReceived,
    SubmissionPage,
    SubmissionRead,
)
from parental.admin.dependencies import CurrentStaff
from parental.admin.errors import InvalidStaffToken
from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound
from parental.children.models import Child
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.filtering import child_profile
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.kit.ratelimit import Rule
from parental.kit.security import keyed_hash
from parental.runtime import Runtime

router = APIRouter(tags=["filter reports"])
admin_router = APIRouter(tags=["filter reports"], responses=error_responses(InvalidStaffToken))

CHILD_REPORTS = "/children/{child_id}/filter-reports"
DEVICE_REPORTS = "/device/filter-reports"
FILING_ERRORS = (InvalidReportTarget, TooManyRequests)


async def _file(
    session: AsyncSession,
    runtime: Runtime,
    body: BlockPageReportCreate,
    reporter: reports.Reporter,
    *,
    child: Child | None = None,
    ip: str,
) -> reports.Filed:
    """File ``body``, judged with the child's profile (the default one without a child).

    Guardians and devices are limited per reporter, the block page per address; the address is
    only ever seen by the limiter, as a keyed hash.
    """
    s = runtime.settings
    if reporter.id is None:
        await runtime.limiter.hit(
            Rule("filter-report:ip", s.limit_filter_reports_per_ip),
            keyed_hash(runtime.secret, f"filter-report:{ip}"),
        )
    else:
        await runtime.limiter.hit(
            Rule("filter-report:reporter", s.limit_filter_reports_per_reporter),
            f"{reporter.type}:{reporter.id}",
        )
    profile: Profile
    if child is None:
        profile = default_profile(s.default_child_timezone)
    else:
        profile = await profiles.engine_profile(
            session, await child_profile(session, runtime, child)
        )
    return await reports.submit(
        session,
        kind=body.kind,
        target=body.target,
        comment=body.comment if isinstance(body, ReportCreate) else None,
        reporter=reporter,
        profile=profile,
        store=runtime.snapshots,
        now=runtime.clock.now(),
    )


async def _record_filed(
    session: AsyncSession,
    runtime: Runtime,
    filed: reports.Filed,
    child: Child,
    actor: audit.Actor,
    ip: str,
) -> None:
    """A child-visible audit row for a report filed by a guardian or the child's device.

    The comment stays out: the child reads these rows, and curators read the comment.
    """
    await audit.record(
        session,
        at=runtime.clock.now(),
        action="filter.report_filed",
        actor=actor,
        family_id=child.family_id,
        child_id=child.id,
        subject_type="filter_report",
        subject_id=filed.report.id,
        child_visible=True,
        ip=ip,
        details={
            "kind": filed.report.kind,
            "host": filed.report.host,
            "path": filed.report.path,
        },
    )


@router.post(
    CHILD_REPORTS,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(InvalidAccessToken, ChildNotFound, *FILING_ERRORS),
)
async def create_child_filter_report(
    body: ReportCreate,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> SubmissionRead:
    """Report a name or URL as wrongly blocked, or as one to block, for this child."""
    reporter = reports.Reporter("guardian", str(account.id), child.id)
    filed = await _file(session, runtime, body, reporter, child=child, ip=ip)
    await _record_filed(
        session, runtime, filed, child, audit.Actor("guardian", str(account.id)), ip
    )
    return reading.submission_read(filed.submission, filed.report)


@router.get(
    CHILD_REPORTS, responses=error_responses(InvalidAccessToken, ChildNotFound, InvalidCursor)
)
async def list_child_filter_reports(
    child: OwnedChild,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> SubmissionPage:
    """Reports concerning this child, by its guardians and its devices, and what became of them."""
    return await reading.child_page(
        session, child.id, limit=limit, cursor=cursor, comments_of=frozenset({"guardian"})
    )


@router.post(
    DEVICE_REPORTS,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(InvalidDeviceToken, *FILING_ERRORS),
)
async def create_own_filter_report(
    body: ReportCreate,
    device: CurrentDevice,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> SubmissionRead:
    """Report a name or URL as wrongly blocked, or as one to block, from the child's device."""
    child = await children.get(session, device.child_id)
    assert child is not None  # devices.child_id is a foreign key with cascade
    reporter = reports.Reporter("device", str(device.id), child.id)
    filed = await _file(session, runtime, body, reporter, child=child, ip=ip)
    await _record_filed(session, runtime, filed, child, audit.Actor("device", str(device.id)), ip)
    return reading.submission_read(filed.submission, filed.report)


@router.get(DEVICE_REPORTS, responses=error_responses(InvalidDeviceToken, InvalidCursor))
async def list_own_filter_reports(
    device: CurrentDevice,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> SubmissionPage:
    """The reports this child filed from their devices, and what became of them."""
    return await reading.child_page(
        session, device.child_id, limit=limit, cursor=cursor, reporter_type="device"
    )


@router.post(
    "/filter/reports",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(*FILING_ERRORS),
)
async def create_filter_report(
    body: BlockPageReportCreate, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> ReportReceived:
    """Report from the block page, without credentials; limited per address."""
    filed = await _file(session, runtime, body, reports.Reporter("block_page"), ip=ip)
    report = filed.report
    return ReportReceived.model_validate({"kind": report.kind, "target": report.host + report.path})


@admin_router.get("/filter-reports", responses=error_responses(InvalidCursor))
async def list_filter_reports(
    staff: CurrentStaff,
    session: SessionDep,
    status_: Annotated[
        Literal["open", "accepted", "rejected", "any"], Query(alias="status")
    ] = "open",
    kind: ReportKind | None = None,
    category: Annotated[
        str | None, Query(max_length=40, description="Of the verdict when first reported.")
    ] = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
    order: reading.QueueOrder = "most_reported",
) -> ReportPage:
    """The review queue: the most-reported first, then the oldest (``order=oldest``: the
    oldest first)."""
    return await reading.queue_page(
        session,
        limit=limit,
        cursor=cursor,
        status=None if status_ == "any" else status_,
        kind=kind,
        category=category,
        order=order,
    )


@admin_router.get("/filter-reports/{report_id}", responses=error_responses(ReportNotFound))
async def get_filter_report(
    report_id: uuid.UUID, staff: CurrentStaff, session: SessionDep
) -> ReportDetail:
    """One report with its reporters' comments and verdicts."""
    return await reading.detail(session, await reports.get(session, report_id))


@admin_router.post(
    "/filter-reports/{report_id}/decision",
    responses=error_responses(
        ReportNotFound,
        ReportAlreadyDecided,
        NoteRequired,
        CategoryRequired,
        InvalidCategory,
        InvalidEntry,
    ),
)
async def create_filter_report_decision(
    report_id: uuid.UUID,
    body: ReportDecisionCreate,
    staff: CurrentStaff,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> ReportDetail:
    """Accept a report (a rule in a manual list, in force from the next publish) or reject it."""
    now = runtime.clock.now()
    report = await reports.decide(
        session,
        await reports.get(session, report_id),
        body,
        actor=f"staff:{staff.id}",
        now=now,
        bus=runtime.bus,
    )
    await audit.record(
        session,
        at=now,
        action="filter.report_decided",
        actor=audit.Actor("staff", str(staff.id)),
        subject_type="filter_report",
        subject_id=report.id,
        ip=ip,
        details={
            "decision": report.status,
            "category": report.applied_category,
            "action": report.applied_action,
            "entry_id": str(report.entry_id) if report.entry_id else None,
        },
    )
    return await reading.detail(session, report)
