"""Errors of lexicon curation, each rendered as ``{"error": "<class name>", "detail": ...}``.

AppError
├── BadRequest 400: InvalidLexicon (with ``problems``: each fault and its JSON path)
├── NotFound 404: LexiconVersionNotFound
└── Conflict 409: LexiconAlreadyPublished, LexiconDraftSuperseded, LexiconNotPublished,
                  LexiconUnchanged
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from parental.kit.errors import BadRequest, Conflict, ErrorBody, NotFound
from telemetry.conversations.classify import Problem

MAX_PROBLEMS = 200  # a curator fixes the first ones first; the total says how many there are


class ProblemRead(BaseModel):
    path: str  # e.g. "rules[3].forms[0]"
    message: str


class InvalidLexiconBody(ErrorBody):
    """The body of a 400 ``InvalidLexicon``: every fault, by its JSON path in the lexicon."""

    problems: list[ProblemRead]
    problems_total: int


class InvalidLexicon(BadRequest):
    message = "The lexicon cannot be compiled; nothing was stored."

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{self.message} {len(self.problems)} problem(s).")

    def body(self) -> dict[str, Any]:
        return {
            **super().body(),
            "problems": [p.as_dict() for p in self.problems[:MAX_PROBLEMS]],
            "problems_total": len(self.problems),
        }


class LexiconVersionNotFound(NotFound):
    message = "No such lexicon version."


class LexiconAlreadyPublished(Conflict):
    message = "This version is already published."


class LexiconDraftSuperseded(Conflict):
    message = (
        "A newer version is in force; create a new draft from this one (and the changes since) "
        "instead."
    )


class LexiconNotPublished(Conflict):
    message = "Only a published version (or 0, the packaged default) can be rolled back to."


class LexiconUnchanged(Conflict):
    message = "The version in force already has this content; nothing to publish."
