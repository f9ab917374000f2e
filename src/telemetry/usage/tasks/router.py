"""Routes of tasks: a guardian sets the child tasks, removes them and answers the ones done;
the child's device lists them and marks one done.

The callers are the ``Guardian`` and ``ChildDevice`` of ``telemetry.usage.requests.router``.
Every guardian step is audited for the child; a task marked done is announced on the event
bus once committed (``telemetry.usage.events.TaskDone``).
"""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import status as http_status

from parental.kit.errors import AppError, error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from telemetry.usage.requests.errors import (
    ScreenTimeTaskNotDone,
    ScreenTimeTaskNotFound,
    ScreenTimeTaskNotOpen,
    TooManyOpenTasks,
)
from telemetry.usage.requests.router import ChildDevice, Guardian
from telemetry.usage.tasks import service
from telemetry.usage.tasks.schemas import (
    TaskCreate,
    TaskDecisionCreate,
    TaskPage,
    TaskRead,
    TaskStatus,
)

CHILD_TASKS = "/children/{child_id}/screen-time/tasks"
DEVICE_TASKS = "/device/screen-time/tasks"

StatusQuery = Annotated[TaskStatus | None, Query(description="Only tasks in this state.")]


def _target(task: TaskRead) -> dict[str, Any]:
    if task.app is not None:
        return {"app": task.app}
    if task.category is not None:
        return {"category": task.category}
    return {"total": True}


def create_guardian_router(
    *, guardian: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["screen time"], responses=error_responses(*caller_errors))
    GuardianDep = Annotated[Guardian, Depends(guardian)]
    one_task = error_responses(ScreenTimeTaskNotFound)

    @router.post(
        CHILD_TASKS,
        status_code=http_status.HTTP_201_CREATED,
        responses=error_responses(TooManyOpenTasks),
    )
    async def create_screen_time_task(body: TaskCreate, caller: GuardianDep) -> TaskRead:
        """Set the child a task whose reward, once approved done, is extra time that day for
        an app, a category or (neither given) the total screen time."""
        task = await service.create(
            caller.session,
            caller.child_id,
            body,
            created_by=caller.account_id,
            now=caller.now(),
        )
        await caller.changed(
            "screen_time_task.created",
            "screen_time_task",
            task.id,
            {"title": task.title, "reward_minutes": task.reward_minutes, **_target(task)},
            policy_changed=False,
        )
        return task

    @router.get(CHILD_TASKS, responses=error_responses(InvalidCursor))
    async def list_child_screen_time_tasks(
        caller: GuardianDep,
        status: StatusQuery = None,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
    ) -> TaskPage:
        """The child's tasks, newest first, with their state."""
        return await service.page(
            caller.session,
            caller.child_id,
            statuses=None if status is None else [status],
            limit=limit,
            cursor=cursor,
        )

    @router.delete(
        CHILD_TASKS + "/{task_id}", status_code=http_status.HTTP_204_NO_CONTENT, responses=one_task
    )
    async def delete_screen_time_task(task_id: uuid.UUID, caller: GuardianDep) -> None:
        """Remove a task, whatever its state (extra time already granted for it stays)."""
        row = await service.get(caller.session, caller.child_id, task_id)
        details = {"title": row.title, "status": row.status}
        await service.remove(caller.session, row)
        await caller.changed(
            "screen_time_task.deleted", "screen_time_task", task_id, details, policy_changed=False
        )

    @router.post(
        CHILD_TASKS + "/{task_id}/decision",
        responses={**one_task, **error_responses(ScreenTimeTaskNotDone)},
    )
    async def create_screen_time_task_decision(
        task_id: uuid.UUID, body: TaskDecisionCreate, caller: GuardianDep
    ) -> TaskRead:
        """Approve a task the child marked done (its reward is granted for the child's today)
        or decline it."""
        task, revision = await service.decide(
            caller.session,
            await service.get(caller.session, caller.child_id, task_id),
            body,
            decided_by=caller.account_id,
            now=caller.now(),
            zone=caller.zone,
        )
        details: dict[str, Any] = {"title": task.title, "decision": body.decision}
        if revision is not None:
            assert task.granted_day is not None
            details |= {
                "minutes": task.reward_minutes,
                **_target(task),
                "day": task.granted_day.isoformat(),
                "revision": revision,
            }
        await caller.changed(
            "screen_time_task.decided",
            "screen_time_task",
            task.id,
            details,
            policy_changed=revision is not None,  # the reward granted
        )
        return task

    return router


def create_device_router(
    *,
    reader: Callable[..., Any],
    writer: Callable[..., Any],
    caller_errors: tuple[type[AppError], ...],
    write_errors: tuple[type[AppError], ...],
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    ReaderDep = Annotated[ChildDevice, Depends(reader)]
    WriterDep = Annotated[ChildDevice, Depends(writer)]

    @router.get(DEVICE_TASKS, responses=error_responses(InvalidCursor))
    async def list_device_screen_time_tasks(
        device: ReaderDep,
        status: StatusQuery = None,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        cursor: CursorQuery = None,
    ) -> TaskPage:
        """The child's tasks, newest first: without ``status``, the ones still to do or
        waiting for a guardian's answer."""
        return await service.page(
            device.session,
            device.child_id,
            statuses=service.UNANSWERED if status is None else [status],
            limit=limit,
            cursor=cursor,
        )

    @router.post(
        DEVICE_TASKS + "/{task_id}/done",
        responses=error_responses(*write_errors, ScreenTimeTaskNotFound, ScreenTimeTaskNotOpen),
    )
    async def create_device_screen_time_task_done(
        task_id: uuid.UUID, device: WriterDep
    ) -> TaskRead:
        """Say an open task is done; a guardian then approves it (the reward is granted) or
        declines it."""
        task, event = await service.mark_done(
            device.session,
            await service.get(device.session, device.child_id, task_id),
            device_id=device.device_id,
            now=device.now(),
        )
        await device.did(
            "screen_time_task.done", "screen_time_task", task.id, {"title": task.title}
        )
        await device.announce(event)
        return task

    return router
