"""The dashboard and the activity page (the audit log of staff actions)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from filters.curation import sources, versions
from parental.console import actions, repository
from parental.console.web import ConsoleRoute, SignedIn, render
from parental.deps import RuntimeDep, SessionDep
from parental.kit.paging import DEFAULT_PAGE_SIZE, decode_cursor, encode_cursor

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

CHART_DAYS = 14
# The chart's drawing box, in SVG user units (it scales with the page).
CHART_WIDTH, CHART_HEIGHT = 280, 100


def _chart(totals: dict[date, dict[str, int]], days: list[date]) -> list[dict[str, object]]:
    """One bar pair per day: lookups and blocks, as heights in the chart's box."""
    peak = max((sum(totals.get(d, {}).values()) for d in days), default=0) or 1
    step = CHART_WIDTH / len(days)
    bars = []
    for index, day in enumerate(days):
        counts = totals.get(day, {})
        total, blocked = sum(counts.values()), counts.get("block", 0)
        bars.append(
            {
                "day": day,
                "total": total,
                "blocked": blocked,
                "x": round(index * step + 1, 1),
                "width": round(step - 2, 1),
                "total_height": round(CHART_HEIGHT * total / peak, 1),
                "blocked_height": round(CHART_HEIGHT * blocked / peak, 1),
            }
        )
    return bars


@router.get("/")
async def show_dashboard(
    request: Request, signed: SignedIn, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The version in force, the sources and their last refresh, the queue, the last days."""
    latest = await versions.list_versions(session, limit=1, before=None)
    listed = await sources.list_sources(session)
    per_category: dict[str, int] = defaultdict(int)
    for source in listed:
        per_category[source.category] += source.draft_entries
    today = runtime.clock.now().date()
    days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    totals = await repository.verdict_totals(session, since=today - timedelta(days=CHART_DAYS))
    return render(
        request,
        "dashboard.html",
        {
            "version": latest.items[0] if latest.items else None,
            "in_force": runtime.snapshots.version,
            "sources": listed,
            "per_category": sorted(per_category.items()),
            "open_reports": await repository.open_reports(session),
            "chart": _chart(totals, days),
            "chart_box": (CHART_WIDTH, CHART_HEIGHT),
        },
    )


@router.get("/activity")
async def show_activity(
    request: Request,
    signed: SignedIn,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Every staff action, newest first, by actor and kind of action."""
    before = None
    if cursor:
        before = decode_cursor(cursor)
    rows = await repository.audit_events(
        session,
        limit=DEFAULT_PAGE_SIZE + 1,
        before=before,
        actor=actor or None,
        action_prefix=action or None,
    )
    page = rows[:DEFAULT_PAGE_SIZE]
    next_cursor = (
        encode_cursor(page[-1].occurred_at, page[-1].id) if len(rows) > len(page) else None
    )
    who = await actions.staff_names(
        session, {f"{r.actor_type}:{r.actor_id}" for r in page if r.actor_id}
    )
    return render(
        request,
        "activity.html",
        {
            "events": page,
            "next_cursor": next_cursor,
            "filters": {"actor": actor, "action": action},
            "who": who,
        },
    )
