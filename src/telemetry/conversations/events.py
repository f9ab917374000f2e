"""Risky messages, as events on the kit bus; ``parental`` tells the guardians.

Subscribe to ``MessageAlertRaised`` to hear both. Each names its stored ``MessageAlert``
(``alert_id``), so the outbox de-duplicates by it. A message about self-harm is its own event
class: its notice goes through the guardians' quiet hours and cannot be switched off. Neither
carries what the message said: a phone's lock screen is read by others; the guardian opens the
excerpt in the app, and the child's device shows that.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from parental.kit.events import Event


class MessageAlertRaised(Event):
    """A risky message in a conversation no alert of its label covered yet."""

    alert_id: uuid.UUID
    child_id: uuid.UUID
    label: str
    severity: str
    app: str
    sent_at: datetime


class SelfHarmMessage(MessageAlertRaised):
    """A message about self-harm or suicide."""


class RiskyMessage(MessageAlertRaised):
    """A message about drugs, bullying, grooming, violence or sexual content."""
