from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from parental.auth.schemas import PhoneNumber, Request
from parental.consent.models import Purpose


class ChildCreate(Request):
    name: str = Field(min_length=1, max_length=80)
    birthdate: date
    msisdn: PhoneNumber = Field(description="The child SIM's number (E.164).")
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone; the service's default (Asia/Almaty) when left out.",
    )
    # The add-child form asks for the consents (parental.consent): messages and listening need
    # one; location and app usage come with adding the child unless withdrawn.
    consents: list[Purpose] = Field(default_factory=list, max_length=4)
    consent_text_version: str | None = Field(
        default=None, max_length=32, description="The consent text read; needed with consents."
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
    stepped_down_at: datetime | None = Field(
        default=None,
        description="When the guardians and the child's device were told monitoring ended at 18.",
    )
    adult_data_erased_at: datetime | None = Field(
        default=None, description="When the data held about the child was deleted, after 18."
    )


class ChildPage(BaseModel):
    items: list[ChildRead]
