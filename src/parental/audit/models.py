from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime
from parental.kit.ids import new_id


class AuditEvent(Base):
    """One line of the append-only audit log.

    Rows refer to families and children by id without foreign keys, so the record of what
    happened outlives what it happened to (until its retention limit).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_child_time", "child_id", "occurred_at"),
        Index("ix_audit_events_family_time", "family_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    family_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    child_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    child_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
