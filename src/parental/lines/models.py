from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class Line(Base):
    """A SIM line as the carrier registered it: is it a child SIM, and whose contract is it."""

    __tablename__ = "lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    msisdn: Mapped[str] = mapped_column(String(16), unique=True)
    guardian_phone: Mapped[str] = mapped_column(String(16), index=True)
    is_child_sim: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServiceKey(Base):
    """A key the carrier's systems authenticate with; only its keyed hash is stored."""

    __tablename__ = "service_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LineBinding(Base):
    """An address a line held in one RADIUS session, from Start to Stop or expiry.

    Live while ``ended_at`` is empty and ``expires_at`` is ahead. An ended row is kept until
    the retention limit so a retried or late event of the same session is recognised (and does
    not revive it); then the worker deletes it, since it says which child used an address when.
    ``updated_at`` changes with every event and tells other processes what to reload.
    """

    __tablename__ = "line_bindings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(128), unique=True)
    line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lines.id", ondelete="CASCADE"), index=True
    )
    network: Mapped[str] = mapped_column(String(48), index=True)  # canonical, see addresses
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))  # stop, replaced, line
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
