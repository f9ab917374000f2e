"""Reading a child's usage over several local days, for the guardians' report and the weekly
summary: one query of the sessions overlapping both periods, the apps' names and categories,
and the pure aggregation of ``telemetry.usage.reports.aggregate``. Runs in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage import repository
from telemetry.usage.catalogue import lookup as catalogue
from telemetry.usage.events import SummaryAppFigure, WeeklyUsageSummary
from telemetry.usage.models import UsageSession
from telemetry.usage.policy import Category
from telemetry.usage.reports import aggregate as reports
from telemetry.usage.reports.schemas import (
    AppFigureRead,
    CategoryFigureRead,
    DayTotalRead,
    FigureRead,
    TopAppRead,
    UsageReportRead,
)
from telemetry.usage.service import APP, SCREEN
from telemetry.usage.sessions import MAX_SESSION, ForegroundSession, ScreenSession, day_bounds

WEEK = 7
K = TypeVar("K", bound=str)


def split(rows: Sequence[UsageSession]) -> tuple[list[ForegroundSession], list[ScreenSession]]:
    """Stored rows as the foreground and the screen-on sessions ``sessions`` counts."""
    foreground = [
        ForegroundSession(row.app, row.started_at, row.ended_at)
        for row in rows
        if row.kind == APP and row.app is not None
    ]
    screen = [ScreenSession(row.started_at, row.ended_at) for row in rows if row.kind == SCREEN]
    return foreground, screen


@dataclass(frozen=True)
class Counted:
    """A report with the names and categories of the apps in it."""

    report: reports.Report
    names: Mapping[str, str]
    categories: Mapping[str, Category]

    def category(self, app: str) -> Category:
        return self.categories.get(app, Category.OTHER)


async def count(
    session: AsyncSession, child_id: uuid.UUID, *, last_day: date, days: int, zone: ZoneInfo
) -> Counted:
    """The period of ``days`` local dates ending with ``last_day`` against the one before."""
    start, end = reports.span(last_day, days, zone)
    rows = await repository.overlapping(
        session, child_id, start=start, end=end, longest=MAX_SESSION
    )
    foreground, screen = split(rows)
    apps = {s.app for s in foreground}
    categories = await catalogue.categories_for(session, child_id, apps)
    report = reports.report(
        foreground, screen, last_day=last_day, days=days, zone=zone, categories=categories
    )
    used = {*report.current.apps, *report.previous.apps}
    names = await repository.app_names(session, child_id, used)
    return Counted(report, names, categories)


def _figure(minutes: float, previous: float) -> dict[str, Any]:
    return {
        "minutes": minutes,
        "previous_minutes": previous,
        "change_minutes": minutes - previous,
        "change_percent": reports.change_percent(minutes, previous),
    }


def _daily(period: reports.PeriodUsage) -> list[DayTotalRead]:
    return [
        DayTotalRead(day=d.day, total_minutes=d.total, categories=dict(d.categories))
        for d in period.daily
    ]


def _ranked(current: Mapping[K, float], previous: Mapping[K, float]) -> list[K]:
    """Keys of either, most in ``current`` first, then most in ``previous``, then by key."""
    return sorted(
        {*current, *previous}, key=lambda k: (-current.get(k, 0.0), -previous.get(k, 0.0), k)
    )


async def period_report(
    session: AsyncSession, child_id: uuid.UUID, *, last_day: date, days: int, zone: ZoneInfo
) -> UsageReportRead:
    """The guardians' report of the ``days`` local dates ending with ``last_day``."""
    counted = await count(session, child_id, last_day=last_day, days=days, zone=zone)
    now, before = counted.report.current, counted.report.previous
    return UsageReportRead(
        days=days,
        timezone=zone.key,
        first_day=now.first_day,
        last_day=now.last_day,
        previous_first_day=before.first_day,
        previous_last_day=before.last_day,
        total=FigureRead.model_validate(_figure(now.total, before.total)),
        categories=[
            CategoryFigureRead(
                category=c,
                **_figure(now.categories.get(c, 0.0), before.categories.get(c, 0.0)),
            )
            for c in _ranked(now.categories, before.categories)
        ],
        apps=[
            AppFigureRead(
                app=app,
                name=counted.names.get(app),
                category=counted.category(app),
                **_figure(now.apps.get(app, 0.0), before.apps.get(app, 0.0)),
            )
            for app in _ranked(now.apps, before.apps)
        ],
        daily=_daily(now),
        previous_daily=_daily(before),
        top_apps=[
            TopAppRead(
                app=top.app,
                name=counted.names.get(top.app),
                category=counted.category(top.app),
                minutes=top.minutes,
                share=top.share,
            )
            for top in counted.report.top_apps
        ],
    )


def week_end(week_start: date, zone: ZoneInfo) -> datetime:
    """When the local week starting on ``week_start`` ends: the next Monday's first instant."""
    return day_bounds(week_start + timedelta(days=WEEK), zone)[0]


async def weekly_summary(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    week_start: date,
    zone: ZoneInfo,
    summary_id: uuid.UUID,
) -> WeeklyUsageSummary:
    """The summary of the child's local week from the Monday ``week_start`` to the Sunday."""
    last_day = week_start + timedelta(days=WEEK - 1)
    counted = await count(session, child_id, last_day=last_day, days=WEEK, zone=zone)
    now, before = counted.report.current, counted.report.previous
    return WeeklyUsageSummary(
        occurred_at=week_end(week_start, zone),
        summary_id=summary_id,
        child_id=child_id,
        week_start=week_start,
        week_end=last_day,
        timezone=zone.key,
        total_minutes=now.total,
        previous_total_minutes=before.total,
        categories=dict(now.categories),
        previous_categories=dict(before.categories),
        top_apps=[
            SummaryAppFigure(
                app=top.app,
                name=counted.names.get(top.app),
                category=counted.category(top.app),
                minutes=top.minutes,
                share=top.share,
            )
            for top in counted.report.top_apps
        ],
    )
