from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


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
