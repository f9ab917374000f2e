"""Tasks as the API takes and shows them.

A task is checked whole (422, nothing stored): a title of 1 to 200 characters without control
characters, a reward of 1 to 240 minutes, and at most one of ``app`` and ``category`` (neither:
the reward is for the total screen time).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from telemetry.usage.policy import Category
from telemetry.usage.requests.schemas import AppId, ExtraMinutes, text
from telemetry.usage.rules.schemas import Request

MAX_TITLE = 200

TaskStatus = Literal["open", "done", "approved", "declined"]


def _title(value: str) -> str:
    title = text(value)
    if not title:
        raise ValueError("a title is not blank")
    return title


class TaskCreate(Request):
    """A task for the child; its reward is extra time for an app, a category or (neither)
    the total, granted for the day a guardian approves it done."""

    title: Annotated[str, Field(max_length=MAX_TITLE), AfterValidator(_title)]
    reward_minutes: ExtraMinutes
    app: AppId | None = None
    category: Category | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.app is not None and self.category is not None:
            raise ValueError("a reward is for an app, a category or the total: not two")
        return self


class TaskDecisionCreate(Request):
    """``approve`` grants the reward for the child's today; ``decline`` grants nothing."""

    decision: Literal["approve", "decline"]


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    title: str
    reward_minutes: int
    app: str | None
    category: Category | None = Field(description="With app, null: the reward is for the total.")
    status: TaskStatus
    created_at: datetime
    done_at: datetime | None
    decided_at: datetime | None
    granted_day: date | None = Field(description="Approved: the child's local date granted.")


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_cursor: str | None
