"""Alerts on risky messages, grouped per conversation and label.

``raise_alerts`` takes the messages an upload stored with hits. For each (conversation,
label) it finds the open alert (one whose latest message is less than ``window`` before this
one's time): if there is one, the message is counted in it (``messages``, ``last_at``) and
nobody is told again; otherwise a new alert is stored, with the excerpt around the first
trigger sealed, and returned (``notices.plan`` decides how the guardians are told of it). So a
flood of messages in one conversation makes one alert per label and window, not one per
message. The caller holds a lock on the child: two uploads at once must not both find no open
alert for the same conversation and label.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.conversations.crypto import MessageCipher, Sealed, UnknownKey
from telemetry.conversations.events import RiskyMessageStored
from telemetry.conversations.models import MessageAlert

log = logging.getLogger(__name__)

EXCERPT_CONTEXT = 60  # characters kept on each side of the trigger
_SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Flagged:
    """A message just stored, with its hits (``hit_as_dict`` form)."""

    app: str
    conversation_hash: str
    direction: str
    sent_at: datetime
    text: str
    hits: Sequence[dict[str, Any]]


def excerpt(text: str, start: int, end: int, *, context: int = EXCERPT_CONTEXT) -> str:
    """The trigger with up to ``context`` characters each side, cut at word boundaries where
    it can be, "…" where the text goes on."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return ("…" if left > 0 else "") + text[left:right].strip() + ("…" if right < len(text) else "")


def excerpt_aad(alert_id: uuid.UUID) -> bytes:
    return f"alert|{alert_id}".encode()


def open_excerpt(cipher: MessageCipher, alert: MessageAlert) -> str | None:
    """The excerpt; None, logged as an error, when it is sealed under a key this process no
    longer has (removed before ``rekey`` moved the alert): the alert itself still stands."""
    sealed = Sealed(alert.key_id, alert.sealed_excerpt)
    try:
        return cipher.open(sealed, aad=excerpt_aad(alert.id)).decode()
    except UnknownKey:
        log.error("message alert %s: excerpt sealed under unknown key %r", alert.id, alert.key_id)
        return None


def _worst_per_label(hits: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per label, the most severe hit (the first of them in the text)."""
    out: dict[str, dict[str, Any]] = {}
    for hit in hits:
        best = out.get(hit["label"])
        if best is None or _SEVERITY_ORDER[hit["severity"]] > _SEVERITY_ORDER[best["severity"]]:
            out[hit["label"]] = hit
    return out


async def raise_alerts(
    session: AsyncSession,
    cipher: MessageCipher,
    *,
    child_id: uuid.UUID,
    flagged: Sequence[Flagged],
    now: datetime,
    window: timedelta,
) -> list[MessageAlert]:
    """Store or extend the alerts for ``flagged``; the new ones."""
    raised: list[MessageAlert] = []
    for message in sorted(flagged, key=lambda m: m.sent_at):
        for label, hit in _worst_per_label(message.hits).items():
            open_alert = await session.scalar(
                select(MessageAlert)
                .where(
                    MessageAlert.child_id == child_id,
                    MessageAlert.conversation_hash == message.conversation_hash,
                    MessageAlert.label == label,
                    MessageAlert.last_at > message.sent_at - window,
                    MessageAlert.sent_at < message.sent_at + window,
                )
                .order_by(MessageAlert.last_at.desc())
                .limit(1)
            )
            if open_alert is not None:
                open_alert.messages += 1
                open_alert.last_at = max(open_alert.last_at, message.sent_at)
                continue
            alert_id = uuid.uuid4()
            sealed = cipher.seal(
                excerpt(message.text, hit["start"], hit["end"]).encode(),
                aad=excerpt_aad(alert_id),
            )
            alert = MessageAlert(
                id=alert_id,
                child_id=child_id,
                app=message.app,
                conversation_hash=message.conversation_hash,
                label=label,
                severity=hit["severity"],
                rule_id=hit["rule_id"][:100],
                direction=message.direction,
                sent_at=message.sent_at,
                created_at=now,
                last_at=message.sent_at,
                messages=1,
                key_id=sealed.key_id,
                sealed_excerpt=sealed.blob,
            )
            session.add(alert)
            await session.flush()
            raised.append(alert)
    return raised


def stored_events(
    child_id: uuid.UUID, flagged: Sequence[Flagged], now: datetime
) -> list[RiskyMessageStored]:
    """An event per risky message and label, whether it raised an alert or was counted into
    an open one (what the guardians are told is decided from the alerts alone)."""
    return [
        RiskyMessageStored(
            occurred_at=now,
            child_id=child_id,
            app=message.app,
            conversation=message.conversation_hash,
            label=label,
            severity=hit["severity"],
            rule_id=hit["rule_id"],
            direction=message.direction,
            sent_at=message.sent_at,
        )
        for message in sorted(flagged, key=lambda m: m.sent_at)
        for label, hit in _worst_per_label(message.hits).items()
    ]


async def rekey(session: AsyncSession, cipher: MessageCipher, *, batch: int = 500) -> int:
    """Reseal up to ``batch`` alerts' excerpts not under the current key; how many (the
    messages' ``service.rekey`` for the alerts, which outlive the messages)."""
    query = (
        select(MessageAlert)
        .where(MessageAlert.key_id != cipher.current)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.scalars(query)).all())
    for row in rows:
        sealed = cipher.reseal(Sealed(row.key_id, row.sealed_excerpt), aad=excerpt_aad(row.id))
        await session.execute(
            update(MessageAlert)
            .where(MessageAlert.id == row.id, MessageAlert.key_id == row.key_id)
            .values(key_id=sealed.key_id, sealed_excerpt=sealed.blob),
            execution_options={"synchronize_session": False},
        )
    return len(rows)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete alerts raised before ``before``; how many."""
    result: Any = await session.execute(
        delete(MessageAlert).where(MessageAlert.created_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
