from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from parental.audit.models import AuditEvent
from parental.kit.paging import encode_cursor


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    action: str
    actor_type: str
    actor_id: str | None
    child_id: uuid.UUID | None
    subject_type: str | None
    subject_id: str | None
    child_visible: bool
    details: dict[str, Any]


class AuditEventPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None

    @classmethod
    def of(cls, rows: list[AuditEvent], limit: int) -> AuditEventPage:
        """A page from up to ``limit + 1`` rows: the extra row only says another page exists."""
        page = rows[:limit]
        last = page[-1] if len(rows) > limit else None
        return cls(
            items=[AuditEventRead.model_validate(r) for r in page],
            next_cursor=encode_cursor(last.occurred_at, last.id) if last else None,
        )
