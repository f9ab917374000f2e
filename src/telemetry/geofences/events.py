"""Geofence events on the kit bus; ``parental.notifications`` tells the child's guardians.

Each is published once: it is stored first under a unique key (child, place, kind, time), and
only an event whose row was new is published, after the transaction that stored it commits.
``occurred_at`` is the fix time for an arrival or a departure, the deadline for a no-show.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from parental.kit.events import Event


class PlaceEvent(Event):
    """Base of the geofence events: which child, which place (its name when it happened)."""

    event_id: uuid.UUID
    child_id: uuid.UUID
    place_id: uuid.UUID
    place_name: str


class PlaceEntered(PlaceEvent):
    """A fix put the child inside the place, after one that put them outside."""

    fixed_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float


class PlaceLeft(PlaceEvent):
    """A fix put the child outside the place, after one that put them inside."""

    fixed_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float


class PlaceNotArrived(PlaceEvent):
    """By ``by`` (local time in ``timezone``) on ``local_date`` the child had not been seen
    inside the place since the rule's start time, and was not known to be inside."""

    deadline: datetime
    local_date: date
    by: time
    timezone: str
