from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parental.i18n import DEFAULT_LOCALE, Locale
from parental.kit.phone import normalize_e164

PhoneNumber = Annotated[
    str,
    Field(min_length=4, max_length=32, examples=["+77011234567"]),
    AfterValidator(lambda v: normalize_e164(v)),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignInCodeCreate(Request):
    phone: PhoneNumber
    locale: Locale = DEFAULT_LOCALE


class SignInCodeSent(BaseModel):
    expires_in: int = Field(description="Seconds the code stays valid.")
    code_length: int


class TokenCreate(Request):
    phone: PhoneNumber
    code: str = Field(min_length=4, max_length=12, pattern=r"^[0-9]+$")
    locale: Locale = Field(
        default=DEFAULT_LOCALE, description="Language for a new account's texts."
    )


class TokenRefresh(Request):
    # Room for any credential a client may send by mistake (an access JWT is longer than a
    # refresh token): each is refused the same way, 401 InvalidRefreshToken, not a 422.
    refresh_token: str = Field(min_length=10, max_length=2048)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires.")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phone: str
    locale: Locale
    created_at: datetime
    family_id: uuid.UUID | None = None


class AccountUpdate(Request):
    locale: Locale | None = None
