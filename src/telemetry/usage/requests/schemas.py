"""The child's requests as the API takes and shows them: extra time today for an app or a
category, and leave to install an app; the guardian's answers.

Requests are checked whole (422, nothing stored): exactly one of ``app`` and ``category`` for
extra time, 1 to 240 minutes, app ids as usage uploads take them
(``telemetry.usage.service.valid_app``), an app name of 1 to 255 characters and a message of
at most 500, without control characters but line breaks. A message of only blanks is none.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from telemetry.usage.policy import Category
from telemetry.usage.rules.schemas import MAX_EXTRA_MINUTES, Request
from telemetry.usage.service import valid_app

MAX_MESSAGE = 500
MAX_APP_NAME = 255

RequestKind = Literal["extra_time", "app_install"]
RequestStatus = Literal["pending", "approved", "declined", "expired"]
RequestOrder = Literal["newest", "pending_first"]


def text(value: str) -> str:
    """``value`` without surrounding blanks; control characters other than line breaks are
    refused (they would let a child's text pose as another line of the guardian's screen)."""
    if any(not c.isprintable() and c not in "\n\r" for c in value):
        raise ValueError("control characters are not allowed")
    return value.strip()


def _message(value: str | None) -> str | None:
    if value is None:
        return None
    return text(value) or None


def _app(value: str) -> str:
    if not valid_app(value):
        raise ValueError(
            f"{value!r} is not an app id (1 to 255 characters, no whitespace or control characters)"
        )
    return value


def _name(value: str) -> str:
    name = text(value)
    if not name:
        raise ValueError("an app name is not blank")
    return name


Message = Annotated[str | None, Field(max_length=MAX_MESSAGE), AfterValidator(_message)]
AppId = Annotated[str, AfterValidator(_app)]
ExtraMinutes = Annotated[int, Field(ge=1, le=MAX_EXTRA_MINUTES)]


class ExtraTimeRequestCreate(Request):
    """More minutes today for one app or one category (exactly one)."""

    kind: Literal["extra_time"]
    app: AppId | None = None
    category: Category | None = None
    minutes: ExtraMinutes
    message: Message = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.app is None) == (self.category is None):
            raise ValueError("extra time is for an app or for a category: give exactly one")
        return self


class AppInstallRequestCreate(Request):
    """Leave to install an app. Asking again while one for the app is pending returns it."""

    kind: Literal["app_install"]
    app: AppId
    app_name: Annotated[str, Field(max_length=MAX_APP_NAME), AfterValidator(_name)]
    message: Message = None


ScreenTimeRequestCreate = Annotated[
    ExtraTimeRequestCreate | AppInstallRequestCreate, Field(discriminator="kind")
]


class RequestDecisionCreate(Request):
    """``approve`` (extra time: the minutes asked for, or ``minutes`` instead, granted for the
    child's today) or ``decline``; ``reply`` is shown to the child either way."""

    decision: Literal["approve", "decline"]
    minutes: ExtraMinutes | None = Field(
        default=None, description="Extra time only: grant this many instead of those asked for."
    )
    reply: Message = None

    @model_validator(mode="after")
    def _minutes_to_approve(self) -> Self:
        if self.decision == "decline" and self.minutes is not None:
            raise ValueError("minutes go with approve only")
        return self


class ScreenTimeRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    device_id: uuid.UUID
    kind: RequestKind
    app: str | None
    app_name: str | None
    category: Category | None
    minutes: int | None = Field(description="Extra time: the minutes asked for.")
    message: str | None
    day: date | None = Field(description="Extra time: the child's local date it is for.")
    status: RequestStatus
    created_at: datetime
    expires_at: datetime | None = Field(
        description="Extra time: unanswered by then (the child's midnight), it expires."
    )
    decided_at: datetime | None
    granted_minutes: int | None
    reply: str | None


class ScreenTimeRequestPage(BaseModel):
    items: list[ScreenTimeRequestRead]
    next_cursor: str | None
