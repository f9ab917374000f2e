from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime

APP_ROWS = text("app IS NOT NULL")
SCREEN_ROWS = text("app IS NULL")


class UsageSession(Base):
    """One session as the child's device reported it: an app in front (``kind`` "app", ``app``
    its package or bundle id) or the screen on (``kind`` "screen", ``app`` None).

    Stored raw, one row per reported session: minutes are counted from these rows with
    ``telemetry.usage.sessions.daily_usage``, which takes unions, so overlapping rows count
    once. A session is known by (device, kind, app, start): a resent one is a duplicate, one
    reported again with a later end extends the row (``telemetry.usage.service``). Two partial
    unique indexes say so, as NULL (a screen session's app) is never equal to NULL.
    ``child_id`` and ``device_id`` name rows of ``parental`` by id only (no foreign key): a
    removed child's sessions are deleted with the child (``service.erase_child``).
    """

    __tablename__ = "usage_sessions"
    __table_args__ = (
        Index("ix_usage_sessions_child_time", "child_id", "started_at"),
        Index("ix_usage_sessions_started_at", "started_at"),  # the retention purge
        Index(
            "uq_usage_sessions_app",
            "device_id",
            "kind",
            "app",
            "started_at",
            unique=True,
            sqlite_where=APP_ROWS,
            postgresql_where=APP_ROWS,
        ),
        Index(
            "uq_usage_sessions_screen",
            "device_id",
            "kind",
            "started_at",
            unique=True,
            sqlite_where=SCREEN_ROWS,
            postgresql_where=SCREEN_ROWS,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(8))
    app: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageApp(Base):
    """The name a child's devices last reported for an app id, shown to the child's guardians
    beside the id.

    Per child, not shared: that a child has an app is the child's data (erased and purged with
    the sessions), and one family's device must not rename an app for the others. ``seen_at``
    is the end of the latest session the name came with; an older report does not overwrite a
    newer name. ``ix_usage_apps_app`` finds the children who have an app, whose devices are
    told to fetch their policy when a curator changes the app's catalogue row.
    """

    __tablename__ = "usage_apps"
    __table_args__ = (Index("ix_usage_apps_app", "app"),)

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    app: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
