"""The carrier's age policy: a single row (id 1) once the carrier has set it, none before
(the deployment's settings are the policy until then)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime

SINGLE_ROW = 1


class AgePolicyRow(Base):
    """Configuration, not personal data: no child is named here. The checks repeat the API's
    validation, so no other writer can store bands that contradict each other."""

    __tablename__ = "carrier_age_policy"
    __table_args__ = (
        CheckConstraint(f"id = {SINGLE_ROW}", name="single_row"),
        CheckConstraint(
            "transcripts_under_age >= 0 AND transcripts_under_age <= excerpts_under_age "
            "AND excerpts_under_age <= 18",
            name="message_bands",
        ),
        CheckConstraint("child_consent_age >= 0 AND child_consent_age <= 18", name="consent_age"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    transcripts_under_age: Mapped[int] = mapped_column(SmallInteger)
    excerpts_under_age: Mapped[int] = mapped_column(SmallInteger)
    listen_age_bands: Mapped[list[str]] = mapped_column(PortableJSON)  # AgeBand values
    child_consent_age: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))  # the carrier key's name
