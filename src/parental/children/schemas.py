from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from parental.auth.schemas import PhoneNumber, Request


class ChildCreate(Request):
    name: str = Field(min_length=1, max_length=80)
    birthdate: date
    msisdn: PhoneNumber = Field(description="The child SIM's number (E.164).")
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone; the service's default (Asia/Almaty) when left out.",
    )


class ChildUpdate(Request):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    timezone: str | None = Field(default=None, max_length=64)


class MonitoringRead(BaseModel):
    active: bool
    ends_on: date = Field(description="The 18th birthday, when monitoring stops for good.")
    reasons: list[str] = Field(description="Why monitoring is inactive, if it is.")


class ChildRead(BaseModel):
    id: uuid.UUID
    family_id: uuid.UUID
    name: str
    birthdate: date
    timezone: str
    msisdn: str
    created_at: datetime
    monitoring: MonitoringRead


class ChildPage(BaseModel):
    items: list[ChildRead]
