"""Every SQL statement of lexicon curation."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from telemetry.conversations.lexicons.models import ConversationLexicon

# pg_advisory_xact_lock key for numbering and publishing ("lexicon" in ASCII, as an integer).
_LOCK = 0x6C657869636F6E


async def lock(session: AsyncSession) -> None:
    """Hold the lexicon lock until the transaction ends: numbers are taken and versions put in
    force one at a time (PostgreSQL; SQLite serialises writers itself)."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})


async def latest_number(session: AsyncSession) -> int:
    """The highest number taken, drafts included (0 when there is none)."""
    return int(await session.scalar(select(func.max(ConversationLexicon.number))) or 0)


async def in_force(session: AsyncSession) -> tuple[int, str] | None:
    """Number and digest of the version in force: the highest published number."""
    row = (
        await session.execute(
            select(ConversationLexicon.number, ConversationLexicon.digest)
            .where(ConversationLexicon.published_at.is_not(None))
            .order_by(ConversationLexicon.number.desc())
            .limit(1)
        )
    ).first()
    return (row.number, row.digest) if row is not None else None


async def get(session: AsyncSession, number: int) -> ConversationLexicon | None:
    return await session.get(ConversationLexicon, number)


async def page(
    session: AsyncSession, *, limit: int, before: int | None
) -> list[ConversationLexicon]:
    """Versions newest first, without their (large) lexicons."""
    query = (
        select(ConversationLexicon)
        .options(defer(ConversationLexicon.lexicon, raiseload=True))
        .order_by(ConversationLexicon.number.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(ConversationLexicon.number < before)
    return list((await session.scalars(query)).all())


async def add(session: AsyncSession, row: ConversationLexicon) -> None:
    session.add(row)
    await session.flush()
