"""What the device agent sends about messages, and what it is told back.

Limits: a batch holds at most ``MAX_BATCH`` messages; a text at most ``MAX_TEXT`` characters
(longer ones are refused item by item, the rest of the batch is kept); names and titles at
most 200; the request body at most ``MAX_BATCH_BYTES``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from parental.kit.wire import JsonAwareDatetime

MAX_BATCH = 500
MAX_TEXT = 4000
# The largest body of a legal batch, which the app-wide body limit (1 MiB) is far below: per
# message, every character four bytes of UTF-8 (the most one takes): the text 16,000, the
# title and the sender's name 1,600, the two ids 2,040, the app 255, and under 300 for the
# time, the kinds and the field names; rounded up to 22,000.
MAX_BATCH_BYTES = MAX_BATCH * 22_000


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
    sent_at: JsonAwareDatetime
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


class MessagesMode(StrEnum):
    """What the guardians may see of the child's messages, by the child's age band."""

    TRANSCRIPTS = "transcripts"  # whole conversations, and alerts
    ALERTS = "alerts"  # alerts with excerpts only
    OFF = "off"  # nothing (18, or monitoring no longer applies)


class MessageAlertRead(BaseModel):
    id: uuid.UUID
    label: str = Field(description="self_harm, drugs, bullying, grooming, violence or sexual.")
    severity: str
    app: str
    conversation: str = Field(description="The conversation's key (for its transcript).")
    direction: Direction
    sent_at: datetime = Field(description="The first risky message's time.")
    last_at: datetime = Field(description="The latest one grouped into this alert.")
    messages: int = Field(description="Risky messages of this label grouped into it.")
    created_at: datetime
    excerpt: str | None = Field(
        default=None,
        description="The words around the trigger in the first message, for the ages whose "
        "guardians see excerpts (null otherwise, or when it can no longer be opened: see "
        "excerpt_unavailable). The child's device shows that they were read.",
    )
    excerpt_unavailable: bool = Field(
        default=False,
        description="The excerpt was sealed under a key the service no longer has (removed "
        "before `parental messages rekey` moved it): the alert stands, its words are lost.",
    )


class MessageAlertDetail(MessageAlertRead):
    rule_id: str = Field(description="The lexicon rule that fired (to report a false alarm).")


class MessageAlertPage(BaseModel):
    mode: MessagesMode
    items: list[MessageAlertRead]
    next_cursor: str | None


class ConversationRead(BaseModel):
    conversation: str
    app: str
    title: str | None
    messages: int
    last_at: datetime
    labels: list[str] = Field(description="Labels the classifier gave any of its messages.")


class ConversationPage(BaseModel):
    items: list[ConversationRead]


class TranscriptRead(BaseModel):
    conversation: str
    items: list[StoredMessage]
    next_cursor: str | None


class LabelledMessage(StoredMessage):
    conversation: str = Field(description="The conversation's key (for its transcript).")


class LabelledMessagePage(BaseModel):
    """Messages of one label across the child's conversations, newest first."""

    label: str
    items: list[LabelledMessage]
    next_cursor: str | None


class DeviceMessagesModeRead(BaseModel):
    """What the child's device shows about message monitoring."""

    mode: MessagesMode
    transcripts_until: date | None = Field(
        description="The day guardians stop seeing whole conversations (alerts only after)."
    )
    alerts_until: date = Field(
        description="The day alerts end (the carrier's band, at most the 18th birthday): "
        "nothing is seen from then."
    )
