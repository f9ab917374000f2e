from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from filters.reports.models import FilterReport, FilterReportSubmission


async def open_report(
    session: AsyncSession, values: dict[str, Any], open_key: str
) -> FilterReport | None:
    """The open report with ``open_key``, made from ``values`` unless another request has one.

    INSERT ... ON CONFLICT DO NOTHING (both engines speak it), so two first reports of a target
    at once make one report; None only if that report was decided in between.
    """
    build = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        build(FilterReport).values(values).on_conflict_do_nothing(index_elements=["open_key"])
    )
    result: FilterReport | None = await session.scalar(
        select(FilterReport)
        .where(FilterReport.open_key == open_key)
        .execution_options(populate_existing=True)
    )
    return result


async def add(session: AsyncSession, row: FilterReportSubmission) -> None:
    session.add(row)
    await session.flush()


async def count_submission(session: AsyncSession, report_id: uuid.UUID, now: datetime) -> None:
    """One more reporter, counted in SQL so concurrent submissions all count."""
    await session.execute(
        update(FilterReport)
        .where(FilterReport.id == report_id)
        .values(reporter_count=FilterReport.reporter_count + 1, last_reported_at=now)
        .execution_options(synchronize_session=False)
    )


async def get(session: AsyncSession, report_id: uuid.UUID) -> FilterReport | None:
    return await session.get(FilterReport, report_id, populate_existing=True)


async def find_submission(
    session: AsyncSession,
    report_id: uuid.UUID,
    *,
    reporter_type: str,
    reporter_id: str,
    child_id: uuid.UUID | None,
) -> FilterReportSubmission | None:
    result: FilterReportSubmission | None = await session.scalar(
        select(FilterReportSubmission).where(
            FilterReportSubmission.report_id == report_id,
            FilterReportSubmission.reporter_type == reporter_type,
            FilterReportSubmission.reporter_id == reporter_id,
            FilterReportSubmission.child_id == child_id
            if child_id is not None
            else FilterReportSubmission.child_id.is_(None),
        )
    )
    return result


async def submissions(
    session: AsyncSession, report_id: uuid.UUID, *, limit: int | None = None
) -> list[FilterReportSubmission]:
    """The report's submissions, newest first."""
    query = (
        select(FilterReportSubmission)
        .where(FilterReportSubmission.report_id == report_id)
        .order_by(FilterReportSubmission.created_at.desc(), FilterReportSubmission.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def child_submissions(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
    reporter_type: str | None = None,
) -> list[tuple[FilterReportSubmission, FilterReport]]:
    """A child's submissions with their reports, newest first."""
    sub = FilterReportSubmission
    query = (
        select(sub, FilterReport)
        .join(FilterReport, FilterReport.id == sub.report_id)
        .where(sub.child_id == child_id)
    )
    if reporter_type is not None:
        query = query.where(sub.reporter_type == reporter_type)
    if before is not None:
        at, row_id = before
        query = query.where(or_(sub.created_at < at, and_(sub.created_at == at, sub.id < row_id)))
    query = query.order_by(sub.created_at.desc(), sub.id.desc()).limit(limit)
    return [(s, r) for s, r in (await session.execute(query)).all()]


async def queue(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[int, datetime, uuid.UUID] | None,
    status: str | None,
    kind: str | None,
    category: str | None,
    oldest_first: bool = False,
) -> list[FilterReport]:
    """Reports, most-reported first, then oldest first (``oldest_first``: oldest first)."""
    query = select(FilterReport)
    if status is not None:
        query = query.where(FilterReport.status == status)
    if kind is not None:
        query = query.where(FilterReport.kind == kind)
    if category is not None:
        query = query.where(FilterReport.verdict_category == category)
    if oldest_first:
        if after is not None:
            _, at, row_id = after
            query = query.where(
                or_(
                    FilterReport.created_at > at,
                    and_(FilterReport.created_at == at, FilterReport.id > row_id),
                )
            )
        query = query.order_by(FilterReport.created_at, FilterReport.id).limit(limit)
        return list((await session.scalars(query)).all())
    if after is not None:
        count, at, row_id = after
        query = query.where(
            or_(
                FilterReport.reporter_count < count,
                and_(FilterReport.reporter_count == count, FilterReport.created_at > at),
                and_(
                    FilterReport.reporter_count == count,
                    FilterReport.created_at == at,
                    FilterReport.id > row_id,
                ),
            )
        )
    query = query.order_by(
        FilterReport.reporter_count.desc(), FilterReport.created_at, FilterReport.id
    ).limit(limit)
    return list((await session.scalars(query)).all())


async def close(session: AsyncSession, report_id: uuid.UUID, values: dict[str, Any]) -> bool:
    """Record a decision on an open report; false if another request decided it first."""
    result = await session.execute(
        update(FilterReport)
        .where(FilterReport.id == report_id, FilterReport.status == "open")
        .values(open_key=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def purge(session: AsyncSession, *, decided_before: datetime, open_before: datetime) -> int:
    """Delete reports decided before ``decided_before`` and open reports last reported before
    ``open_before``, with their submissions; returns the reports."""
    expired = or_(
        and_(FilterReport.status != "open", FilterReport.decided_at < decided_before),
        and_(FilterReport.status == "open", FilterReport.last_reported_at < open_before),
    )
    await session.execute(
        delete(FilterReportSubmission).where(
            FilterReportSubmission.report_id.in_(select(FilterReport.id).where(expired))
        )
    )
    result = await session.execute(delete(FilterReport).where(expired))
    return int(result.rowcount)  # type: ignore[attr-defined]
