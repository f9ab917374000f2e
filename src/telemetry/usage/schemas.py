"""What the child's device sends about its use, and what guardians read.

An upload is typed strictly enough that a malformed request is refused whole (422), but values
are not checked here: a session with its end before its start, one longer than a day or one
of a malformed app id is refused on its own, with a reason, while the rest of its batch is kept
(``telemetry.usage.service.screen``), as for location fixes.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from parental.kit.wire import JsonAwareDatetime
from telemetry.usage.policy import Category

MAX_BATCH = 1000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppSessionCreate(Request):
    """An app in front, as the device agent recorded it, possibly long before it could send it."""

    kind: Literal["app"]
    app: str = Field(
        description="Android package or iOS bundle id: 1 to 255 characters, no spaces."
    )
    app_name: str = Field(
        description="The app's name as the device shows it (a label: cut to 255 characters; "
        "an empty one leaves the name known before)."
    )
    started_at: JsonAwareDatetime = Field(description="When the app came to the front.")
    ended_at: JsonAwareDatetime = Field(
        description="When it left the front. Sent again with a later end (the session went "
        "on), the stored session is extended."
    )
    client_id: str | None = Field(
        default=None, max_length=64, description="The device's own id for the item, echoed back."
    )


class ScreenSessionCreate(Request):
    """The screen on (unlocked or not), from ``started_at`` to ``ended_at``."""

    kind: Literal["screen"]
    started_at: JsonAwareDatetime
    ended_at: JsonAwareDatetime
    client_id: str | None = Field(default=None, max_length=64)


SessionCreate = Annotated[AppSessionCreate | ScreenSessionCreate, Field(discriminator="kind")]


class SessionBatch(Request):
    sessions: list[SessionCreate] = Field(min_length=1, max_length=MAX_BATCH)


class SessionStatus(StrEnum):
    ACCEPTED = "accepted"  # stored, or a stored session extended to a later end
    DUPLICATE = "duplicate"  # stored before (no later end), or earlier in the same batch
    REJECTED = "rejected"


class SessionRejectReason(StrEnum):
    INVALID_PERIOD = "invalid_period"  # ended_at is not after started_at
    TOO_LONG = "too_long"  # longer than 24 hours: a broken clock or agent
    IN_FUTURE = "in_future"  # ends later than now plus the allowed clock skew
    TOO_OLD = "too_old"  # starts before the retention period: it would be deleted at once
    INVALID_APP = "invalid_app"  # empty, longer than 255, whitespace or control characters


class SessionResult(BaseModel):
    index: int = Field(description="The item's position in the request, from 0.")
    client_id: str | None
    status: SessionStatus
    reason: SessionRejectReason | None = None


class SessionBatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    items: list[SessionResult] = Field(description="One per item, in request order.")
    sync_policy: bool = Field(
        default=False,
        description="This upload used up one of today's limits, or changed what the policy "
        "allows: fetch the policy now rather than at the next poll.",
    )


class AppUsageRead(BaseModel):
    app: str = Field(description="Package or bundle id.")
    name: str | None = Field(description="The name the device last reported; None if none.")
    category: Category
    minutes: float


class CategoryUsageRead(BaseModel):
    category: Category
    minutes: float


class UsageDayRead(BaseModel):
    day: date = Field(description="The child's local date.")
    timezone: str = Field(description="The child's IANA time zone the day is cut in.")
    total_minutes: float = Field(
        description="Screen-on time: every app and screen session merged, not a sum of apps."
    )
    categories: list[CategoryUsageRead] = Field(description="Most used first.")
    apps: list[AppUsageRead] = Field(description="Most used first.")
