"""How fixes are judged, kept and shown, from the composition root's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telemetry.locations.screening import Limits


@dataclass(frozen=True)
class Policy:
    """How fixes are judged, kept and shown (from the settings of the composition root)."""

    max_future_skew: timedelta
    retention: timedelta
    max_accuracy_m: float
    carrier_max_accuracy_m: float
    carrier_fallback: timedelta
    cache_seconds: int

    def limits(self, *, carrier: bool) -> Limits:
        accuracy = self.carrier_max_accuracy_m if carrier else self.max_accuracy_m
        return Limits(self.max_future_skew, self.retention, accuracy)
