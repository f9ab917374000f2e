"""ORM model of the messages a child's device agent saw in messenger apps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, UniqueConstraint, Uuid
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
