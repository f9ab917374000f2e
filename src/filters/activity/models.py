from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime


class VerdictCount(Base):
    """How many lookups of one child, on one local day, ended in ``action`` for ``category``.

    ``category`` is "" for lookups no listed rule decided (the day's other traffic), so a
    day's rows add up to every lookup the filter answered for the child.
    """

    __tablename__ = "filter_verdict_counts"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    action: Mapped[str] = mapped_column(String(5), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class BlockedHost(Base):
    """A name blocked for one child on one local day: how often, and when last."""

    __tablename__ = "filter_blocked_hosts"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoggedQuery(Base):
    """The lookups of one name by one child in one UTC minute that the query log kept.

    Every blocked lookup is kept; allowed ones are a 1-in-N sample, so their ``count`` is of
    sampled lookups (see ``filters.activity.querylog``). ``id`` is derived from the row's key
    (child, minute, host, action), so flushes of several processes add up into one row.
    """

    __tablename__ = "filter_query_log"
    __table_args__ = (Index("ix_filter_query_log_child_time", "child_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    host: Mapped[str] = mapped_column(String(253))
    action: Mapped[str] = mapped_column(String(5))
    category: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
