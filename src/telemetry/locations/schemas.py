"""What devices and the carrier send, and what guardians read.

Uploads are typed strictly enough that a malformed request is refused whole (422), but values
are not range-checked here: a fix with impossible coordinates or a poor accuracy is refused on
its own, with a reason, while the rest of its batch is kept (``telemetry.locations.screening``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from parental.kit.wire import JsonAwareDatetime, JsonBool, JsonFloat, JsonInt
from telemetry.locations.fix import FixSource

MAX_BATCH = 1000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceSource(StrEnum):
    GPS = "gps"
    NETWORK = "network"


class FixCreate(Request):
    """One fix as the device agent recorded it, possibly long before it could send it."""

    fixed_at: JsonAwareDatetime = Field(description="When the fix was taken, with its UTC offset.")
    latitude: JsonFloat = Field(description="Degrees, WGS 84, -90..90.")
    longitude: JsonFloat = Field(description="Degrees, WGS 84, -180..180.")
    accuracy_m: JsonFloat = Field(description="Radius of 68% confidence, metres.")
    source: DeviceSource = DeviceSource.GPS
    altitude_m: JsonFloat | None = None
    speed_mps: JsonFloat | None = Field(default=None, description="Metres a second, 0 or more.")
    heading_deg: JsonFloat | None = Field(default=None, description="Degrees from north, 0..360.")
    battery_pct: JsonInt | None = Field(default=None, description="0..100.")
    charging: JsonBool | None = None
    client_id: str | None = Field(
        default=None, max_length=64, description="The device's own id for the fix, echoed back."
    )


class FixBatch(Request):
    fixes: list[FixCreate] = Field(min_length=1, max_length=MAX_BATCH)


class CarrierPositionCreate(Request):
    """The carrier core's position of a line from the cell (or cells) serving it."""

    fixed_at: AwareDatetime = Field(description="When the network located the line.")
    latitude: float
    longitude: float
    accuracy_m: float = Field(description="Radius of 68% confidence, metres (the cell's reach).")
    client_id: str | None = Field(default=None, max_length=64)


class CarrierPositionBatch(Request):
    positions: list[CarrierPositionCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # stored before, or earlier in the same batch
    REJECTED = "rejected"


class RejectReason(StrEnum):
    IN_FUTURE = "in_future"  # later than now plus the allowed clock skew
    TOO_OLD = "too_old"  # older than the retention period: it would be deleted at once
    INVALID_COORDINATES = "invalid_coordinates"  # out of range, NaN or infinite
    INACCURATE = "inaccurate"  # accuracy worse than the limit (or not a positive number)
    INVALID_VALUE = "invalid_value"  # speed, heading, altitude or battery out of range


class ItemResult(BaseModel):
    index: int = Field(description="The item's position in the request, from 0.")
    client_id: str | None
    status: ItemStatus
    reason: RejectReason | None = None


class BatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    items: list[ItemResult] = Field(description="One per item, in request order.")


class CarrierStatus(StrEnum):
    STORED = "stored"
    IGNORED = "ignored"


class CarrierBatchResult(BatchResult):
    status: CarrierStatus
    reason: str | None = Field(
        default=None,
        description="Why nothing was stored: not_child_sim, no_child (no child on the line "
        "yet), not_monitored (monitoring does not apply to the line's child) or no_consent "
        "(the family withdrew consent to location).",
    )


class LocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    device_id: uuid.UUID | None = Field(description="None for the carrier's positions.")
    source: FixSource
    fixed_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float
    altitude_m: float | None
    speed_mps: float | None
    heading_deg: float | None
    battery_pct: int | None
    charging: bool | None


class LatestLocationRead(BaseModel):
    location: LocationRead | None = Field(
        description="The position shown; None when none is known within the retention period."
    )
    basis: Literal["device", "carrier_fallback"] | None = Field(
        description="device: the device's latest fix. carrier_fallback: the carrier's cell "
        "position, shown because the device has sent nothing newer for longer than the "
        "fallback period (or never has)."
    )
    device_fixed_at: datetime | None = Field(
        description="When the device's latest fix was taken, whichever position is shown."
    )


class LocationPage(BaseModel):
    items: list[LocationRead] = Field(description="Newest first.")
    next_cursor: str | None
