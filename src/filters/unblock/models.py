from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class UnblockRequest(Base):
    """A child asked, from the block page, for a blocked name to be opened.

    Asking again for the same name while a request is open adds to it (``ask_count``) rather
    than making another: ``open_key`` (unique, NULL once decided) holds that under concurrent
    requests. ``child_id`` names a child of the parental package by id (no foreign key across
    packages); ``entry_id`` the guardian's profile entry an allowing decision created.
    """

    __tablename__ = "unblock_requests"
    __table_args__ = (
        Index("ix_unblock_requests_child_time", "child_id", "created_at"),
        Index("ix_unblock_requests_decided_at", "decided_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    host: Mapped[str] = mapped_column(String(253))
    category: Mapped[str | None] = mapped_column(String(40))  # what blocked it when asked
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # "open", "allowed" or "denied"
    ask_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(12))
    allowed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
