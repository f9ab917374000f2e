from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from filters.categories.catalog import AgeBand
from parental.age_policy.policy import AgePolicy, Source, ordered_bands
from parental.auth.schemas import Request
from parental.children.monitoring import ADULT_AGE

# Strict: "13" or true is a mistake in the carrier's system, not an age.
Age = Annotated[int, Field(strict=True, ge=0, le=ADULT_AGE)]

TRANSCRIPTS = "Whole conversations while the child is younger than this (0: never)."
EXCERPTS = (
    "Alerts with excerpts while the child is younger than this; nothing from it. At most 18 "
    "(monitoring stops at 18) and at least transcripts_under_age."
)
LISTEN = "The age bands a guardian may start a listening session for ([]: none)."
CONSENT = "From this age the child's own consent to messages and listening is also needed."


class AgePolicyUpdate(Request):
    """The whole policy: every field is required (read it, change what you mean to, put it)."""

    transcripts_under_age: Age = Field(description=TRANSCRIPTS)
    excerpts_under_age: Age = Field(description=EXCERPTS)
    listen_age_bands: list[AgeBand] = Field(max_length=len(AgeBand), description=LISTEN)
    child_consent_age: Age = Field(description=CONSENT)

    @field_validator("excerpts_under_age")
    @classmethod
    def _after_transcripts(cls, value: int, info: ValidationInfo) -> int:
        transcripts = info.data.get("transcripts_under_age")
        if transcripts is not None and value < transcripts:
            raise PydanticCustomError(
                "age_bands_order",
                "excerpts_under_age ({excerpts}) must be at least transcripts_under_age "
                "({transcripts}): guardians who may read whole conversations also get alerts",
                {"excerpts": value, "transcripts": transcripts},
            )
        return value

    def policy(self) -> AgePolicy:
        return AgePolicy(
            transcripts_under_age=self.transcripts_under_age,
            excerpts_under_age=self.excerpts_under_age,
            listen_age_bands=ordered_bands(self.listen_age_bands),
            child_consent_age=self.child_consent_age,
        )


class AgePolicyRead(BaseModel):
    transcripts_under_age: int = Field(description=TRANSCRIPTS)
    excerpts_under_age: int = Field(description=EXCERPTS)
    listen_age_bands: list[AgeBand] = Field(description=LISTEN)
    child_consent_age: int = Field(description=CONSENT)
    source: Source = Field(
        description="carrier: set through this API; defaults: the deployment's settings."
    )
    updated_at: datetime | None = None
    updated_by: str | None = Field(default=None, description="The carrier key that set it.")

    @classmethod
    def of(cls, policy: AgePolicy) -> AgePolicyRead:
        return cls(
            transcripts_under_age=policy.transcripts_under_age,
            excerpts_under_age=policy.excerpts_under_age,
            listen_age_bands=list(policy.listen_age_bands),
            child_consent_age=policy.child_consent_age,
            source=policy.source,
            updated_at=policy.updated_at,
            updated_by=policy.updated_by,
        )
