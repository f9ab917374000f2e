"""Alarm rows, the guardian's settings per child, one status row per device and one handset
hash per line.

Children, devices and lines are rows of ``parental``, named here by id only (no foreign key
across packages): the composition root deletes a removed child's rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class Alarm(Base):
    """One alarm raised for a child: what, when, and what a guardian needs to act on it.

    ``dedup_key`` (SOS only) makes a press sent twice one row: a hash of the device and the
    client's id for it, or of the press time when the client gave none.
    """

    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_child_time", "child_id", "occurred_at"),
        Index("ix_alarms_occurred_at", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))  # sos, low_battery, device_silent, sim_moved
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[int | None] = mapped_column(Integer)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # device_silent


class AlarmSettings(Base):
    """A guardian's choices for a child; a child without a row has the configured defaults.
    SOS has no switch: it is always on."""

    __tablename__ = "alarm_settings"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    battery_threshold_pct: Mapped[int] = mapped_column(Integer)
    silent_after_minutes: Mapped[int] = mapped_column(Integer)
    low_battery_enabled: Mapped[bool] = mapped_column(Boolean)
    device_silent_enabled: Mapped[bool] = mapped_column(Boolean)
    sim_moved_enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceStatus(Base):
    """The last sign of life and battery reading of a device, overwritten in place: no history.

    Mirrors ``engine.Silence`` (``last_seen_at``, ``silent_due_at``, ``silence_noted_at``) and
    ``engine.BatteryState`` (``battery_*``).
    """

    __tablename__ = "alarm_device_status"

    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    silent_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    silence_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    battery_pct: Mapped[int | None] = mapped_column(Integer)
    charging: Mapped[bool | None] = mapped_column(Boolean)
    battery_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    battery_low_noted: Mapped[bool] = mapped_column(Boolean)
    app_version: Mapped[str | None] = mapped_column(String(32))


class LineHandset(Base):
    """The handset a line was last seen in, as the carrier reported it: only a keyed hash of
    the IMEI (it identifies a person's phone), enough to tell that it changed."""

    __tablename__ = "alarm_line_handsets"

    line_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    imei_hash: Mapped[str] = mapped_column(String(64))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)  # first report of this handset
