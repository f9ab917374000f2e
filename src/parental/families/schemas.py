from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parental.auth.schemas import PhoneNumber, Request


class FamilyCreate(Request):
    name: str = Field(min_length=1, max_length=80)


class FamilyUpdate(Request):
    name: str | None = Field(default=None, min_length=1, max_length=80)


class GuardianRead(BaseModel):
    account_id: uuid.UUID
    phone: str
    role: Literal["owner", "guardian"]
    joined_at: datetime


class FamilyRead(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    guardians: list[GuardianRead]


class InvitationCreate(Request):
    phone: PhoneNumber


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    family_id: uuid.UUID
    phone: str
    created_at: datetime
    expires_at: datetime
    status: Literal["pending", "accepted", "declined", "revoked", "expired"]


class InvitationPage(BaseModel):
    items: list[InvitationRead]
