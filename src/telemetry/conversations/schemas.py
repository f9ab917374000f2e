"""What the device agent sends about messages, and what it is told back.

Limits: a batch holds at most ``MAX_BATCH`` messages; a text at most ``MAX_TEXT`` characters
(longer ones are refused item by item, the rest of the batch is kept); names and titles at
most 200.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MAX_BATCH = 500
MAX_TEXT = 4000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class Attachment(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    VOICE = "voice"
    FILE = "file"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    LINK = "link"


class MessageCreate(Request):
    app: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="The messenger's package or bundle id, e.g. org.telegram.messenger.",
    )
    conversation_id: str = Field(min_length=1, max_length=255)
    conversation_title: str | None = Field(default=None, max_length=200)
    message_id: str = Field(min_length=1, max_length=255)
    direction: Direction
    sender_name: str | None = Field(
        default=None, max_length=200, description="As the app shows it (none for the child's own)."
    )
    text: str | None = Field(
        default=None, description=f"At most {MAX_TEXT} characters; none for an attachment only."
    )
    sent_at: AwareDatetime
    attachment: Attachment | None = Field(
        default=None, description="The kind of attachment; its content is never sent."
    )


class MessageBatch(Request):
    messages: list[MessageCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class RejectReason(StrEnum):
    TEXT_TOO_LONG = "text_too_long"
    EMPTY = "empty"  # neither text nor attachment
    IN_FUTURE = "in_future"
    TOO_OLD = "too_old"  # older than the retention: it would be deleted at once


class ItemResult(BaseModel):
    index: int
    status: ItemStatus
    reason: RejectReason | None = None


class MessageBatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    items: list[ItemResult]


class StoredMessage(BaseModel):
    """A message opened for a reader allowed to see it (transcripts, excerpts)."""

    app: str
    direction: Direction
    conversation_title: str | None
    sender_name: str | None
    text: str | None
    sent_at: datetime
    attachment: Attachment | None
    labels: list[str]
