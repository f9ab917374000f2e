from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parental.auth.schemas import Request

StaffRole = Literal["admin", "curator"]


class StaffTokenCreate(Request):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="The one-time code of the authenticator app; required once enrolled.",
    )


class StaffToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: StaffRole
    created_at: datetime
