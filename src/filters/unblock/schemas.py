from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Decision = Literal["allow_once", "allow_for", "allow_always", "deny"]
Status = Literal["open", "allowed", "denied"]


class UnblockDecisionCreate(BaseModel):
    """``allow_once``: for the configured short time; ``allow_for``: for ``duration_minutes``
    or until ``until``; ``allow_always``: a permanent allow entry; ``deny``: nothing opens."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    duration_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 366)
    until: datetime | None = None


class UnblockRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    host: str
    category: str | None
    status: Status
    ask_count: int
    created_at: datetime
    last_asked_at: datetime
    decision: Decision | None
    allowed_until: datetime | None
    decided_at: datetime | None


class UnblockRequestPage(BaseModel):
    items: list[UnblockRequestRead]
    next_cursor: str | None
