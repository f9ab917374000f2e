from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime
from parental.kit.ids import new_id


class VerdictColumns:
    """What the filter answered for the target when it was reported (NULL action: nothing was
    published yet). ``category`` is the category of the deciding rule's source."""

    verdict_action: Mapped[str | None] = mapped_column(String(5))
    verdict_category: Mapped[str | None] = mapped_column(String(40))
    verdict_source_id: Mapped[str | None] = mapped_column(String(64))
    verdict_source_name: Mapped[str | None] = mapped_column(String(80))
    verdict_version: Mapped[str | None] = mapped_column(String(64))


class FilterReport(VerdictColumns, Base):
    """One target reported as wrongly blocked or as one that should be blocked.

    While it is open, further reports of the same kind and normalised target are added to it
    as submissions; ``open_key`` (unique, NULL once decided) makes that hold under concurrent
    requests. Its verdict is the one seen by the first submission.
    """

    __tablename__ = "filter_reports"
    __table_args__ = (
        Index("ix_filter_reports_queue", "status", "reporter_count", "created_at"),
        Index("ix_filter_reports_decided_at", "decided_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))  # "wrongly_blocked" or "should_be_blocked"
    target: Mapped[str] = mapped_column(Text)  # as the first reporter gave it
    host: Mapped[str] = mapped_column(String(253))
    path: Mapped[str] = mapped_column(String(1024))
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # "open", "accepted" or "rejected"
    reporter_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    applied_category: Mapped[str | None] = mapped_column(String(40))
    applied_action: Mapped[str | None] = mapped_column(String(5))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("filter_entries.id", ondelete="SET NULL")
    )


class FilterReportSubmission(VerdictColumns, Base):
    """One reporter's report of a target: who (a guardian or device id; nobody for the block
    page), about which child when known, their comment and the verdict they were given.

    ``child_id`` names a child of the parental package by id (no foreign key across packages).
    """

    __tablename__ = "filter_report_submissions"
    __table_args__ = (Index("ix_filter_report_submissions_child_time", "child_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("filter_reports.id", ondelete="CASCADE"), index=True
    )
    reporter_type: Mapped[str] = mapped_column(String(16))  # "guardian", "device", "block_page"
    reporter_id: Mapped[str | None] = mapped_column(String(64))
    child_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    target: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
