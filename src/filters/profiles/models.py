from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime
from parental.kit.ids import new_id


class FilterProfile(Base):
    """A child's filter settings. ``child_id`` names a child of the parental package by id."""

    __tablename__ = "filter_profiles"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    safesearch: Mapped[bool] = mapped_column(Boolean, default=True)
    # category key -> {"mode": "off" | "always" | "scheduled", "windows": [...]}
    categories: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FilterProfileEntry(Base):
    """A guardian's own allow or block of a name, possibly until a time (temporary unblock)."""

    __tablename__ = "filter_profile_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("filter_profiles.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(253))
    scope: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(5))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
