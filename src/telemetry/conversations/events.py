"""Risky messages, as events on the kit bus; ``parental`` tells the guardians.

Subscribe to ``MessageAlertRaised`` to hear the alerts told one by one, and to
``MessageAlertsGathered`` for the notices that gather the rest once a child's alerts pass the
hourly cap (``notices``). An alert's event names the conversation's new alerts of one upload
(``labels``, several when a message has several) through the most serious of them
(``alert_id``), so the outbox de-duplicates by it; a gathering notice is named by its child and
its quarter of an hour, and is rewritten until then. Self-harm is its own event class in both:
its notice goes through the guardians' quiet hours and cannot be switched off. None carries
what a message said: a phone's lock screen is read by others; the guardian reads the excerpt
in the app, and the child's device shows that. ``RiskyMessageStored`` is published for every
risky message and label, one counted into an open alert too; nobody is notified of it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from parental.kit.events import Event


class MessageAlertRaised(Event):
    """New alerts in one conversation, from one upload, told in one notice."""

    alert_id: uuid.UUID  # the most serious of them: the app opens it
    child_id: uuid.UUID
    label: str  # its label
    labels: tuple[str, ...]  # every label of them, the most serious first
    severity: str
    app: str
    sent_at: datetime


class SelfHarmMessage(MessageAlertRaised):
    """A message about self-harm or suicide (and perhaps more)."""


class RiskyMessage(MessageAlertRaised):
    """A message about drugs, bullying, grooming, violence or sexual content."""


class MessageAlertsGathered(Event):
    """The alerts of a child past the hourly cap within one period (``since`` to ``until``),
    told together at ``until``: how many, in how many conversations, of which labels."""

    child_id: uuid.UUID
    since: datetime
    until: datetime
    alerts: int
    conversations: int
    labels: tuple[str, ...]


class SelfHarmMessagesGathered(MessageAlertsGathered):
    """Gathered alerts, self-harm among them."""


class RiskyMessagesGathered(MessageAlertsGathered):
    """Gathered alerts, none about self-harm."""


class RiskyMessageStored(Event):
    """One risky message stored, once per label the classifier gave it: published for every
    one, a message counted into an alert already open too. Nobody is told of these (they are
    no notification kind): the guardians hear of the alerts (``MessageAlertRaised`` and the
    gathered notices), grouped per conversation and label and capped per child."""

    child_id: uuid.UUID
    app: str
    conversation: str  # the conversation's keyed hash, as its alerts name it
    label: str
    severity: str  # of the label's most severe hit in the message
    rule_id: str
    direction: str
    sent_at: datetime
