"""The alarms, as events on the kit bus; ``parental`` tells the guardians.

Subscribe to ``AlarmRaised`` to hear every kind. Each names the stored ``Alarm`` row
(``alarm_id``), so a subscriber that writes an outbox row can de-duplicate by it. They are
published once the transaction that stored the alarm has committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from parental.kit.events import Event


class AlarmRaised(Event):
    """Any alarm. ``occurred_at``: when it happened (pressed, read, noticed, observed)."""

    alarm_id: uuid.UUID
    child_id: uuid.UUID


class SosPressed(AlarmRaised):
    """The child pressed SOS. Never suppressed by any setting or by monitoring rules: the child
    asked for help. The position is the device's, if it had one."""

    device_id: uuid.UUID
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None


class LowBattery(AlarmRaised):
    """The device's battery went below the child's threshold while not charging."""

    device_id: uuid.UUID
    battery_pct: int
    threshold_pct: int


class DeviceSilent(AlarmRaised):
    """No heartbeat, fix or SOS from the device for longer than the child's threshold."""

    device_id: uuid.UUID
    last_seen_at: datetime
    silent_after_minutes: int


class SimMoved(AlarmRaised):
    """The carrier saw the child's SIM in a handset other than the last one it reported."""

    line_id: uuid.UUID
