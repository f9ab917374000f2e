"""Alerts on risky messages, grouped per conversation and label.

``raise_alerts`` takes the messages an upload stored with hits. For each (conversation,
label) it finds the open alert (one whose latest message is less than ``window`` before this
one's time): if there is one, the message is counted in it (``messages``, ``last_at``) and
nobody is told again; otherwise a new alert is stored, with the excerpt around the first
trigger sealed, and its event returned to be published once committed. So a flood of
messages in one conversation makes one alert per label and window, not one per message.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.conversations.crypto import MessageCipher, Sealed
from telemetry.conversations.events import MessageAlertRaised, RiskyMessage, SelfHarmMessage
from telemetry.conversations.models import MessageAlert

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


def open_excerpt(cipher: MessageCipher, alert: MessageAlert) -> str:
    sealed = Sealed(alert.key_id, alert.sealed_excerpt)
    return cipher.open(sealed, aad=excerpt_aad(alert.id)).decode()


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
) -> list[MessageAlertRaised]:
    """Store or extend the alerts for ``flagged``; the events of the new ones."""
    events: list[MessageAlertRaised] = []
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
            session.add(
                MessageAlert(
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
            )
            await session.flush()
            event_class = SelfHarmMessage if label == "self_harm" else RiskyMessage
            events.append(
                event_class(
                    occurred_at=now,
                    alert_id=alert_id,
                    child_id=child_id,
                    label=label,
                    severity=hit["severity"],
                    app=message.app,
                    sent_at=message.sent_at,
                )
            )
    return events


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete alerts raised before ``before``; how many."""
    result: Any = await session.execute(
        delete(MessageAlert).where(MessageAlert.created_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
