"""What the curation API takes and answers. Category texts are in kk, ru and en: parents and
children read them; everything else here is for staff."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from filters.categories.catalog import AgeBand
from filters.engine.rules import Format

Kind = Literal["block", "allow"]
SourceKind = Literal["url", "file", "manual"]
PlainNames = Literal["exact", "subtree"]
EntryState = Literal["draft", "live", "pending_removal", "removed"]

MIN_REFRESH_SECONDS = 300
MAX_REFRESH_SECONDS = 30 * 86400

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Interval = Annotated[int, Field(ge=MIN_REFRESH_SECONDS, le=MAX_REFRESH_SECONDS)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Texts(_Request):
    """One short text in each language a parent or child may use."""

    kk: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    ru: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class Descriptions(_Request):
    kk: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    ru: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _every_band(value: dict[AgeBand, bool]) -> dict[AgeBand, bool]:
    # A child's safety should not hang on a band someone forgot: every band is said explicitly.
    if set(value) != set(AgeBand):
        missing = ", ".join(sorted(b.value for b in set(AgeBand) - set(value)))
        raise ValueError(f"give a default for every age band (missing: {missing})")
    return value


Defaults = Annotated[
    dict[AgeBand, bool],
    AfterValidator(_every_band),
    Field(
        description="On (true) or off for a child of each age band, until a guardian changes it."
    ),
]


class CategoryCreate(_Request):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    kind: Kind
    names: Texts
    descriptions: Descriptions
    defaults: Defaults


class CategoryUpdate(_Request):
    """Texts and defaults of any category; the kind of a curator's category with no sources."""

    kind: Kind | None = None
    names: Texts | None = None
    descriptions: Descriptions | None = None
    defaults: Defaults | None = None


class CategoryRead(BaseModel):
    key: str
    kind: Kind
    builtin: bool
    names: dict[str, str]
    descriptions: dict[str, str]
    defaults: dict[str, bool]
    sources: int
    created_at: datetime


class CategoryList(BaseModel):
    items: list[CategoryRead]


Licence = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(description="The list's licence as its publisher states it, e.g. CC BY-SA 4.0."),
]


class SourceCreate(_Request):
    name: Name
    category: str = Field(max_length=40, description="The category's key.")
    kind: SourceKind
    url: HttpUrl | None = Field(default=None, description="URL sources only: http or https.")
    format: Format | None = Field(default=None, description="Leave out to detect it on import.")
    plain_names: PlainNames = Field(
        default="subtree",
        description="What a plain name in a domains list covers: the name and its subdomains, "
        "or the name alone.",
    )
    refresh_interval_seconds: Interval | None = Field(
        default=None, description="URL sources: fetch again this often (by the worker)."
    )
    auto_publish: bool = Field(
        default=False, description="URL sources: a refresh that changed the rules publishes them."
    )
    enabled: bool = True
    licence: Licence | None = None


class SourceUpdate(_Request):
    """Fields left out stay as they are; ``format: null`` goes back to detecting."""

    name: Name | None = None
    enabled: bool | None = None
    url: HttpUrl | None = None
    format: Format | None = None
    plain_names: PlainNames | None = None
    refresh_interval_seconds: Interval | None = None
    auto_publish: bool | None = None
    licence: Licence | None = None


class Rejected(BaseModel):
    line: int
    text: str
    reason: str


class ImportReport(BaseModel):
    """What the parser read: every line is accepted, a duplicate, skipped or rejected."""

    format: Format
    lines_read: int
    accepted: int
    duplicates: int
    skipped: int
    rejected: int
    rejections: list[Rejected] = Field(description="The first rejected lines, with reasons.")


class ImportRead(BaseModel):
    id: uuid.UUID
    source_id: uuid.UUID
    at: datetime
    actor: str
    origin: Literal["upload", "refresh", "file"]
    report: ImportReport | None
    added: int
    removed: int
    unchanged: int


class ImportList(BaseModel):
    items: list[ImportRead]


class SourceRead(BaseModel):
    id: uuid.UUID
    name: str
    category: str
    kind: SourceKind
    url: str | None
    format: Format | None
    plain_names: PlainNames
    enabled: bool
    auto_publish: bool
    licence: str | None
    refresh_interval_seconds: int | None
    next_refresh_at: datetime | None
    last_checked_at: datetime | None
    refresh_status: Literal["updated", "unchanged", "not_modified", "failed"] | None
    last_error: str | None
    last_error_at: datetime | None
    last_import_at: datetime | None
    last_report: ImportReport | None
    draft_entries: int = Field(description="Rules the source's draft holds.")
    published: bool = Field(description="Part of a published version (cannot be deleted).")
    created_at: datetime


class SourceList(BaseModel):
    items: list[SourceRead]


class RefreshRead(BaseModel):
    outcome: Literal["updated", "unchanged", "not_modified"]
    source: SourceRead
    imported: ImportRead | None = Field(description="The import, when the list was fetched.")
    published_version: int | None = Field(description="Set when the source published itself.")


class EntryCreate(_Request):
    """A rule in a named source, or (with ``category``) in that category's manual source."""

    source_id: uuid.UUID | None = None
    category: str | None = Field(default=None, max_length=40)
    target: str = Field(min_length=1, max_length=2048, description="A name, or a URL.")
    action: Kind
    subdomains: bool = Field(default=True, description="A name covers its subdomains too.")
    reason: Reason


class EntryRemove(_Request):
    reason: Reason


class EntryRead(BaseModel):
    id: uuid.UUID
    source_id: uuid.UUID
    source_name: str
    category: str
    host: str
    scope: Literal["exact", "subtree", "subdomains", "url"]
    path: str
    action: Kind
    state: EntryState
    line: int | None
    import_id: uuid.UUID | None
    added_in: int | None
    removed_in: int | None
    added_by: str
    added_at: datetime
    reason: str | None
    removed_by: str | None
    removed_at: datetime | None
    removal_reason: str | None


class EntryPage(BaseModel):
    items: list[EntryRead]
    next_cursor: str | None


class LiveRange(BaseModel):
    first: int
    last: int | None = Field(description="None: still in the version in force.")


class EntryHistory(BaseModel):
    """One rule of a source through time: every row it had, and the versions it was in."""

    entry: EntryRead
    imported: ImportRead | None = Field(description="The import that brought this row.")
    rows: list[EntryRead] = Field(description="Every row of the same rule, oldest first.")
    live_in: list[LiveRange]


class VersionCreate(_Request):
    note: str | None = Field(default=None, max_length=1000)


class VersionSource(BaseModel):
    id: uuid.UUID
    name: str
    category: str


class VersionRead(BaseModel):
    number: int
    published_at: datetime
    published_by: str
    note: str | None
    rolled_back_to: int | None
    counts: dict[str, int]
    sources: list[VersionSource]


class VersionList(BaseModel):
    items: list[VersionRead]


class DiffRule(BaseModel):
    host: str
    scope: Literal["exact", "subtree", "subdomains", "url"]
    path: str
    action: Kind
    source_id: uuid.UUID
    source_name: str


class VersionDiffRead(BaseModel):
    base: int
    number: int
    added: list[DiffRule]
    removed: list[DiffRule]
    added_total: int
    removed_total: int
