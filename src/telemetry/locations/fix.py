"""A location fix as the rest of telemetry sees it, and the hook that hears about new ones.

Ingestion (``telemetry.locations.service``) stores fixes; whatever must react to where a child
is (geofence transitions, the low-battery alarm) is a ``FixListener`` the composition root
hands to it. Listeners are called inside the transaction that stored the fixes, with only the
fixes that were new (duplicates are not passed again), sorted by fix time, one child at a time;
the events they return are published on the kit bus once that transaction has committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.events import Event


class FixSource(StrEnum):
    GPS = "gps"
    NETWORK = "network"  # the phone's own Wi-Fi / cell positioning
    CARRIER_CELL = "carrier_cell"  # the carrier core's cell location of the line, no device


class Fix(NamedTuple):
    """Immutable; a named tuple because an upload makes a hundred of these, and a tuple is
    made in a third of the time of a frozen dataclass."""

    child_id: uuid.UUID
    device_id: uuid.UUID | None  # None for the carrier's network positions
    fixed_at: datetime  # UTC, aware
    latitude: float
    longitude: float
    accuracy_m: float  # radius of 68% confidence, metres
    source: FixSource
    altitude_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery_pct: int | None = None
    charging: bool | None = None


class FixListener(Protocol):
    async def __call__(
        self, session: AsyncSession, child_id: uuid.UUID, fixes: Sequence[Fix], now: datetime
    ) -> Sequence[Event]:
        """React to new fixes of one child (sorted by ``fixed_at``); the events to publish."""
        ...


@runtime_checkable
class Prefetching(Protocol):
    """A listener that can read, in one statement for a whole group of uploads
    (``telemetry.locations.groups``), what it needs for each of them, before it is called for
    each child: it then finds it without a round trip of its own."""

    async def prefetch(
        self, session: AsyncSession, uploads: Sequence[tuple[uuid.UUID, uuid.UUID | None]]
    ) -> None:
        """Read (and lock, in a fixed order) what the (child, device) pairs will need."""
        ...
