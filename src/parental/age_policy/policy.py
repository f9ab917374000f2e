"""The age policy in force: what the carrier stored, or the deployment's settings until it
stores one. A plain value: reading it is the cache's business (``cache``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from filters.categories.catalog import AgeBand
from parental.children.monitoring import ADULT_AGE
from parental.settings import ParentalSettings

Source = Literal["carrier", "defaults"]


def ordered_bands(bands: Iterable[AgeBand | str]) -> tuple[AgeBand, ...]:
    """``bands`` once each, youngest first."""
    wanted = {AgeBand(b) for b in bands}
    return tuple(b for b in AgeBand if b in wanted)


@dataclass(frozen=True)
class AgePolicy:
    """Guardians read whole conversations while the child is younger than
    ``transcripts_under_age``, alerts with excerpts while younger than ``excerpts_under_age``
    (at most 18: nothing is monitored from then), nothing after; they may ask for a listening
    session in ``listen_age_bands``; the child's own consent to messages and listening is
    needed from ``child_consent_age``."""

    transcripts_under_age: int
    excerpts_under_age: int
    listen_age_bands: tuple[AgeBand, ...]
    child_consent_age: int
    updated_at: datetime | None = None  # None: the deployment's defaults
    updated_by: str | None = None

    @classmethod
    def defaults(cls, settings: ParentalSettings) -> AgePolicy:
        """The policy before the carrier sets one: the deployment's settings, excerpts until
        18."""
        return cls(
            transcripts_under_age=settings.messages_transcripts_under_age,
            excerpts_under_age=ADULT_AGE,
            listen_age_bands=ordered_bands(settings.command_listen_age_bands),
            child_consent_age=settings.child_consent_age,
        )

    @property
    def source(self) -> Source:
        return "defaults" if self.updated_at is None else "carrier"

    def listens_to(self, band: AgeBand) -> bool:
        """Whether the carrier offers listening for a child in ``band``."""
        return band in self.listen_age_bands

    def values(self) -> dict[str, object]:
        """The four ages, as the API and the audit log show them."""
        return {
            "transcripts_under_age": self.transcripts_under_age,
            "excerpts_under_age": self.excerpts_under_age,
            "listen_age_bands": [b.value for b in self.listen_age_bands],
            "child_consent_age": self.child_consent_age,
        }
