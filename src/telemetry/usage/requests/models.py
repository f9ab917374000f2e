"""What a child's device asks a guardian for: extra time today, or leave to install an app.

One row per request. ``status`` is what was decided: "pending", "approved" or "declined"; an
extra-time request still pending at ``expires_at`` (the end of the child's local day it was
asked on, ``day``) reads as "expired" and can no longer be answered, without anyone writing to
the row. An install request does not expire. ``open_key`` (unique, NULL once answered) keeps
one pending install request per child and app under concurrent asks.

``updated_at`` is the last change (asked or answered): the retention purge goes by it, except
for each app's latest install answer, which stays in force (the device's policy blocks a
declined app) until a newer answer or the child's removal. ``child_id`` and ``device_id``
name rows of ``parental`` by id only (no foreign key across packages).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class ScreenTimeRequest(Base):
    __tablename__ = "screen_time_requests"
    __table_args__ = (
        Index("ix_screen_time_requests_child_time", "child_id", "created_at"),
        Index("ix_screen_time_requests_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(12))  # "extra_time" or "app_install"
    app: Mapped[str | None] = mapped_column(String(255))
    app_name: Mapped[str | None] = mapped_column(String(255))  # app_install
    category: Mapped[str | None] = mapped_column(String(12))  # extra_time, instead of an app
    minutes: Mapped[int | None] = mapped_column(Integer)  # extra_time: asked for
    message: Mapped[str | None] = mapped_column(String(500))
    day: Mapped[date | None] = mapped_column(Date)  # extra_time: the child's local date
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))  # the guardian's account id
    granted_minutes: Mapped[int | None] = mapped_column(Integer)
    reply: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
