"""ORM model of the messages a child's device agent saw in messenger apps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime


class ConversationMessage(Base):
    """One message. Nothing that says who or what is kept in clear: the conversation and
    message ids are keyed hashes (``crypto.MessageCipher.identity``), and the conversation's
    title, the sender's display name and the text are sealed together (``sealed``, under key
    ``key_id``). In clear: the app, the direction, the time, the attachment's kind and the
    classifier's labels (what search and alerts use)."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        UniqueConstraint(
            "device_id",
            "app",
            "conversation_hash",
            "message_hash",
            name="uq_conversation_messages_identity",
        ),
        Index("ix_conversation_messages_child_sent", "child_id", "sent_at", "id"),
        Index("ix_conversation_messages_sent_at", "sent_at"),
        Index("ix_conversation_messages_key_id", "key_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    app: Mapped[str] = mapped_column(String(255))
    conversation_hash: Mapped[str] = mapped_column(String(64))
    message_hash: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))  # incoming, outgoing
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attachment: Mapped[str | None] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    labels: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    # What the classifier found: label, severity, span (character offsets in the text) and
    # the rule that fired, for each hit; the text itself stays sealed.
    hits: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)


class MessageAlert(Base):
    """A risky message the guardians were told about, grouped: further messages of the same
    label in the same conversation within the grouping window add to ``messages`` and move
    ``last_at`` instead of raising another alert. The excerpt around the first trigger is
    sealed like the messages (associated data: the alert's id) and outlives them (alerts are
    kept longer than messages)."""

    __tablename__ = "message_alerts"
    __table_args__ = (
        Index("ix_message_alerts_child_created", "child_id", "created_at", "id"),
        Index("ix_message_alerts_group", "child_id", "conversation_hash", "label", "last_at"),
        Index("ix_message_alerts_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    app: Mapped[str] = mapped_column(String(255))
    conversation_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    rule_id: Mapped[str] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(8))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first message's time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the latest grouped message's
    messages: Mapped[int] = mapped_column(Integer, default=1)
    key_id: Mapped[str] = mapped_column(String(16))
    sealed_excerpt: Mapped[bytes] = mapped_column(LargeBinary)
