from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parental.auth.schemas import Request
from parental.children.schemas import MonitoringRead

Platform = Literal["android", "ios"]


class PairingCodeRead(BaseModel):
    code: str = Field(description="Show this to the child's device; it works once.")
    expires_at: datetime


class DevicePair(Request):
    code: str = Field(min_length=8, max_length=32, description="The guardian's pairing code.")
    name: str = Field(min_length=1, max_length=80)
    platform: Platform


class DevicePaired(BaseModel):
    device_id: uuid.UUID
    child_id: uuid.UUID
    device_token: str = Field(description="Send as a Bearer token; shown only this once.")


class DeviceUpdate(Request):
    name: str | None = Field(default=None, min_length=1, max_length=80)


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    name: str
    platform: Platform
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class DevicePage(BaseModel):
    items: list[DeviceRead]


class DeviceChildRead(BaseModel):
    """What the child's own device is told about its child and about monitoring."""

    id: uuid.UUID
    name: str
    birthdate: date
    timezone: str


class DeviceSelf(BaseModel):
    device: DeviceRead
    child: DeviceChildRead
    monitoring: MonitoringRead
