"""What reporters and curators read: a child's reports with what became of them, the queue
(most-reported first, then oldest), and one report with its reporters."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from filters.reports import repository
from filters.reports.models import FilterReport, FilterReportSubmission, VerdictColumns
from filters.reports.schemas import (
    DecisionRead,
    ReportDetail,
    ReporterRead,
    ReporterType,
    ReportPage,
    ReportRead,
    SubmissionPage,
    SubmissionRead,
    VerdictRead,
)
from parental.kit.paging import InvalidCursor, decode_cursor, encode_cursor

REPORTERS_SHOWN = 100


def verdict_read(row: VerdictColumns) -> VerdictRead | None:
    if row.verdict_action is None:
        return None
    return VerdictRead(
        action="block" if row.verdict_action == "block" else "allow",
        category=row.verdict_category,
        source_id=row.verdict_source_id,
        source_name=row.verdict_source_name,
        version=row.verdict_version,
    )


def submission_read(
    submission: FilterReportSubmission, report: FilterReport, *, show_comment: bool = True
) -> SubmissionRead:
    return SubmissionRead.model_validate(
        {
            "id": submission.id,
            "report_id": report.id,
            "kind": report.kind,
            "target": submission.target,
            "reporter_type": submission.reporter_type,
            "child_id": submission.child_id,
            "comment": submission.comment if show_comment else None,
            "verdict": verdict_read(submission),
            "created_at": submission.created_at,
            "status": report.status,
            "decided_at": report.decided_at,
            "decision_note": report.decision_note,
        }
    )


async def child_page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    reporter_type: ReporterType | None = None,
    comments_of: frozenset[str] = frozenset({"guardian", "device", "block_page"}),
) -> SubmissionPage:
    """A page of the reports concerning a child, newest first; comments shown only for the
    reporter types in ``comments_of``."""
    rows = await repository.child_submissions(
        session,
        child_id,
        limit=limit + 1,
        before=decode_cursor(cursor) if cursor else None,
        reporter_type=reporter_type,
    )
    page = rows[:limit]
    last = page[-1][0] if len(rows) > limit else None
    return SubmissionPage(
        items=[submission_read(s, r, show_comment=s.reporter_type in comments_of) for s, r in page],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )


def report_read(report: FilterReport) -> ReportRead:
    return ReportRead.model_validate(_report_fields(report))


def _report_fields(report: FilterReport) -> dict[str, Any]:
    decision = None
    if report.decided_at is not None and report.decided_by is not None:
        decision = DecisionRead.model_validate(
            {
                "decided_by": report.decided_by,
                "decided_at": report.decided_at,
                "note": report.decision_note,
                "category": report.applied_category,
                "action": report.applied_action,
                "entry_id": report.entry_id,
            }
        )
    return {
        "id": report.id,
        "kind": report.kind,
        "target": report.target,
        "host": report.host,
        "path": report.path,
        "status": report.status,
        "reporter_count": report.reporter_count,
        "verdict": verdict_read(report),
        "created_at": report.created_at,
        "last_reported_at": report.last_reported_at,
        "decision": decision,
    }


async def detail(session: AsyncSession, report: FilterReport) -> ReportDetail:
    """The report with its most recent reporters (``reporter_count`` says how many in all)."""
    reporters = await repository.submissions(session, report.id, limit=REPORTERS_SHOWN)
    return ReportDetail.model_validate(
        {
            **_report_fields(report),
            "reporters": [
                ReporterRead.model_validate(
                    {
                        "type": s.reporter_type,
                        "target": s.target,
                        "comment": s.comment,
                        "verdict": verdict_read(s),
                        "created_at": s.created_at,
                    }
                )
                for s in reporters
            ],
        }
    )


async def queue_page(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    status: str | None = "open",
    kind: str | None = None,
    category: str | None = None,
    order: QueueOrder = "most_reported",
) -> ReportPage:
    """A page of the queue: the most-reported first, and among equals the oldest first; or
    (``order="oldest"``) the oldest first. A cursor serves the order it was made for."""
    rows = await repository.queue(
        session,
        limit=limit + 1,
        after=_decode_queue_cursor(cursor) if cursor else None,
        status=status,
        kind=kind,
        category=category,
        oldest_first=order == "oldest",
    )
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return ReportPage(
        items=[report_read(r) for r in page],
        next_cursor=_encode_queue_cursor(last) if last else None,
    )


QueueOrder = Literal["most_reported", "oldest"]


def _encode_queue_cursor(report: FilterReport) -> str:
    # The count leads the order, so it leads the cursor; (created_at, id) as kit.paging has it.
    raw = f"{report.reporter_count}|{encode_cursor(report.created_at, report.id)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_queue_cursor(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        count, _, rest = raw.partition("|")
        at, row_id = decode_cursor(rest)
        return int(count), at, row_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
