from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from parental.kit.wire import JsonAwareDatetime, JsonBool, JsonFloat, JsonInt
from telemetry.alarms.imei import IMEI_PATTERN

AlarmKind = Literal["sos", "low_battery", "device_silent", "sim_moved"]
CLIENT_ID_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    latitude: JsonFloat = Field(ge=-90, le=90)
    longitude: JsonFloat = Field(ge=-180, le=180)
    accuracy_m: JsonFloat = Field(gt=0, le=100_000, description="68% confidence radius, metres")


class SosCreate(BaseModel):
    """An SOS press. Sent again after a lost response, it is stored once: by ``client_id``
    when given, else by ``pressed_at``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["sos"]
    pressed_at: JsonAwareDatetime = Field(description="When it was pressed, with its UTC offset")
    position: Position | None = None
    client_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=CLIENT_ID_PATTERN
    )


class AlarmRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    device_id: uuid.UUID | None
    kind: AlarmKind
    occurred_at: datetime
    received_at: datetime
    position: Position | None = Field(description="sos: where the device was, if it knew")
    battery_pct: int | None = Field(description="low_battery: the level read")
    last_seen_at: datetime | None = Field(description="device_silent: its last sign of life")


class AlarmCreated(BaseModel):
    status: Literal["stored", "duplicate"]
    alarm: AlarmRead


class AlarmPage(BaseModel):
    items: list[AlarmRead]
    next_cursor: str | None


class HeartbeatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    battery_pct: JsonInt = Field(ge=0, le=100)
    charging: JsonBool
    app_version: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.+_-]+$")


class DeviceStatusRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_id: uuid.UUID
    last_seen_at: datetime = Field(description="The last upload, heartbeat or SOS.")
    battery_pct: int | None
    charging: bool | None
    battery_read_at: datetime | None = Field(
        default=None, description="When the battery reading was taken."
    )
    app_version: str | None


class DeviceStatusList(BaseModel):
    items: list[DeviceStatusRead] = Field(description="The child's devices, last seen first.")


class AlarmSettingsUpdate(BaseModel):
    """Every field, as in a PUT. SOS has no switch: it is always on."""

    model_config = ConfigDict(extra="forbid")

    battery_threshold_pct: JsonInt = Field(ge=1, le=90)
    silent_after_minutes: JsonInt = Field(ge=15, le=7 * 24 * 60)
    low_battery_enabled: JsonBool
    device_silent_enabled: JsonBool
    sim_moved_enabled: JsonBool


class AlarmSettingsRead(AlarmSettingsUpdate):
    model_config = ConfigDict(extra="ignore")

    child_id: uuid.UUID
    updated_at: datetime | None = Field(description="None: the defaults, never changed")


class HandsetReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    imei: str = Field(pattern=IMEI_PATTERN, description="15 digits, the last a Luhn check digit")
    observed_at: AwareDatetime | None = Field(
        default=None, description="When the network saw it; now if left out"
    )


class HandsetResult(BaseModel):
    """``first``: no handset was known for the line; ``unchanged``; ``changed``: another
    handset than the last one (an alarm when the line's child has it on); ``stale``: a report
    older than the last one, ignored."""

    status: Literal["first", "unchanged", "changed", "stale"]
