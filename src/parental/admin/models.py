from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class StaffAccount(Base):
    """A carrier staff member (curator or admin); the password is stored as an argon2 hash,
    the second factor's secret sealed (``admin.totp``)."""

    __tablename__ = "staff_accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "admin" or "curator"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The last time step whose code was accepted: a code is good once, not for its whole window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)


class ConsoleSession(Base):
    """A signed-in browser of the console: only a hash of its cookie's token is kept."""

    __tablename__ = "staff_console_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
