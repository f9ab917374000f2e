from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Uuid
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
