from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parental.children.schemas import MonitoringRead
from parental.consent.models import ConsentRecord, Purpose
from parental.consent.service import PartyConsent, PurposeConsent
from parental.kit.wire import JsonBool
from telemetry.conversations.schemas import MessagesMode

TEXT_VERSION = Field(
    default=None,
    max_length=32,
    description="The version of the consent text the person read; a grant must name the "
    "current one (see `text_version` of the GET), a withdrawal never fails for it.",
)


class ConsentChange(BaseModel):
    """A guardian gives or withdraws consent to one purpose."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    granted: JsonBool
    text_version: str | None = TEXT_VERSION


class ChildConsentChange(BaseModel):
    """The child gives or withdraws their own consent (messages and listening only)."""

    model_config = ConfigDict(extra="forbid")

    purpose: Literal[Purpose.MESSAGES, Purpose.LISTENING]
    granted: JsonBool
    text_version: str | None = TEXT_VERSION


class PartyConsentRead(BaseModel):
    granted: bool
    basis: Literal["recorded", "child_added", "none"] = Field(
        description="recorded: a consent row; child_added: location and app usage are given "
        "with adding the child until withdrawn; none: never given."
    )
    text_version: str | None
    at: datetime | None
    by: str | None = Field(description="The guardian's account id or the child's device id.")

    @classmethod
    def of(cls, party: PartyConsent) -> PartyConsentRead:
        return cls(
            granted=party.granted,
            basis=party.basis,
            text_version=party.text_version,
            at=party.at,
            by=party.by,
        )


class PurposeConsentRead(BaseModel):
    purpose: Purpose
    effective: bool = Field(description="Whether it may be collected now.")
    missing: list[Literal["guardian", "child"]] = Field(description="Whose consent is missing.")
    guardian: PartyConsentRead
    child: PartyConsentRead | None = Field(description="None: this purpose never asks the child.")
    child_required: bool = Field(description="The child is old enough to decide too.")

    @classmethod
    def of(cls, state: PurposeConsent) -> PurposeConsentRead:
        return cls(
            purpose=state.purpose,
            effective=state.effective,
            missing=state.missing,  # type: ignore[arg-type]  # party names
            guardian=PartyConsentRead.of(state.guardian),
            child=PartyConsentRead.of(state.child) if state.child else None,
            child_required=state.child_required,
        )


class ConsentRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    purpose: Purpose
    party: Literal["guardian", "child"]
    granted: bool
    text_version: str
    actor_id: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: ConsentRecord) -> ConsentRecordRead:
        return cls.model_validate(row)


class ConsentState(BaseModel):
    text_version: str = Field(description="The current consent text's version.")
    child_consent_age: int
    child_consent_from: date = Field(description="When the child's own consent is needed.")
    purposes: list[PurposeConsentRead]


class ConsentsRead(ConsentState):
    """The guardian's view: the current state and every change, newest first."""

    history: list[ConsentRecordRead]
    next_cursor: str | None


class FeatureRead(BaseModel):
    on: bool
    reasons: list[str] = Field(description="Why it is off (none when on).")


class MessagesRead(BaseModel):
    mode: MessagesMode
    reasons: list[str]


class FilterCategoryRead(BaseModel):
    category: str
    mode: Literal["always", "scheduled"]


class MonitoredRead(BaseModel):
    location: FeatureRead
    app_usage: FeatureRead
    messages: MessagesRead
    listening: FeatureRead
    filter_categories: list[FilterCategoryRead] = Field(
        description="The kinds of sites blocked for the child, always or at set times."
    )
    safesearch: bool


class WhoRead(BaseModel):
    type: Literal["guardian", "device", "carrier", "admin"]
    id: str | None
    name: str = Field(description="As shown to the child, in the feed's language.")


class TransparencyEntry(BaseModel):
    id: uuid.UUID
    at: datetime
    action: str
    who: WhoRead
    text: str = Field(description="The entry in the child's language.")
    details: dict[str, object]


class TransparencyRead(BaseModel):
    """What is collected about the child now and everything guardians did with it. No field
    or parameter leaves an entry out: the only choices are the page size and the cursor."""

    locale: Literal["kk", "ru", "en"]
    monitoring: MonitoringRead
    monitored: MonitoredRead
    consents: ConsentState
    entries: list[TransparencyEntry]
    next_cursor: str | None
