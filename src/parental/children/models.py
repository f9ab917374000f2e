from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class Child(Base):
    """A child on a child SIM. From the 18th birthday (in ``timezone``) monitoring stops; the
    worker then records the step-down (``stepped_down_at``: guardians and device told) and,
    ``adult_data_grace_days`` later, deletes the monitored data (``adult_data_erased_at``),
    keeping this row so the family sees what happened (``parental.child_data.step_down``)."""

    __tablename__ = "children"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    family_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lines.id"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    birthdate: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stepped_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    adult_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
