from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime
from parental.kit.ids import new_id


class Category(Base):
    __tablename__ = "filter_categories"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "block" or "allow"
    names: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    descriptions: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    defaults: Mapped[dict[str, bool]] = mapped_column(PortableJSON)  # age band -> on
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Source(Base):
    """A list of rules in one category: a file or URL the carrier imports, or curators' own."""

    __tablename__ = "filter_sources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("filter_categories.id"))
    kind: Mapped[str] = mapped_column(String(8))  # "url", "file" or "manual"
    url: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str | None] = mapped_column(String(16))  # None: detect on import
    domains_scope: Mapped[str] = mapped_column(String(8), default="subtree")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_report: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # URL sources: fetched again every interval by the worker (a conditional GET).
    refresh_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    next_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_status: Mapped[str | None] = mapped_column(String(16))  # see refresh.Outcome
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A refresh that changed the rules publishes them at once (feeds such as malware lists).
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The list's licence as its publisher states it (for the curators and attributions).
    licence: Mapped[str | None] = mapped_column(String(200))


class Import(Base):
    """One import of a source's list (an upload, a refresh or the CLI) and what it read."""

    __tablename__ = "filter_imports"
    __table_args__ = (Index("ix_filter_imports_source_at", "source_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("filter_sources.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(8))  # "upload", "refresh" or "file" (CLI)
    report: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)


class ImportJob(Base):
    """An import started from the console and run in the background (``progress``): how far it
    got, and once it ended, what it did. The import itself, if it changed anything, is an
    ``Import`` row (``import_id``); a job that failed never made one."""

    __tablename__ = "filter_import_jobs"
    __table_args__ = (Index("ix_filter_import_jobs_source_started", "source_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("filter_sources.id", ondelete="CASCADE")
    )
    # The source again while the job runs, NULL once it ended: unique, so that every process
    # sees at most one running import per source.
    running_source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "upload" or "refresh"
    actor: Mapped[str] = mapped_column(String(64))
    runner: Mapped[str] = mapped_column(String(32))  # the process that runs it
    phase: Mapped[str] = mapped_column(String(10))  # see progress.Phase
    lines_read: Mapped[int | None] = mapped_column(Integer)
    lines_total: Mapped[int | None] = mapped_column(Integer)
    to_add: Mapped[int | None] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # a refresh's: refresh.Outcome
    error: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    report: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)


class Entry(Base):
    """One rule of a source, from the version that added it to the one that removed it."""

    __tablename__ = "filter_entries"
    __table_args__ = (
        Index("ix_filter_entries_source_live", "source_id", "removed_in"),
        # Host first: searches by name, and the "same rule" lookups of diffs and rollbacks
        # (with source_id second, SQLite's planner takes it over the source index).
        Index("ix_filter_entries_rule", "host", "source_id"),
        Index("ix_filter_entries_added_in", "added_in"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("filter_sources.id", ondelete="CASCADE")
    )
    host: Mapped[str] = mapped_column(String(253))
    scope: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(5))
    path: Mapped[str] = mapped_column(String(1024), default="")
    line: Mapped[int | None] = mapped_column(Integer)
    # The import that brought the rule (None for rules added one by one). No foreign key: an
    # import goes only with its source, and the source's rows go with it.
    import_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    added_in: Mapped[int | None] = mapped_column(Integer)
    removed_in: Mapped[int | None] = mapped_column(Integer)
    remove_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    # Who took the rule out of the draft, when and why (a curator's removal; imports say so)
    removed_by: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removal_reason: Mapped[str | None] = mapped_column(Text)


class Version(Base):
    """A published, immutable state of every enabled source."""

    __tablename__ = "filter_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    rolled_back_to: Mapped[int | None] = mapped_column(Integer)
    counts: Mapped[dict[str, int]] = mapped_column(PortableJSON)
    # What the version was made of, frozen: [[source id, source name, category key], ...]
    sources: Mapped[list[list[str]]] = mapped_column(PortableJSON)
