from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parental.kit.wire import JsonBool

Weekday = Literal[0, 1, 2, 3, 4, 5, 6]


class WindowSchema(BaseModel):
    """From ``start`` on each of ``days`` (0 = Monday) to ``end``; overnight if end <= start."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: time
    end: time

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("times are local to the child's time zone; give no offset")
        return value


class CategorySettingSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["off", "always", "scheduled"]
    windows: list[WindowSchema] = Field(default_factory=list, max_length=28)


class ProfileRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    timezone: str
    safesearch: bool
    categories: dict[str, CategorySettingSchema]
    entries: list[EntryRead]


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    safesearch: JsonBool | None = None
    categories: dict[str, CategorySettingSchema] | None = Field(default=None, max_length=64)


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=300, description="A name (or URL: its host).")
    action: Literal["allow", "block"]
    subdomains: bool = Field(default=True, description="Also cover every subdomain.")
    expires_at: datetime | None = Field(
        default=None, description="For a temporary unblock: when it stops by itself."
    )


class EntryRead(BaseModel):
    id: uuid.UUID
    host: str
    scope: Literal["exact", "subtree"]
    action: Literal["allow", "block"]
    expires_at: datetime | None
    created_at: datetime


ProfileRead.model_rebuild()
