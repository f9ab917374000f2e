from __future__ import annotations

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


class RuleRead(BaseModel):
    """The rule that decided: what it lists, and which source and version it came from."""

    host: str
    scope: Literal["exact", "subtree", "subdomains", "url"]
    path: str
    action: Literal["block", "allow"]
    source_id: str
    source_name: str
    version: str


class CheckResult(BaseModel):
    input: str
    normalized: str
    action: Literal["block", "allow"]
    categories: list[str]
    rule: RuleRead | None


class CheckResponse(BaseModel):
    version: str
    results: list[CheckResult]
