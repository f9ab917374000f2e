"""Storing the messages a child's device agent saw, sealed, once each.

``ingest`` screens each item (a text over ``MAX_TEXT``, nothing at all, too far in the future
or older than the retention: refused with a reason, the rest of the batch kept), names it by
the keyed hashes of its conversation and message ids, seals what it says, labels its text
with the classifier given (its hits, with spans and rules, are kept in clear: they say which
rule fired where, not what was written), and inserts the batch in one statement that skips what
the device sent before (its identity is unique per device, app, conversation and message).
``purge`` deletes messages older than the retention; ``rekey`` moves old rows to the current
key in batches.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.metrics import count_ingested
from telemetry.conversations.alerts import Flagged
from telemetry.conversations.classify import hit_as_dict
from telemetry.conversations.crypto import MessageCipher, Sealed
from telemetry.conversations.models import ConversationMessage, MessageAlert
from telemetry.conversations.schemas import (
    MAX_TEXT,
    ItemResult,
    ItemStatus,
    MessageBatchResult,
    MessageCreate,
    RejectReason,
    StoredMessage,
)

_TABLE = ConversationMessage.metadata.tables[ConversationMessage.__tablename__]
_IDENTITY = ["device_id", "app", "conversation_hash", "message_hash"]


class Classifies(Protocol):
    def classify(self, text: str) -> list[Any]: ...


@dataclass(frozen=True)
class Limits:
    max_future_skew: timedelta
    retention: timedelta


def screen(item: MessageCreate, *, now: datetime, limits: Limits) -> RejectReason | None:
    if item.text is not None and len(item.text) > MAX_TEXT:
        return RejectReason.TEXT_TOO_LONG
    if not (item.text or "").strip() and item.attachment is None:
        return RejectReason.EMPTY
    if item.sent_at > now + limits.max_future_skew:
        return RejectReason.IN_FUTURE
    if item.sent_at < now - limits.retention:
        return RejectReason.TOO_OLD
    return None


def aad(row: dict[str, Any] | ConversationMessage) -> bytes:
    """The associated data that binds a sealed value to its row."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    parts = (get("child_id"), get("device_id"), get("app"), get("conversation_hash"))
    return "|".join(str(p) for p in (*parts, get("message_hash"))).encode()


def _content(item: MessageCreate) -> bytes:
    return json.dumps(
        {"title": item.conversation_title, "sender": item.sender_name, "text": item.text},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


async def ingest(
    session: AsyncSession,
    cipher: MessageCipher,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    items: Sequence[MessageCreate],
    now: datetime,
    limits: Limits,
    classifier: Classifies | None = None,
) -> tuple[MessageBatchResult, list[Flagged]]:
    """Store what is new of ``items``; the per-item answer and the stored messages the
    classifier found something in (for ``alerts.raise_alerts``)."""
    results: list[ItemResult | None] = [None] * len(items)
    rows: list[dict[str, Any]] = []
    row_index: dict[uuid.UUID, int] = {}
    seen: dict[tuple[str, str, str], int] = {}
    flagged: dict[uuid.UUID, Flagged] = {}
    for index, item in enumerate(items):
        reason = screen(item, now=now, limits=limits)
        if reason is not None:
            results[index] = ItemResult(index=index, status=ItemStatus.REJECTED, reason=reason)
            continue
        conversation = cipher.identity(item.app, item.conversation_id)
        message = cipher.identity(item.app, item.conversation_id, item.message_id)
        key = (item.app, conversation, message)
        if key in seen:  # twice in this batch
            results[index] = ItemResult(index=index, status=ItemStatus.DUPLICATE)
            continue
        seen[key] = index
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "child_id": child_id,
            "device_id": device_id,
            "app": item.app,
            "conversation_hash": conversation,
            "message_hash": message,
            "direction": item.direction.value,
            "sent_at": item.sent_at,
            "received_at": now,
            "attachment": item.attachment.value if item.attachment else None,
        }
        hits = (
            [hit_as_dict(h) for h in classifier.classify(item.text)]
            if classifier and item.text
            else []
        )
        row["hits"] = [{k: v for k, v in h.items() if k != "form"} for h in hits]
        row["labels"] = sorted({h["label"] for h in hits})
        if hits:
            assert item.text is not None
            flagged[row["id"]] = Flagged(
                app=item.app,
                conversation_hash=conversation,
                direction=item.direction.value,
                sent_at=item.sent_at,
                text=item.text,
                hits=hits,
            )
        sealed = cipher.seal(_content(item), aad=aad(row))
        row["key_id"], row["sealed"] = sealed.key_id, sealed.blob
        rows.append(row)
        row_index[row["id"]] = index
    stored: set[uuid.UUID] = set()
    if rows:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(_TABLE).on_conflict_do_nothing(index_elements=_IDENTITY).returning(_TABLE.c.id)
        )
        stored = set((await session.execute(statement, rows)).scalars().all())
    for row_id, index in row_index.items():
        status = ItemStatus.ACCEPTED if row_id in stored else ItemStatus.DUPLICATE
        results[index] = ItemResult(index=index, status=status)
    done = [r for r in results if r is not None]
    answer = MessageBatchResult(
        accepted=sum(r.status is ItemStatus.ACCEPTED for r in done),
        duplicate=sum(r.status is ItemStatus.DUPLICATE for r in done),
        rejected=sum(r.status is ItemStatus.REJECTED for r in done),
        items=done,
    )
    count_ingested(
        "messages", accepted=answer.accepted, duplicate=answer.duplicate, rejected=answer.rejected
    )
    # A message sent again was judged when it was first stored.
    return answer, [f for row_id, f in flagged.items() if row_id in stored]


def open_message(cipher: MessageCipher, row: ConversationMessage) -> StoredMessage:
    """What the message says (for a reader the caller has allowed and audited)."""
    content = json.loads(cipher.open(Sealed(row.key_id, row.sealed), aad=aad(row)))
    return StoredMessage(
        app=row.app,
        direction=row.direction,  # type: ignore[arg-type]
        conversation_title=content["title"],
        sender_name=content["sender"],
        text=content["text"],
        sent_at=row.sent_at,
        attachment=row.attachment,  # type: ignore[arg-type]
        labels=list(row.labels),
    )


async def rekey(session: AsyncSession, cipher: MessageCipher, *, batch: int = 500) -> int:
    """Reseal up to ``batch`` messages not under the current key; how many."""
    query = (
        select(ConversationMessage)
        .where(ConversationMessage.key_id != cipher.current)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.scalars(query)).all())
    for row in rows:
        sealed = cipher.reseal(Sealed(row.key_id, row.sealed), aad=aad(row))
        await session.execute(
            update(ConversationMessage)
            .where(ConversationMessage.id == row.id, ConversationMessage.key_id == row.key_id)
            .values(key_id=sealed.key_id, sealed=sealed.blob),
            execution_options={"synchronize_session": False},
        )
    return len(rows)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete messages sent before ``before``; how many."""
    result: Any = await session.execute(
        delete(ConversationMessage).where(ConversationMessage.sent_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete the child's messages and the alerts on them (the child was removed)."""
    messages: Any = await session.execute(
        delete(ConversationMessage).where(ConversationMessage.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    alerts: Any = await session.execute(
        delete(MessageAlert).where(MessageAlert.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    return {
        "conversation_messages": int(messages.rowcount or 0),
        "message_alerts": int(alerts.rowcount or 0),
    }
