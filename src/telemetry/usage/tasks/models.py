"""Tasks a guardian sets a child ("tidy your room: 30 minutes of games"), one row each.

``status`` moves one way: "open" (set), "done" (the child's device said so), then "approved"
(the reward was granted as extra time for the child's local ``granted_day``) or "declined".
The reward is for ``app``, for ``category`` or, when neither is set, for the total screen
time. ``updated_at`` is the last change, which the retention purge goes by. ``child_id`` and
``done_by`` name rows of ``parental`` by id only (no foreign key across packages).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class ScreenTimeTask(Base):
    __tablename__ = "screen_time_tasks"
    __table_args__ = (
        Index("ix_screen_time_tasks_child_time", "child_id", "created_at"),
        Index("ix_screen_time_tasks_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(200))
    app: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str | None] = mapped_column(String(12))
    reward_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))  # the guardian's account id
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the child's device
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    granted_day: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
