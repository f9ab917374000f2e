"""The app catalogue as curators edit it, and a child's apps as the child's guardians see them.

A catalogue row is written whole (``PUT``): a name (control characters and runs of whitespace
become one space, 1 to 255 characters left), a category, whether every child's policy always
allows the app (false unless given) and an optional note for curators (at most 500
characters). An import is typed strictly (a malformed body is refused whole, 422), but
each item's values are judged alone (``telemetry.usage.catalogue.service.judge``): a bad one is
rejected with a reason, the others are stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parental.kit.wire import JsonBool
from telemetry.usage.catalogue.lookup import Source
from telemetry.usage.catalogue.models import MAX_NOTE
from telemetry.usage.policy import Category
from telemetry.usage.service import label

MAX_IMPORT = 5000
ALWAYS_ALLOWED = (
    "Every child's policy allows the app, even in a pause, downtime or past a limit, and even "
    "if a guardian blocked it: for the apps a child needs to reach help (phone, SMS, emergency, "
    "maps). A row written without it is not always allowed."
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogueAppCreate(Request):
    """An app's catalogue row, created or replaced whole."""

    name: str = Field(min_length=1, max_length=255, description="Shown to guardians.")
    category: Category
    always_allowed: JsonBool = Field(default=False, description=ALWAYS_ALLOWED)
    note: str | None = Field(
        default=None, max_length=MAX_NOTE, description="For curators: why this category."
    )

    @model_validator(mode="after")
    def _clean_name(self) -> Self:
        name = label(self.name)
        if name is None:
            raise ValueError("name: an app's name has a printable character")
        self.name = name
        return self


class CatalogueAppRead(BaseModel):
    app: str = Field(description="Android package or iOS bundle id.")
    name: str
    category: Category
    always_allowed: bool = Field(description=ALWAYS_ALLOWED)
    note: str | None
    updated_at: datetime
    updated_by: uuid.UUID | None = Field(
        description="The curator's staff id; null: shipped with the product."
    )


class CatalogueAppPage(BaseModel):
    items: list[CatalogueAppRead] = Field(description="In app id order.")
    next_cursor: str | None


class CatalogueImportItem(Request):
    app: str
    name: str
    category: str = Field(description="social, games, video, messaging, education, browser, other")
    always_allowed: JsonBool = Field(default=False, description=ALWAYS_ALLOWED)
    note: str | None = None


class CatalogueImport(Request):
    items: list[CatalogueImportItem] = Field(min_length=1, max_length=MAX_IMPORT)


class ImportStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


class ImportRejectReason(StrEnum):
    INVALID_APP = "invalid_app"  # empty, longer than 255, whitespace or control characters
    INVALID_NAME = "invalid_name"  # nothing printable, or longer than 255 once cleaned
    INVALID_CATEGORY = "invalid_category"
    INVALID_NOTE = "invalid_note"  # longer than 500 characters
    DUPLICATE = "duplicate"  # the same app id earlier in this import: the first one stands


class CatalogueImportItemResult(BaseModel):
    index: int = Field(description="The item's position in the request, from 0.")
    app: str
    status: ImportStatus
    reason: ImportRejectReason | None = None


class CatalogueImportResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    items: list[CatalogueImportItemResult] = Field(description="One per item, in request order.")


class ChildAppRead(BaseModel):
    app: str = Field(description="Android package or iOS bundle id.")
    name: str | None = Field(
        description="The name the child's device last reported, else the catalogue's."
    )
    category: Category
    source: Source = Field(
        description="guardian: a guardian chose it for this child; catalogue: the app "
        "catalogue's; default: the app is in neither, so other."
    )


class ChildAppList(BaseModel):
    items: list[ChildAppRead] = Field(
        description="The apps the child's devices reported, those the child's screen-time rules "
        "name and those a guardian categorised, in app id order."
    )


class ChildAppCategoryCreate(Request):
    category: Category
