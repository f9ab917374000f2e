from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, Index, SmallInteger, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime

_CARRIER_ROWS = text("device_id IS NULL")


class LocationFix(Base):
    """One position of a child: from the child's device (gps / network) or, with no device,
    the carrier's cell location of the child's line.

    ``id`` is derived from (device or child, ``fixed_at``), see ``telemetry.locations.keys``:
    the primary key is what makes a resent fix a duplicate. ``child_id`` and ``device_id``
    name rows of ``parental`` by id only (no foreign key): a removed child's fixes are deleted
    with the child, see ``telemetry.locations.service.erase_child``.
    """

    __tablename__ = "location_fixes"
    __table_args__ = (
        Index("ix_location_fixes_child_time", "child_id", "fixed_at"),
        # The carrier's positions are few beside the device's: finding a child's latest one
        # must not walk every device fix of the child.
        Index(
            "ix_location_fixes_carrier_time",
            "child_id",
            "fixed_at",
            sqlite_where=_CARRIER_ROWS,
            postgresql_where=_CARRIER_ROWS,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source: Mapped[str] = mapped_column(String(12))
    fixed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[int | None] = mapped_column(SmallInteger)
    charging: Mapped[bool | None] = mapped_column(Boolean)
