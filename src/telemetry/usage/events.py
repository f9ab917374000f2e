"""Screen-time events, for the notification side to push to the guardians.

What the child's device asked of its guardians (``ExtraTimeRequested``, ``AppInstallRequested``,
``TaskDone``) is published once the request's transaction has committed (the composition root
commits, then publishes), once per new request or task marked done: asking again for an
install that is still pending publishes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel

from parental.kit.events import Event
from telemetry.usage.policy import Category


class ExtraTimeRequested(Event):
    """The child asked for ``minutes`` more today for ``app`` or ``category``."""

    request_id: uuid.UUID
    child_id: uuid.UUID
    app: str | None
    category: str | None
    minutes: int
    message: str | None


class AppInstallRequested(Event):
    """The child asked for leave to install ``app`` (``app_name`` as the device named it)."""

    request_id: uuid.UUID
    child_id: uuid.UUID
    app: str
    app_name: str
    message: str | None


class TaskDone(Event):
    """The child marked a task done; a guardian approves (the reward is granted) or declines."""

    task_id: uuid.UUID
    child_id: uuid.UUID
    title: str
    reward_minutes: int


# --- usage reports and limits (told once: stored under a unique key first, published after
# the transaction that stored it commits) ---------------------------------------------------


class SummaryAppFigure(BaseModel):
    """One of the week's most used apps."""

    app: str
    name: str | None
    category: Category
    minutes: float
    share: float  # of the week's app time (the apps' minutes added up), 0 to 1


class WeeklyUsageSummary(Event):
    """The child's local week (Monday to Sunday in ``timezone``) has ended: its screen-on time
    and minutes per category against the week before, and its most used apps. Once per child
    and week (``summary_id`` names the stored mark), only while monitoring applies to the
    child. ``occurred_at``: when the week ended (Monday 00:00 in the child's zone)."""

    summary_id: uuid.UUID
    child_id: uuid.UUID
    week_start: date
    week_end: date  # the Sunday, included
    timezone: str
    total_minutes: float
    previous_total_minutes: float
    categories: dict[Category, float]
    previous_categories: dict[Category, float]
    top_apps: list[SummaryAppFigure]


class ScreenTimeLimitReached(Event):
    """An upload of the child's device used up one of today's limits: an app's (``app``), a
    category's (``category``) or the screen-on total. Once per child, local ``day`` and limit
    (``notice_id`` names the stored mark), and only if the guardians want it
    (``ScreenTimeRules.notify_limit_reached``). ``minutes``: the day's limit with the extra
    time granted for it. ``occurred_at``: when the upload arrived."""

    notice_id: uuid.UUID
    child_id: uuid.UUID
    day: date
    timezone: str
    limit: Literal["app", "category", "total"]
    app: str | None = None
    app_name: str | None = None
    category: Category | None = None
    minutes: int
