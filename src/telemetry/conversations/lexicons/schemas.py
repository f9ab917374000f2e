"""What the lexicon curation API takes and answers (staff only).

Version numbers count from 1; 0 names the packaged default lexicon, in force until a version
is published, and accepted wherever a version is compared with, explained by or rolled back to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from parental.kit.wire import JsonInt
from telemetry.conversations.schemas import MAX_TEXT

State = Literal["draft", "in_force", "retired"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LexiconVersionCreate(_Request):
    lexicon: dict[str, Any] = Field(
        description="The whole lexicon: version, endings, rules, negatives (see "
        "telemetry.conversations.classify.lexicon). Validated; a bad one is a 400 naming each "
        "problem by its JSON path."
    )
    note: Note | None = None


class LexiconVersionSummary(BaseModel):
    number: int
    version: str = Field(description="The lexicon's own version string.")
    state: State = Field(
        description="draft (never published), in_force (the highest published number) or "
        "retired (published, then replaced)."
    )
    counts: dict[str, int] = Field(description="rules, negatives")
    note: str | None
    created_by: str
    created_at: datetime
    published_at: datetime | None
    published_by: str | None
    rolled_back_to: int | None


class LexiconVersionRead(LexiconVersionSummary):
    lexicon: dict[str, Any]


class LexiconVersionList(BaseModel):
    items: list[LexiconVersionSummary]
    in_force: int = Field(description="The number in force; 0: the packaged default.")


class LexiconInForceRead(BaseModel):
    number: int = Field(description="0: no version was published; the packaged default.")
    version: str
    lexicon: dict[str, Any]


class VersionChange(BaseModel):
    base: str
    number: str


class RuleChange(BaseModel):
    id: str
    before: dict[str, Any]
    after: dict[str, Any]


class RuleDiff(BaseModel):
    """Rules (or negatives) matched by id: present only in the newer version, only in the
    base, and in both with a different definition."""

    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[RuleChange]


class EndingsDiff(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[str]


class LexiconDiffRead(BaseModel):
    base: int
    number: int
    version: VersionChange
    endings: EndingsDiff
    rules: RuleDiff
    negatives: RuleDiff


class LexiconExplain(_Request):
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
    version: JsonInt | None = Field(
        default=None,
        ge=0,
        description="A version (a draft too; 0: the packaged default); "
        "default: the version in force.",
    )


class ExplainHit(BaseModel):
    label: str
    severity: str
    start: int = Field(description="Span of the text that triggered the hit (characters).")
    end: int
    rule_id: str
    form: str = Field(description="The form (or forms, for a proximity rule) that matched.")


class LexiconExplainRead(BaseModel):
    number: int
    version: str
    labels: list[str]
    hits: list[ExplainHit]
