"""What the guardians are told of new alerts: one notice per conversation and upload, at most
``per_hour`` an hour per child, the rest gathered into one notice a quarter of an hour.

What a parent would expect from a flood (self-harm written in thirty chats, a message that
hits every label): the first alerts at once, then a round-up instead of a ping per alert, and
never a self-harm alert left untold.

- The new alerts of one upload in one conversation make one notice naming all their labels,
  the most serious first: a message with six labels is six alerts and one notice.
- A child's notices are capped: a conversation's new alerts are told at once while fewer than
  ``per_hour`` notices' worth of alerts (conversations with new alerts in an upload, told or
  gathered alike) were raised for the child in the hour before. Within an upload self-harm
  goes first, and a self-harm alert is told at once anyway when no other self-harm alert was
  raised for the child in the hour before: the guardians hear of self-harm at once at least
  once an hour, whatever else filled the cap.
- The rest are gathered: one notice per child and ``gather`` period (a quarter of an hour),
  sent at the period's end, saying how many alerts in how many conversations and of which
  labels. Each upload in the period rewrites it with the period's whole count until it is
  sent, so every alert is counted in some notice, and a flood costs the guardians at most
  ``per_hour + 1`` single notices and one gathering notice per period an hour. With
  self-harm among them it is a self-harm notice (through quiet hours, never switched off).

Alerts are all stored and listed, whatever is told. The counts come from the stored alerts
(a child's alerts of one conversation created at the same instant are one upload's), so the
caller holds a lock on the child while it raises and plans alerts: two uploads at once would
otherwise count the same hour, and both find no open alert for the same conversation and
label.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.events import Event
from telemetry.conversations.events import (
    RiskyMessage,
    RiskyMessagesGathered,
    SelfHarmMessage,
    SelfHarmMessagesGathered,
)
from telemetry.conversations.models import MessageAlert

HOUR = timedelta(hours=1)
SELF_HARM = "self_harm"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_SEVERITY = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class NoticePolicy:
    per_hour: int  # notices told at once per child in any hour (self-harm: see the module doc)
    gather: timedelta  # the period the rest are gathered over, told at its end


def period_of(at: datetime, gather: timedelta) -> tuple[datetime, datetime]:
    """The gathering period ``at`` falls in (periods are aligned on whole hours in UTC)."""
    since = at - (at - _EPOCH) % gather
    return since, since + gather


@dataclass(frozen=True)
class _Group:
    """The alerts one upload raised in one conversation."""

    created_at: datetime
    conversation: str
    labels: frozenset[str]
    alerts: int

    @property
    def self_harm(self) -> bool:
        return SELF_HARM in self.labels


def _order(group: _Group) -> tuple[datetime, bool, str]:
    return group.created_at, not group.self_harm, group.conversation


def told_at_once(groups: Sequence[_Group], per_hour: int) -> list[bool]:
    """For ``groups`` in order, whether each is told on its own (module doc)."""
    times = [g.created_at for g in groups]
    told: list[bool] = []
    last_self_harm = -1
    for index, group in enumerate(groups):
        first = bisect_right(times, group.created_at - HOUR, 0, index)
        alone = index - first < per_hour or (group.self_harm and last_self_harm < first)
        told.append(alone)
        if group.self_harm:
            last_self_harm = index
    return told


def _seriousness(alert: MessageAlert) -> tuple[bool, int, datetime]:
    return alert.label != SELF_HARM, _SEVERITY.get(alert.severity, 3), alert.sent_at


def _labels(labels: set[str]) -> tuple[str, ...]:
    return tuple(sorted(labels, key=lambda label: (label != SELF_HARM, label)))


def _told(child_id: uuid.UUID, alerts: Sequence[MessageAlert], now: datetime) -> Event:
    ranked = sorted(alerts, key=_seriousness)
    top = ranked[0]
    labels = tuple(dict.fromkeys(a.label for a in ranked))
    event_class = SelfHarmMessage if SELF_HARM in labels else RiskyMessage
    return event_class(
        occurred_at=now,
        alert_id=top.id,
        child_id=child_id,
        label=top.label,
        labels=labels,
        severity=top.severity,
        app=top.app,
        sent_at=min(a.sent_at for a in alerts),
    )


async def plan(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    raised: Sequence[MessageAlert],
    now: datetime,
    policy: NoticePolicy,
) -> list[Event]:
    """The events that tell the guardians of ``raised`` (the alerts this upload stored, at
    ``now``, flushed), under the child's lock (module doc)."""
    if not raised:
        return []
    since, until = period_of(now, policy.gather)
    rows = await session.execute(
        select(MessageAlert.created_at, MessageAlert.conversation_hash, MessageAlert.label).where(
            MessageAlert.child_id == child_id, MessageAlert.created_at > since - HOUR
        )
    )
    found: dict[tuple[datetime, str], list[str]] = {}
    for created_at, conversation, label in rows:
        found.setdefault((created_at, conversation), []).append(label)
    groups = sorted(
        (
            _Group(at, conversation, frozenset(labels), len(labels))
            for (at, conversation), labels in found.items()
        ),
        key=_order,
    )
    told = dict(zip(groups, told_at_once(groups, policy.per_hour), strict=True))
    new: dict[str, list[MessageAlert]] = {}
    for alert in raised:
        new.setdefault(alert.conversation_hash, []).append(alert)
    events: list[Event] = []
    gathered_now = False
    for group, alone in told.items():
        if group.created_at != now or group.conversation not in new:
            continue
        if alone:
            events.append(_told(child_id, new[group.conversation], now))
        else:
            gathered_now = True
    if gathered_now:
        gathered = [g for g, alone in told.items() if not alone and g.created_at >= since]
        labels = _labels(set().union(*(g.labels for g in gathered)))
        event_class = SelfHarmMessagesGathered if SELF_HARM in labels else RiskyMessagesGathered
        events.append(
            event_class(
                occurred_at=now,
                child_id=child_id,
                since=since,
                until=until,
                alerts=sum(g.alerts for g in gathered),
                conversations=len({g.conversation for g in gathered}),
                labels=labels,
            )
        )
    return events
