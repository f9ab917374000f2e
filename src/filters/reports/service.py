"""Filing reports (grouped per open target), decisions that become curated rules, retention."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filters.check.errors import NoPublishedVersion
from filters.check.service import check
from filters.curation import repository as curation_repository
from filters.curation import service as curation
from filters.engine.normalize import InvalidTarget, Target, normalize_target
from filters.engine.profile import Profile
from filters.engine.rules import Action
from filters.engine.store import SnapshotStore
from filters.reports import repository
from filters.reports.errors import (
    CategoryRequired,
    InvalidCategory,
    InvalidReportTarget,
    NoteRequired,
    ReportAlreadyDecided,
    ReportNotFound,
)
from filters.reports.events import FilterReportDecided, ReporterRef
from filters.reports.models import FilterReport, FilterReportSubmission
from filters.reports.schemas import ReportDecisionCreate, ReporterType, ReportKind
from parental.kit.events import EventBus

MAX_PATH_LENGTH = 1024  # as a curated rule's path


@dataclass(frozen=True)
class Reporter:
    """Who files a report: a guardian's account or a device (by id), or the block page
    (nobody); and the child it concerns, when known."""

    type: ReporterType
    id: str | None = None
    child_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Filed:
    report: FilterReport
    submission: FilterReportSubmission


def normalize(raw: str) -> Target:
    """The reported name or URL in the form rules use, or a 400 saying what is wrong with it.

    A site's root page (``https://example.com/``) is the name itself, as curated rules take it,
    so it groups with reports of the bare name.
    """
    try:
        target = normalize_target(raw)
    except InvalidTarget as exc:
        raise InvalidReportTarget(f"{InvalidReportTarget.message} ({exc.reason})") from exc
    if len(target.path) > MAX_PATH_LENGTH:
        raise InvalidReportTarget(f"{InvalidReportTarget.message} (path-too-long)")
    if target.path == "/":
        return Target(target.host, "", target.is_ip)
    return target


def verdict_columns(
    store: SnapshotStore, target: str, *, profile: Profile, now: datetime
) -> dict[str, Any]:
    """The verdict ``profile`` gets for ``target`` now, as the columns of ``VerdictColumns``."""
    try:
        version, (result,) = check(store, [target], profile=profile, now=now)
    except NoPublishedVersion:
        return {}
    rule = result.rule
    return {
        "verdict_action": result.action,
        "verdict_category": result.categories[0] if result.categories else None,
        "verdict_source_id": rule.source_id if rule else None,
        "verdict_source_name": rule.source_name if rule else None,
        "verdict_version": version,
    }


async def submit(
    session: AsyncSession,
    *,
    kind: ReportKind,
    target: str,
    comment: str | None,
    reporter: Reporter,
    profile: Profile,
    store: SnapshotStore,
    now: datetime,
) -> Filed:
    """File a report; one that adds to an open report of the same target is grouped into it.

    A guardian or device reporting the same open target again changes nothing and gets its
    earlier submission back, so retries and impatient taps are not counted twice.
    """
    parsed = normalize(target)
    verdict = verdict_columns(store, target, profile=profile, now=now)
    report = await _open_report(session, kind, target, parsed, verdict, now)
    if reporter.id is not None:
        earlier = await repository.find_submission(
            session,
            report.id,
            reporter_type=reporter.type,
            reporter_id=reporter.id,
            child_id=reporter.child_id,
        )
        if earlier is not None:
            return Filed(report, earlier)
    submission = FilterReportSubmission(
        report_id=report.id,
        reporter_type=reporter.type,
        reporter_id=reporter.id,
        child_id=reporter.child_id,
        target=target,
        comment=comment,
        created_at=now,
        **verdict,
    )
    await repository.add(session, submission)
    await repository.count_submission(session, report.id, now)
    await session.refresh(report)
    return Filed(report, submission)


async def _open_report(
    session: AsyncSession,
    kind: ReportKind,
    target: str,
    parsed: Target,
    verdict: dict[str, Any],
    now: datetime,
) -> FilterReport:
    """The open report of this kind and target, opened by this submission if there is none."""
    key = hashlib.sha256(f"{kind} {parsed.host}{parsed.path}".encode()).hexdigest()
    values = {
        "kind": kind,
        "target": target,
        "host": parsed.host,
        "path": parsed.path,
        "open_key": key,
        "status": "open",
        "reporter_count": 0,
        "created_at": now,
        "last_reported_at": now,
        **verdict,
    }
    while True:
        report = await repository.open_report(session, {"id": uuid.uuid4(), **values}, key)
        if report is not None:
            return report
        # Decided between our insert and our read (a race of milliseconds): open a new one.


async def get(session: AsyncSession, report_id: uuid.UUID) -> FilterReport:
    report = await repository.get(session, report_id)
    if report is None:
        raise ReportNotFound()
    return report


async def decide(
    session: AsyncSession,
    report: FilterReport,
    body: ReportDecisionCreate,
    *,
    actor: str,
    now: datetime,
    bus: EventBus,
) -> FilterReport:
    """Accept or reject an open report, and tell subscribers.

    Accepting adds a rule to the draft of a category's manual source: a block for
    ``should_be_blocked`` (in the chosen category), an allow exception for ``wrongly_blocked``
    (in the category that blocked it, or the chosen one). It applies from the next publish.
    """
    if report.status != "open":
        raise ReportAlreadyDecided()
    values: dict[str, Any] = {"decided_by": actor, "decided_at": now, "decision_note": body.note}
    if body.decision == "reject":
        if not (body.note or "").strip():
            raise NoteRequired()
        values["status"] = "rejected"
    else:
        action = Action.BLOCK if report.kind == "should_be_blocked" else Action.ALLOW
        category = body.category or _blocking_category(report)
        if category is None:
            raise CategoryRequired()
        found = await curation_repository.category_by_key(session, category)
        if found is None or (action is Action.BLOCK and found.kind != "block"):
            raise InvalidCategory()
        entry = await curation.add_entry(
            session,
            source=await curation.manual_source(session, category, now=now),
            target=body.target or report.target,
            action=action,
            actor=actor,
            reason=f"report {report.id}" + (f": {body.note}" if body.note else ""),
            now=now,
            subdomains=body.subdomains,
        )
        values.update(
            status="accepted",
            applied_category=category,
            applied_action=action.value,
            entry_id=entry.id,
        )
    if not await repository.close(session, report.id, values):
        raise ReportAlreadyDecided()
    await session.refresh(report)
    reporters = await repository.submissions(session, report.id)
    await bus.publish(
        FilterReportDecided.model_validate(
            {
                "occurred_at": now,
                "report_id": report.id,
                "kind": report.kind,
                "target": report.host + report.path,
                "status": report.status,
                "note": report.decision_note,
                "category": report.applied_category,
                "action": report.applied_action,
                "reporters": tuple(
                    ReporterRef.model_validate(
                        {"type": s.reporter_type, "id": s.reporter_id, "child_id": s.child_id}
                    )
                    for s in reporters
                    if s.reporter_id is not None
                ),
            }
        )
    )
    return report


def _blocking_category(report: FilterReport) -> str | None:
    """For a wrongly blocked target: the category whose rule blocked it when it was reported."""
    if report.kind == "wrongly_blocked" and report.verdict_action == "block":
        return report.verdict_category
    return None


async def purge(session: AsyncSession, *, decided_before: datetime, open_before: datetime) -> int:
    """Delete reports decided before ``decided_before`` (comments and child ids with them), and
    open reports nobody has reported again since ``open_before``: a report no curator took up
    in that long does not keep its reporters' comments and child ids for ever."""
    return await repository.purge(session, decided_before=decided_before, open_before=open_before)
