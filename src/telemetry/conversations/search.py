"""Finding a child's messages by the classifier's labels, never by what they say.

The labels are kept in clear beside the sealed text, a JSON list of ``Label`` values (a closed
set of plain names). A label is found in SQL by its quoted name in the list's text: exact, as
no quoted label is part of another, and the same on SQLite's JSON and PostgreSQL's JSONB. The
callers check the age band and write the audit rows; this module only finds and opens.
"""

from __future__ import annotations

import uuid

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from parental.kit.paging import decode_cursor, encode_cursor
from telemetry.conversations.crypto import MessageCipher
from telemetry.conversations.models import ConversationMessage
from telemetry.conversations.schemas import LabelledMessage
from telemetry.conversations.service import open_message


def has_label(label: str) -> ColumnElement[bool]:
    """Messages the classifier gave ``label``."""
    return cast(ConversationMessage.labels, String).contains(f'"{label}"', autoescape=True)


async def labelled_messages(
    session: AsyncSession,
    cipher: MessageCipher,
    child_id: uuid.UUID,
    label: str,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[LabelledMessage], str | None]:
    """The child's messages of ``label`` in every conversation still held, newest first."""
    query = select(ConversationMessage).where(
        ConversationMessage.child_id == child_id, has_label(label)
    )
    if cursor is not None:
        at, last = decode_cursor(cursor)
        query = query.where(
            or_(
                ConversationMessage.sent_at < at,
                and_(ConversationMessage.sent_at == at, ConversationMessage.id < last),
            )
        )
    query = query.order_by(ConversationMessage.sent_at.desc(), ConversationMessage.id.desc())
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].sent_at, rows[-1].id) if more else None
    items = [
        LabelledMessage(
            conversation=row.conversation_hash, **open_message(cipher, row).model_dump()
        )
        for row in rows
    ]
    return items, next_cursor
