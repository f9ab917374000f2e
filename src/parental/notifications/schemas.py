from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from parental.auth.schemas import Request
from parental.i18n import Locale

PushPlatform = Literal["android", "ios"]


class PushTokenCreate(Request):
    token: str = Field(
        min_length=20,
        max_length=1024,
        pattern=r"^[A-Za-z0-9_:\-\.]+$",
        description="The app's FCM registration token.",
    )
    platform: PushPlatform
    app_version: str = Field(min_length=1, max_length=32)
    locale: Locale = Field(
        description=(
            "The language the app shows: this phone's notifications are in it, unless the"
            " guardian chose a language in the notification preferences."
        )
    )


class PushTokenRead(BaseModel):
    id: uuid.UUID
    token_end: str = Field(description="The token's last 8 characters (the token is not shown).")
    platform: PushPlatform
    app_version: str
    locale: Locale
    created_at: datetime
    refreshed_at: datetime


class PushTokenPage(BaseModel):
    items: list[PushTokenRead]


class NotificationRead(BaseModel):
    """One notification in the guardian's inbox."""

    id: uuid.UUID
    kind: str = Field(description="What it is about, e.g. place.exit, alarm.sos.")
    title: str | None
    body: str | None
    data: dict[str, str] = Field(description="What the app needs to open the right screen.")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    next_cursor: str | None
    unread: int = Field(description="Unread notifications in all, not only on this page.")


class NotificationsRead(BaseModel):
    marked: int = Field(description="How many were unread and are now read.")
