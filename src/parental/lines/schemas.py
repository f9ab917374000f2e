from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from parental.auth.schemas import PhoneNumber, Request


class LineRegister(Request):
    guardian_phone: PhoneNumber = Field(description="The contract holder's phone number (E.164).")
    is_child_sim: bool = Field(description="Whether the carrier sold this line as a child SIM.")
    active: bool = True


class LineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    msisdn: str
    guardian_phone: str
    is_child_sim: bool
    active: bool
    registered_at: datetime
    updated_at: datetime


class BindingEventKind(StrEnum):
    START = "start"
    INTERIM = "interim"
    STOP = "stop"


class BindingEvent(Request):
    """One RADIUS accounting record, as the carrier's bridge forwards it."""

    msisdn: str = Field(max_length=20, description="The line's number (E.164).")
    ip: str = Field(
        max_length=64, description="The IPv4 address, or the delegated IPv6 prefix (/32../128)."
    )
    event: BindingEventKind
    session_id: str = Field(
        min_length=1, max_length=128, description="Acct-Session-Id: unique per session."
    )
    ttl_seconds: int | None = Field(
        default=None,
        ge=60,
        le=86_400,
        description="How long the binding holds without another Interim (default in settings).",
    )


class BindingStatus(StrEnum):
    ACTIVE = "active"  # the address maps to the line until expires_at
    ENDED = "ended"  # the session is over (stopped, replaced or its line deactivated)
    IGNORED = "ignored"  # nothing stored; reason says why


class BindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    msisdn: str
    network: str
    session_id: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class BindingResult(BaseModel):
    status: BindingStatus
    reason: str | None = Field(
        default=None,
        description="Why it was ignored: not_child_sim, session_ended or unknown_session.",
    )
    binding: BindingRead | None = None
