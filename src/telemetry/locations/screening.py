"""Which fixes of a batch may be stored: a pure rule, no I/O.

Each fix is judged alone, so one bad fix (a phone whose clock ran ahead, a GPS glitch at
latitude 400) costs only itself; the reasons are machine-readable for the device agent to log.
A fix the same batch already holds is a duplicate of it, like a fix stored by an earlier one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from telemetry.locations.schemas import CarrierPositionCreate, FixCreate, RejectReason


@dataclass(frozen=True)
class Limits:
    """What a fix must satisfy to be stored (from the settings)."""

    max_future_skew: timedelta
    retention: timedelta
    max_accuracy_m: float


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


def _coordinates_valid(latitude: float, longitude: float) -> bool:
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90.0 <= latitude <= 90.0
        and -180.0 <= longitude <= 180.0
    )


def _extras_valid(fix: FixCreate) -> bool:
    if not _finite(fix.altitude_m):
        return False
    if fix.speed_mps is not None and not (math.isfinite(fix.speed_mps) and fix.speed_mps >= 0):
        return False
    if fix.heading_deg is not None and not (
        math.isfinite(fix.heading_deg) and 0.0 <= fix.heading_deg <= 360.0
    ):
        return False
    return fix.battery_pct is None or 0 <= fix.battery_pct <= 100


def reason_against(
    fix: FixCreate | CarrierPositionCreate, *, now: datetime, limits: Limits
) -> RejectReason | None:
    """Why ``fix`` may not be stored, or None when it may."""
    if fix.fixed_at > now + limits.max_future_skew:
        return RejectReason.IN_FUTURE
    if fix.fixed_at < now - limits.retention:
        return RejectReason.TOO_OLD
    if not _coordinates_valid(fix.latitude, fix.longitude):
        return RejectReason.INVALID_COORDINATES
    if not (math.isfinite(fix.accuracy_m) and 0.0 < fix.accuracy_m <= limits.max_accuracy_m):
        return RejectReason.INACCURATE
    if isinstance(fix, FixCreate) and not _extras_valid(fix):
        return RejectReason.INVALID_VALUE
    return None


@dataclass(frozen=True)
class Screened:
    """A batch judged: what to store (request index, fix), what it repeats, what it refuses."""

    keep: list[tuple[int, FixCreate | CarrierPositionCreate]]
    repeated: list[int]
    rejected: dict[int, RejectReason]


def screen(
    fixes: Sequence[FixCreate | CarrierPositionCreate], *, now: datetime, limits: Limits
) -> Screened:
    """Judge every fix of a batch; of fixes at the same instant the first one is kept."""
    keep: list[tuple[int, FixCreate | CarrierPositionCreate]] = []
    repeated: list[int] = []
    rejected: dict[int, RejectReason] = {}
    seen: set[datetime] = set()
    for index, fix in enumerate(fixes):
        reason = reason_against(fix, now=now, limits=limits)
        if reason is not None:
            rejected[index] = reason
        elif fix.fixed_at in seen:
            repeated.append(index)
        else:
            seen.add(fix.fixed_at)
            keep.append((index, fix))
    return Screened(keep, repeated, rejected)
