"""ORM models of push notifications: a guardian's FCM registration tokens and the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime
from parental.kit.ids import new_id


class PushToken(Base):
    """One phone of a guardian: its FCM registration token, kept in clear because sending
    needs it (never logged; the API shows its last characters only). Deleted when FCM says it
    is gone, or ``push_token_stale_days`` after the app last refreshed it."""

    __tablename__ = "push_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(1024), unique=True)
    platform: Mapped[str] = mapped_column(String(8))
    app_version: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DevicePushToken(Base):
    """The FCM registration token of a child's device agent (one per device): commands and
    policy wake-ups reach the device through it. Same rules as a guardian's phone: deleted
    when FCM says it is gone or ``push_token_stale_days`` after the agent last refreshed it.
    ``platform`` (android, ios) decides how a command is pushed (``commands.push``); it is
    ``android`` for an agent that does not say. ``locale`` is the language the agent shows, for
    the texts of the alerts iOS needs (None: the default language)."""

    __tablename__ = "device_push_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    device_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(String(1024), unique=True)
    platform: Mapped[str] = mapped_column(String(8), default="android", server_default="android")
    locale: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PushOutboxRow(Base):
    """A notification to send to one account's phones (``outbox`` says how it moves).

    ``payload`` holds what to send, texts already rendered in the recipient's language;
    ``delivered_to`` the ids of the tokens already answered for, so a retry goes to the rest.
    ``account_id`` is a guardian's account, or a child's device for the data messages that
    carry commands and policy wake-ups (kinds ``device.*``; never in an inbox).
    The rows are also the guardian's in-app inbox (``inbox``), read or not (``read_at``), so
    nothing depends on push delivery alone. ``account_id`` names the recipient by id only: a
    row outlives nothing it refers to, it is sent (to no phone, if the account went) and
    purged with the retention."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        Index("ix_push_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_push_outbox_account_id_created_at", "account_id", "created_at", "id"),  # inbox
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(8))  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    delivered_to: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # in the guardian's inbox
    # The request that wrote the row (``kit.request_id``), logged with its sends; None when
    # the worker wrote it. An opaque id, nothing about the caller.
    request_id: Mapped[str | None] = mapped_column(String(64))
