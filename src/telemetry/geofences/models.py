"""Places and the events they produced.

A place carries the state of its child there (what the latest decisive fix said, and when),
so tracking a child locks exactly the child's place rows and concurrent batches of the same
child take turns. ``child_id`` names a child of the parental package by id (no foreign key
across packages). ``timezone`` is the child's, copied so the worker can find due arrival
checks in SQL (``next_check_at``); it is brought up to date whenever the child's fixes are
tracked or a check runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Double, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime
from parental.kit.ids import new_id


class Place(Base):
    __tablename__ = "geofence_places"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(80))
    # {"kind": "circle", "latitude", "longitude", "radius_m"} or
    # {"kind": "polygon", "points": [[latitude, longitude], ...]}
    shape: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    # [{"days": [0, ...], "start": "08:00:00", "end": "14:00:00"}, ...]; empty: always
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON)
    notify_enter: Mapped[bool] = mapped_column(Boolean)
    notify_exit: Mapped[bool] = mapped_column(Boolean)
    # {"days": [0, ...], "since": "07:00:00", "by": "08:30:00"} or None
    arrive_by: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # inside, outside or unknown
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inside_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlaceEventRow(Base):
    """An enter, exit or not-arrived event, stored once under its key before it is published."""

    __tablename__ = "geofence_events"
    __table_args__ = (
        UniqueConstraint("child_id", "place_id", "kind", "occurred_at"),
        Index("ix_geofence_events_child_time", "child_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    place_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("geofence_places.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # fix time / deadline
    place_name: Mapped[str] = mapped_column(String(80))
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    accuracy_m: Mapped[float | None] = mapped_column(Double)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
