"""Which position a guardian is shown as "where the child is now": a pure rule, no I/O.

The device's own fix is better than anything the carrier knows (metres against a cell's
reach), so it is shown while it is recent. Once the device has sent nothing for longer than
the fallback period (battery dead, agent killed, phone off) the carrier's cell position is
shown instead, if it is newer, and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from telemetry.locations.schemas import LatestLocationRead, LocationRead

Basis = Literal["device", "carrier_fallback"]


@dataclass(frozen=True)
class Latest:
    location: LocationRead | None
    basis: Basis | None
    device_fixed_at: datetime | None

    def read(self) -> LatestLocationRead:
        return LatestLocationRead(
            location=self.location, basis=self.basis, device_fixed_at=self.device_fixed_at
        )


def device_is_current(device: LocationRead | None, *, now: datetime, fallback: timedelta) -> bool:
    """Whether the device's latest fix is recent enough that the carrier's is not needed."""
    return device is not None and now - device.fixed_at <= fallback


def choose(
    device: LocationRead | None,
    carrier: LocationRead | None,
    *,
    now: datetime,
    fallback: timedelta,
) -> Latest:
    """The position to show, from the device's latest fix and the carrier's latest position."""
    device_at = device.fixed_at if device is not None else None
    if device_is_current(device, now=now, fallback=fallback):
        return Latest(device, "device", device_at)
    if carrier is not None and (device is None or carrier.fixed_at > device.fixed_at):
        return Latest(carrier, "carrier_fallback", device_at)
    if device is not None:
        return Latest(device, "device", device_at)
    return Latest(None, None, None)
