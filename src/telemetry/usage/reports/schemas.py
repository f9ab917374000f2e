"""The usage report guardians read: a period of the child's local days against the one
before (``telemetry.usage.reports.aggregate`` says how it is counted)."""

from __future__ import annotations

from datetime import date
from enum import IntEnum

from pydantic import BaseModel, Field

from telemetry.usage.policy import Category


class ReportDays(IntEnum):
    """The periods a report covers, in local dates ending with today."""

    TODAY = 1
    WEEK = 7
    MONTH = 30


class FigureRead(BaseModel):
    minutes: float = Field(description="In the period.")
    previous_minutes: float = Field(description="In the previous period, as long.")
    change_minutes: float = Field(description="minutes - previous_minutes")
    change_percent: float | None = Field(
        description="The change in percent of previous_minutes; null when that is 0."
    )


class CategoryFigureRead(FigureRead):
    category: Category


class AppFigureRead(FigureRead):
    app: str = Field(description="Package or bundle id.")
    name: str | None = Field(description="The name the device last reported; None if none.")
    category: Category


class DayTotalRead(BaseModel):
    day: date = Field(description="A local date of the child.")
    total_minutes: float = Field(description="Screen-on time that date.")
    categories: dict[Category, float] = Field(description="The categories used that date.")


class TopAppRead(BaseModel):
    app: str
    name: str | None
    category: Category
    minutes: float
    share: float = Field(
        description="Of the period's app time (the apps' minutes added up), 0 to 1."
    )


class UsageReportRead(BaseModel):
    days: int = Field(description="Local dates in the period (and in the previous one).")
    timezone: str = Field(description="The child's IANA time zone the dates are cut in.")
    first_day: date
    last_day: date = Field(description="The child's local today, counted so far.")
    previous_first_day: date
    previous_last_day: date
    total: FigureRead = Field(description="Screen-on time, not a sum of apps.")
    categories: list[CategoryFigureRead] = Field(
        description="Every category used in either period, most used in the period first."
    )
    apps: list[AppFigureRead] = Field(
        description="Every app used in either period, most used in the period first."
    )
    daily: list[DayTotalRead] = Field(description="Every date of the period, in order.")
    previous_daily: list[DayTotalRead] = Field(
        description="Every date of the previous period, in order."
    )
    top_apps: list[TopAppRead] = Field(description="The 10 most used apps of the period.")
