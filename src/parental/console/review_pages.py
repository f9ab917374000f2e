"""The review queue: reports from parents, children and the block page, decided one by one or
in bulk through the admin API's own decision route (so each is audited as it is there)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from filters.curation import categories
from filters.reports import reading
from filters.reports import service as reports
from filters.reports.errors import CategoryRequired, ReportAlreadyDecided, ReportNotFound
from filters.reports.schemas import ReportDecisionCreate
from parental.console.web import CheckedForm, ConsoleRoute, SignedIn, field, render, see_other
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.filter_reports import create_filter_report_decision
from parental.kit.errors import BadRequest
from parental.kit.paging import DEFAULT_PAGE_SIZE

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

MAX_BULK = 100


class NothingSelected(BadRequest):
    message = "Select at least one report."


@router.get("/reports")
async def show_reports(
    request: Request,
    signed: SignedIn,
    session: SessionDep,
    runtime: RuntimeDep,
    status: Literal["open", "accepted", "rejected", "any"] = "open",
    kind: Literal["wrongly_blocked", "should_be_blocked", ""] = "",
    order: reading.QueueOrder = "oldest",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The queue: oldest first (or the most-reported first), each with its verdict and
    notes."""
    page = await reading.queue_page(
        session,
        limit=DEFAULT_PAGE_SIZE,
        cursor=cursor or None,
        status=None if status == "any" else status,
        kind=kind or None,
        order=order,
    )
    details = [
        await reading.detail(session, await reports.get(session, item.id)) for item in page.items
    ]
    return render(
        request,
        "reports.html",
        {
            "reports": details,
            "next_cursor": page.next_cursor,
            "filters": {"status": status, "kind": kind, "order": order},
            "categories": await categories.list_categories(session, now=runtime.clock.now()),
        },
    )


def _decision(form: CheckedForm) -> ReportDecisionCreate:
    return ReportDecisionCreate.model_validate(
        {
            "decision": field(form, "decision") or "",
            "note": field(form, "note"),
            "category": field(form, "category"),
            "target": field(form, "target"),
            "subdomains": field(form, "subdomains") != "off",
        }
    )


@router.post("/reports/{report_id}/decision")
async def decide_report(
    report_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Accept a report (a rule in a manual list, from the next publish) or reject it."""
    await create_filter_report_decision(
        report_id=report_id,
        body=_decision(form),
        staff=signed.staff,
        session=session,
        runtime=runtime,
        ip=ip,
    )
    return see_other("/reports", notice="decided")


@router.post("/reports/bulk")
async def decide_reports(
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """The same decision for every selected report: all of them, or (on any error) none."""
    raw_ids = [v for v in form.getlist("report") if isinstance(v, str)]
    if not raw_ids:
        raise NothingSelected()
    if len(raw_ids) > MAX_BULK:
        raise BadRequest(f"At most {MAX_BULK} reports at once.")
    try:
        ids = list(dict.fromkeys(uuid.UUID(v) for v in raw_ids))
    except ValueError as exc:
        raise ReportNotFound() from exc
    body = _decision(form)
    # Each decision tells its reporters at once (an event), so every report is checked before
    # the first is decided: a bulk action stops before it starts, not half-way.
    for report_id in ids:
        report = await reports.get(session, report_id)
        if report.status != "open":
            raise ReportAlreadyDecided(f"{report.target}: {ReportAlreadyDecided.message}")
        blocked_in = (
            report.verdict_category
            if report.kind == "wrongly_blocked" and report.verdict_action == "block"
            else None
        )
        if body.decision == "accept" and body.category is None and blocked_in is None:
            raise CategoryRequired(f"{report.target}: {CategoryRequired.message}")
    for report_id in ids:
        await create_filter_report_decision(
            report_id=report_id,
            body=body.model_copy(update={"target": None}),
            staff=signed.staff,
            session=session,
            runtime=runtime,
            ip=ip,
        )
    return see_other("/reports", notice=f"decided_{len(ids)}")
