"""What guardians read of a child's messages: alerts with their excerpts (in the list, or one
at a time) for every child under 18, whole conversations only for the youngest
(``MessagesMode``; messages of one label across them: ``search``). The callers check the mode
and write the audit rows; this module only reads and opens."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.paging import decode_cursor, encode_cursor
from telemetry.conversations.alerts import open_excerpt
from telemetry.conversations.crypto import MessageCipher
from telemetry.conversations.errors import ConversationNotFound, MessageAlertNotFound
from telemetry.conversations.models import ConversationMessage, MessageAlert
from telemetry.conversations.schemas import (
    ConversationRead,
    MessageAlertDetail,
    MessageAlertRead,
    MessagesMode,
    StoredMessage,
)
from telemetry.conversations.search import has_label
from telemetry.conversations.service import open_message

ADULT_AGE = 18


def birthday(birthdate: date, age: int) -> date:
    """The day the child turns ``age`` (29 February: the 28th, as for the 18th birthday)."""
    try:
        return birthdate.replace(year=birthdate.year + age)
    except ValueError:
        return date(birthdate.year + age, 2, 28)


def mode_for(
    birthdate: date,
    today: date,
    *,
    transcripts_under_age: int,
    active: bool,
    excerpts_under_age: int = ADULT_AGE,
) -> MessagesMode:
    """The mode for a child born on ``birthdate``, on ``today`` (the child's local date): it
    changes on the days ``birthday`` gives, the ones the child's device is shown. Nothing
    from ``excerpts_under_age`` (the carrier's band), and never from 18."""
    if not active or today >= birthday(birthdate, min(excerpts_under_age, ADULT_AGE)):
        return MessagesMode.OFF
    if today < birthday(birthdate, transcripts_under_age):
        return MessagesMode.TRANSCRIPTS
    return MessagesMode.ALERTS


def alert_read(alert: MessageAlert) -> MessageAlertRead:
    return MessageAlertRead(
        id=alert.id,
        label=alert.label,
        severity=alert.severity,
        app=alert.app,
        conversation=alert.conversation_hash,
        direction=alert.direction,  # type: ignore[arg-type]
        sent_at=alert.sent_at,
        last_at=alert.last_at,
        messages=alert.messages,
        created_at=alert.created_at,
    )


async def alerts_page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    label: str | None = None,
    cipher: MessageCipher | None = None,
) -> tuple[list[MessageAlertRead], str | None]:
    """The child's alerts (of one label, if given), newest first; with their excerpts when
    ``cipher`` is given (the caller audits that they were read)."""
    query = select(MessageAlert).where(MessageAlert.child_id == child_id)
    if label is not None:
        query = query.where(MessageAlert.label == label)
    if cursor is not None:
        at, last = decode_cursor(cursor)
        query = query.where(
            or_(
                MessageAlert.created_at < at,
                and_(MessageAlert.created_at == at, MessageAlert.id < last),
            )
        )
    query = query.order_by(MessageAlert.created_at.desc(), MessageAlert.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    if cipher is None:
        return [alert_read(r) for r in rows], next_cursor
    return [_with_excerpt(cipher, r) for r in rows], next_cursor


def _with_excerpt(cipher: MessageCipher, alert: MessageAlert) -> MessageAlertRead:
    excerpt = open_excerpt(cipher, alert)
    return alert_read(alert).model_copy(
        update={"excerpt": excerpt, "excerpt_unavailable": excerpt is None}
    )


async def alert_detail(
    session: AsyncSession, cipher: MessageCipher, child_id: uuid.UUID, alert_id: uuid.UUID
) -> MessageAlertDetail:
    alert = await session.get(MessageAlert, alert_id)
    if alert is None or alert.child_id != child_id:
        raise MessageAlertNotFound()
    return MessageAlertDetail(**_with_excerpt(cipher, alert).model_dump(), rule_id=alert.rule_id)


async def conversations(
    session: AsyncSession, cipher: MessageCipher, child_id: uuid.UUID, *, label: str | None = None
) -> list[ConversationRead]:
    """The child's conversations still held (those with a message of ``label``, if given: the
    labels are searched, never the text), the latest first, with their titles."""
    grouped = (
        select(
            ConversationMessage.app,
            ConversationMessage.conversation_hash,
            func.count(),
            func.max(ConversationMessage.sent_at),
        )
        .where(ConversationMessage.child_id == child_id)
        .group_by(ConversationMessage.app, ConversationMessage.conversation_hash)
    )
    if label is not None:
        labelled = select(ConversationMessage.conversation_hash).where(
            ConversationMessage.child_id == child_id, has_label(label)
        )
        grouped = grouped.where(ConversationMessage.conversation_hash.in_(labelled))
    labels: dict[str, set[str]] = {}
    for conversation, row_labels in await session.execute(
        select(ConversationMessage.conversation_hash, ConversationMessage.labels).where(
            ConversationMessage.child_id == child_id
        )
    ):
        labels.setdefault(conversation, set()).update(row_labels or [])
    out: list[ConversationRead] = []
    for app, conversation, count, last_at in (await session.execute(grouped)).all():
        latest = await session.scalar(
            select(ConversationMessage)
            .where(
                ConversationMessage.child_id == child_id,
                ConversationMessage.conversation_hash == conversation,
            )
            .order_by(ConversationMessage.sent_at.desc())
            .limit(1)
        )
        assert latest is not None
        out.append(
            ConversationRead(
                conversation=conversation,
                app=app,
                title=open_message(cipher, latest).conversation_title,
                messages=count,
                last_at=last_at,
                labels=sorted(labels.get(conversation, set())),
            )
        )
    return sorted(out, key=lambda c: c.last_at, reverse=True)


async def transcript(
    session: AsyncSession,
    cipher: MessageCipher,
    child_id: uuid.UUID,
    conversation: str,
    *,
    limit: int,
    cursor: str | None,
    label: str | None = None,
) -> tuple[list[StoredMessage], str | None]:
    """A conversation's messages (those the classifier gave ``label``, if given), newest first
    (404 for a conversation the child does not have). The labels are searched, never the
    sealed text."""
    query = select(ConversationMessage).where(
        ConversationMessage.child_id == child_id,
        ConversationMessage.conversation_hash == conversation,
    )
    if label is not None:
        exists = await session.scalar(select(query.exists()))
        if not exists:
            raise ConversationNotFound()
        rows = (await session.scalars(query.order_by(ConversationMessage.sent_at.desc()))).all()
        wanted = [r for r in rows if label in (r.labels or [])]
        return _labelled_page(cipher, wanted, limit=limit, cursor=cursor)
    if cursor is not None:
        at, last = decode_cursor(cursor)
        query = query.where(
            or_(
                ConversationMessage.sent_at < at,
                and_(ConversationMessage.sent_at == at, ConversationMessage.id < last),
            )
        )
    query = query.order_by(ConversationMessage.sent_at.desc(), ConversationMessage.id.desc()).limit(
        limit + 1
    )
    rows = list((await session.scalars(query)).all())
    if not rows and cursor is None:
        raise ConversationNotFound()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].sent_at, rows[-1].id) if more else None
    return [open_message(cipher, r) for r in rows], next_cursor


def _labelled_page(
    cipher: MessageCipher,
    rows: list[ConversationMessage],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[StoredMessage], str | None]:
    """A page of ``rows`` (newest first) after ``cursor``: the label is matched in Python, the
    same on SQLite's JSON and PostgreSQL's JSONB (a conversation holds at most the retention's
    messages)."""
    if cursor is not None:
        at, last = decode_cursor(cursor)
        rows = [r for r in rows if (r.sent_at, r.id) < (at, last)]
    rows.sort(key=lambda r: (r.sent_at, r.id), reverse=True)
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(page[-1].sent_at, page[-1].id) if more else None
    return [open_message(cipher, r) for r in page], next_cursor
