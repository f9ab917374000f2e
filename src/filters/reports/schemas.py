from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReportKind = Literal["wrongly_blocked", "should_be_blocked"]
ReportStatus = Literal["open", "accepted", "rejected"]
ReporterType = Literal["guardian", "device", "block_page"]
Verdict = Literal["block", "allow"]

MAX_TARGET_LENGTH = 1024
MAX_COMMENT_LENGTH = 500
MAX_NOTE_LENGTH = 1000


class BlockPageReportCreate(BaseModel):
    """A report from the block page. It takes no comment: whoever hit the block may be a child
    we know nothing about, so nothing they could type about themselves is asked for."""

    model_config = ConfigDict(extra="forbid")

    kind: ReportKind
    target: str = Field(
        min_length=1, max_length=MAX_TARGET_LENGTH, description="The name or URL, as seen."
    )


class ReportCreate(BlockPageReportCreate):
    comment: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_COMMENT_LENGTH,
        description="For the curators; a child's comment is not shown to guardians.",
    )


class VerdictRead(BaseModel):
    """The filter's answer when the target was reported, from the version then in force."""

    action: Verdict
    category: str | None
    source_id: str | None
    source_name: str | None
    version: str | None


class ReportReceived(BaseModel):
    kind: ReportKind
    target: str = Field(description="The target as it was normalised (host and path).")


class SubmissionRead(BaseModel):
    """A report as its reporters see it: what they filed and what became of it."""

    id: uuid.UUID
    report_id: uuid.UUID
    kind: ReportKind
    target: str
    reporter_type: ReporterType
    child_id: uuid.UUID | None
    comment: str | None
    verdict: VerdictRead | None
    created_at: datetime
    status: ReportStatus
    decided_at: datetime | None
    decision_note: str | None


class SubmissionPage(BaseModel):
    items: list[SubmissionRead]
    next_cursor: str | None


class DecisionRead(BaseModel):
    decided_by: str
    decided_at: datetime
    note: str | None
    category: str | None
    action: Verdict | None
    entry_id: uuid.UUID | None


class ReportRead(BaseModel):
    """A report in the curators' queue."""

    id: uuid.UUID
    kind: ReportKind
    target: str
    host: str
    path: str
    status: ReportStatus
    reporter_count: int
    verdict: VerdictRead | None = Field(description="As the first reporter was given it.")
    created_at: datetime
    last_reported_at: datetime
    decision: DecisionRead | None


class ReporterRead(BaseModel):
    """One submission, as curators see it: not who filed it, only what kind of reporter."""

    type: ReporterType
    target: str
    comment: str | None
    verdict: VerdictRead | None
    created_at: datetime


class ReportDetail(ReportRead):
    reporters: list[ReporterRead] = Field(description="The most recent ones, newest first.")


class ReportPage(BaseModel):
    items: list[ReportRead]
    next_cursor: str | None


class ReportDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"]
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NOTE_LENGTH,
        description="Required to reject; the reporters read it.",
    )
    category: str | None = Field(
        default=None,
        max_length=40,
        description="Whose manual list gets the rule. Required to accept a should_be_blocked "
        "report; for wrongly_blocked, the category that blocked it when left out.",
    )
    target: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TARGET_LENGTH,
        description="List this name or URL instead of the reported one (e.g. the whole site).",
    )
    subdomains: bool = Field(default=True, description="A name rule also covers subdomains.")
