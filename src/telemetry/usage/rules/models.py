"""The screen-time rules a guardian set for a child, one row per child.

``rules`` holds ``ScreenTimeRules`` as JSON (``telemetry.usage.rules.schemas``). The pause and
the extra time granted live in the same row: the device's policy is read in one lookup, and one
``revision`` counts every change of any of them (the device's ``ETag`` changes with it too).
``extra_time`` is a JSON list of grants (day, app or category, minutes, granted_at, granted_by)
rather than rows of their own: only the child's local today's grants ever count, so each grant
drops the older days' ones, and the audit log keeps the record of who granted what.
``child_id`` names a child of the parental package by id (no foreign key across packages); the
row is deleted with the child (``telemetry.usage.rules.service.erase_child``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime


class ScreenTimePolicy(Base):
    __tablename__ = "screen_time_policies"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    revision: Mapped[int] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{"day": "2026-11-25", "app": ..., "category": ..., "minutes": 15, "granted_at": ...,
    #   "granted_by": account id}, ...]: only the child's local today's count.
    extra_time: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
