"""A version of the conversation-risk lexicon as curators made it: a draft until published.

The lexicon is stored whole, as the JSON a curator sent (``classify.lexicon`` describes it),
never edited after creation: a change is a new draft, a rollback a new version with an old
one's content. ``digest`` (SHA-256 of the canonical JSON) names the content, so a process can
tell two versions with the same number in two databases apart and can skip a publish that
changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime


class ConversationLexicon(Base):
    __tablename__ = "conversation_lexicons"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lexicon: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    version: Mapped[str] = mapped_column(String(64))  # the lexicon's own "version" string
    digest: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, int]] = mapped_column(PortableJSON)  # rules, negatives
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))  # "staff:<id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: a draft
    published_by: Mapped[str | None] = mapped_column(String(64))
    rolled_back_to: Mapped[int | None] = mapped_column(Integer)
