"""Consent errors: ``ConsentRequired`` (403, a purpose lacks a consent it needs, naming the
purpose and whose consent is missing), ``ConsentTextMismatch`` (409, a grant names another
consent text than the current one) and ``ChildConsentNotNeeded`` (409, the child is below
the age of their own consent)."""

from __future__ import annotations

from typing import Any

from parental.kit.errors import Conflict, Forbidden


class ConsentRequired(Forbidden):
    """Carries the purpose and whose consent is missing, so an app can ask the right person."""

    message = "This needs a consent that was not given or was withdrawn; nothing was stored."

    def __init__(self, purpose: str, missing: list[str]) -> None:
        self.purpose = purpose
        self.missing = missing
        who = " and ".join(missing)
        super().__init__(
            f"Collecting or reading '{purpose}' needs the {who}'s consent, which was not given "
            "or was withdrawn; nothing was stored."
        )

    def body(self) -> dict[str, Any]:
        return {**super().body(), "purpose": self.purpose, "missing": self.missing}


class ConsentTextMismatch(Conflict):
    message = "Consent is given to the current consent text: name its version."


class ChildConsentNotNeeded(Conflict):
    message = "Below the age of the child's own consent, the guardians' consent decides."
