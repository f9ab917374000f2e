"""ORM models of commands to a child's device and the audio a listening session uploads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime
from parental.kit.ids import new_id


class DeviceCommand(Base):
    """One command a guardian gave for a child, to whichever of the child's devices takes it.

    ``state`` moves ``pending`` -> ``received`` -> ``done`` or ``failed`` as the device
    acknowledges; a command not finished by ``expires_at`` is expired (shown so at once,
    stored so by the sweep). ``pushes`` counts the FCM data messages written for it (one when
    given, one more each time an offline device checks in while it waits)."""

    __tablename__ = "device_commands"
    __table_args__ = (
        Index("ix_device_commands_child_id_created_at", "child_id", "created_at", "id"),
        Index("ix_device_commands_state_expires_at", "state", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    # The guardian who gave it (by id only: the command stays in the child's log if the
    # account goes).
    issued_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)  # message
    seconds: Mapped[int | None] = mapped_column(Integer)  # listen
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pushes: Mapped[int] = mapped_column(Integer, default=0)
    last_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the device that answered
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)


class CommandAudio(Base):
    """What a listening session recorded, kept until ``expires_at`` (then purged)."""

    __tablename__ = "command_audio"

    command_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("device_commands.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
