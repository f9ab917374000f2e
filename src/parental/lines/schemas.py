from __future__ import annotations

import uuid
from datetime import datetime

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
