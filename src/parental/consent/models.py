"""Consent records: one row per change, never updated; a child's rows are numbered."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class Purpose(StrEnum):
    """What is collected about the child. Filtering is the carrier's core service on a child
    SIM and needs no consent."""

    LOCATION = "location"
    APP_USAGE = "app_usage"
    MESSAGES = "messages"  # alerts with excerpts, and whole conversations for the youngest
    LISTENING = "listening"  # a short recording around the child


class Party(StrEnum):
    GUARDIAN = "guardian"
    CHILD = "child"


class ConsentRecord(Base):
    """A guardian or the child gave or withdrew consent to one purpose, agreeing to the
    consent text of ``text_version``. The current consent of a party to a purpose is its row
    with the highest ``number``: numbers count a child's rows, so changes made within one
    clock tick still have an order (times alone would not)."""

    __tablename__ = "consent_records"
    __table_args__ = (UniqueConstraint("child_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("children.id", ondelete="CASCADE")
    )  # indexed by the unique (child_id, number), which every query starts with
    number: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(64))  # the guardian's account or the device
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
