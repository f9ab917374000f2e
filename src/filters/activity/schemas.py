from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CategoryCount(BaseModel):
    category: str = Field(
        description='A category key; "guardian" for the guardian\'s own entries, "" for names '
        "no list decided"
    )
    blocked: int
    allowed: int


class DayActivity(BaseModel):
    date: dt.date = Field(description="A day in the child's own time zone")
    lookups: int = Field(description="Every name or URL the filter answered for the child")
    blocked: int
    categories: list[CategoryCount] = Field(description="Verdicts a listed rule decided")


class BlockedName(BaseModel):
    host: str
    category: str
    count: int
    last_at: dt.datetime


class ActivityRead(BaseModel):
    timezone: str
    days: list[DayActivity] = Field(description="Oldest first, every day of the period")
    totals: list[CategoryCount]
    recent_blocks: list[BlockedName] = Field(description="Most recently blocked first")


class LoggedLookup(BaseModel):
    """Lookups of one name in one minute: every blocked one, a sample of the allowed ones."""

    model_config = ConfigDict(from_attributes=True)

    occurred_at: dt.datetime = Field(description="The start of the minute (UTC)")
    host: str
    action: Literal["block", "allow"]
    category: str = Field(
        description='A category key; "guardian" for the guardian\'s own entries, "" for names '
        "no list decided"
    )
    count: int = Field(
        description="Blocked: every lookup of the name in that minute. Allowed: the sampled "
        "ones (one in N of the child's allowed lookups)"
    )


class QueryLogPage(BaseModel):
    items: list[LoggedLookup] = Field(description="Newest first")
    next_cursor: str | None
