from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ITEMS = 1000

Item = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str | None = Field(
        default=None, description="A filter profile id; the default profile when left out."
    )
    items: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)


# The answers are plain slotted dataclasses, not models: a batch builds a thousand of them from
# the engine's own values, which need no validation, and pydantic still documents and
# serialises them (TypeAdapter) like models.


@dataclass(slots=True)
class RuleRead:
    """The rule that decided: what it lists, and which source and version it came from."""

    host: str
    scope: Literal["exact", "subtree", "subdomains", "url"]
    path: str
    action: Literal["block", "allow"]
    source_id: str
    source_name: str
    version: str


@dataclass(slots=True)
class CheckResult:
    input: str
    normalized: str
    action: Literal["block", "allow"]
    categories: list[str]
    rule: RuleRead | None


@dataclass(slots=True)
class CheckResponse:
    version: str
    results: list[CheckResult]
