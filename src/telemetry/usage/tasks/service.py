"""Tasks a guardian sets a child, which earn extra time when done.

- A guardian sets a task (a title, a reward in minutes for an app, a category or the total),
  lists and removes them. A child has at most ``MAX_OPEN_TASKS`` tasks not yet answered
  (409 ``TooManyOpenTasks``).
- The child's device lists the child's tasks and marks an open one done (409 otherwise).
- A guardian approves a done task, which grants its reward as extra time for the child's local
  today (``telemetry.usage.rules.service.grant_extra_time``: a reward for the total lifts the total
  limit only, see ``telemetry.usage.evaluate``), or declines it; either is final, and a task
  not done cannot be answered (409).

Services run in the caller's transaction and never commit; marking done returns the event
for the caller to publish once committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.paging import decode_cursor, encode_cursor
from telemetry.usage.events import TaskDone
from telemetry.usage.policy import Category
from telemetry.usage.requests.errors import (
    ScreenTimeTaskNotDone,
    ScreenTimeTaskNotFound,
    ScreenTimeTaskNotOpen,
    TooManyOpenTasks,
)
from telemetry.usage.rules import service as rules
from telemetry.usage.rules.schemas import ExtraTimeTarget
from telemetry.usage.service import local_today
from telemetry.usage.tasks.models import ScreenTimeTask as Row
from telemetry.usage.tasks.schemas import TaskCreate, TaskDecisionCreate, TaskPage, TaskRead

MAX_OPEN_TASKS = 100
OPEN, DONE = "open", "done"
UNANSWERED = (OPEN, DONE)


# --- repository -------------------------------------------------------------------------


async def _changed(session: AsyncSession, task_id: uuid.UUID, was: str, **values: Any) -> bool:
    """Move the task on from ``was`` with ``values``; false if it was no longer ``was``."""
    result: Any = await session.execute(
        update(Row)
        .where(Row.id == task_id, Row.status == was)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1


async def get(session: AsyncSession, child_id: uuid.UUID, task_id: uuid.UUID) -> Row:
    """The child's task, or 404 (another child's id is as unknown as a made-up one)."""
    row: Row | None = await session.scalar(
        select(Row)
        .where(Row.id == task_id, Row.child_id == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise ScreenTimeTaskNotFound()
    return row


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete tasks last changed before ``before``; how many went."""
    result: Any = await session.execute(
        delete(Row).where(Row.updated_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's tasks; how many went."""
    result: Any = await session.execute(
        delete(Row).where(Row.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    count = int(result.rowcount or 0)
    return {"screen_time_tasks": count} if count else {}


# --- the guardian's and the device's steps ----------------------------------------------


async def create(
    session: AsyncSession,
    child_id: uuid.UUID,
    body: TaskCreate,
    *,
    created_by: str,
    now: datetime,
) -> TaskRead:
    """Set the child a task (module doc)."""
    unanswered = await session.scalar(
        select(func.count()).where(Row.child_id == child_id, Row.status.in_(UNANSWERED))
    )
    if (unanswered or 0) >= MAX_OPEN_TASKS:
        raise TooManyOpenTasks()
    row = Row(
        id=uuid.uuid4(),
        child_id=child_id,
        title=body.title,
        reward_minutes=body.reward_minutes,
        app=body.app,
        category=body.category,
        status=OPEN,
        created_at=now,
        created_by=created_by,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return TaskRead.model_validate(row)


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    statuses: Sequence[str] | None,
    limit: int,
    cursor: str | None,
) -> TaskPage:
    """The child's tasks with those ``statuses`` (all if None), newest first."""
    query = select(Row).where(Row.child_id == child_id)
    if statuses is not None:
        query = query.where(Row.status.in_(statuses))
    if cursor:
        at, row_id = decode_cursor(cursor)
        query = query.where(or_(Row.created_at < at, and_(Row.created_at == at, Row.id < row_id)))
    query = query.order_by(Row.created_at.desc(), Row.id.desc()).limit(limit + 1)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(
        items=[TaskRead.model_validate(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None,
    )


async def remove(session: AsyncSession, row: Row) -> None:
    """Delete the task, whatever its state (an approved one's grant stays)."""
    await session.delete(row)
    await session.flush()


async def mark_done(
    session: AsyncSession, row: Row, *, device_id: uuid.UUID, now: datetime
) -> tuple[TaskRead, TaskDone]:
    """The child says the open task is done (409 if it is not open)."""
    if row.status != OPEN or not await _changed(
        session, row.id, OPEN, status=DONE, done_at=now, done_by=device_id, updated_at=now
    ):
        raise ScreenTimeTaskNotOpen()
    await session.refresh(row)
    event = TaskDone(
        occurred_at=now,
        task_id=row.id,
        child_id=row.child_id,
        title=row.title,
        reward_minutes=row.reward_minutes,
    )
    return TaskRead.model_validate(row), event


async def decide(
    session: AsyncSession,
    row: Row,
    body: TaskDecisionCreate,
    *,
    decided_by: str,
    now: datetime,
    zone: ZoneInfo,
) -> tuple[TaskRead, int | None]:
    """Approve (the reward is granted for the child's today) or decline a done task (409 if
    it is not done); the rules' revision if extra time was granted."""
    approve = body.decision == "approve"
    today = local_today(now, zone)
    if row.status != DONE or not await _changed(
        session,
        row.id,
        DONE,
        status="approved" if approve else "declined",
        decided_at=now,
        decided_by=decided_by,
        granted_day=today if approve else None,
        updated_at=now,
    ):
        raise ScreenTimeTaskNotDone()
    revision = None
    if approve:
        granted = await rules.grant_extra_time(
            session,
            row.child_id,
            ExtraTimeTarget(
                app=row.app,
                category=None if row.category is None else Category(row.category),
                minutes=row.reward_minutes,
            ),
            granted_by=decided_by,
            now=now,
            today=today,
        )
        revision = granted.revision
    await session.refresh(row)
    return TaskRead.model_validate(row), revision
