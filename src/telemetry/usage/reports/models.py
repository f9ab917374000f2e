from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime


class WeeklySummaryMark(Base):
    """A child's local week (``week_start``, a Monday) whose summary was dealt with: published
    (``sent``), or not because monitoring no longer applied or the child came later.

    Stored under its unique key before the event is published, so several workers at once
    publish one summary. ``child_id`` names a row of ``parental`` by id only (no foreign key):
    the marks go with the child (``notices.erase_child``) and with the usage retention."""

    __tablename__ = "usage_weekly_summaries"
    __table_args__ = (UniqueConstraint("child_id", "week_start"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    week_start: Mapped[date] = mapped_column(Date, index=True)  # the retention purge
    sent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LimitReachedMark(Base):
    """A limit that ran out on a child's local ``day``, its event published: ``kind`` "app"
    (``target`` the app id), "category" (``target`` the category) or "total" (``target`` "",
    not NULL, so that the unique key holds). Stored under its unique key before the event is
    published, so it is told once per child, day and limit."""

    __tablename__ = "usage_limit_reached"
    __table_args__ = (UniqueConstraint("child_id", "day", "kind", "target"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    day: Mapped[date] = mapped_column(Date, index=True)  # the retention purge
    kind: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
