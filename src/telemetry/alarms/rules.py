"""A child's alarm settings as the rules in force: the guardian's row, or the defaults."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.alarms import repository
from telemetry.alarms.models import AlarmSettings
from telemetry.alarms.schemas import AlarmSettingsRead

# Whether the guardians may be told about the child now (monitoring rules, owned by the
# composition root); asked only once an alarm other than SOS is due, so most reports cost
# nothing.
Alerts = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class AlarmDefaults:
    battery_threshold_pct: int = 15
    silent_after_minutes: int = 60


@dataclass(frozen=True, slots=True)
class Rules:
    battery_threshold_pct: int
    silent_after_minutes: int
    low_battery_enabled: bool = True
    device_silent_enabled: bool = True
    sim_moved_enabled: bool = True
    updated_at: datetime | None = None

    @classmethod
    def of(cls, row: AlarmSettings) -> Rules:
        return cls(
            battery_threshold_pct=row.battery_threshold_pct,
            silent_after_minutes=row.silent_after_minutes,
            low_battery_enabled=row.low_battery_enabled,
            device_silent_enabled=row.device_silent_enabled,
            sim_moved_enabled=row.sim_moved_enabled,
            updated_at=row.updated_at,
        )

    @property
    def silent_after(self) -> timedelta | None:
        """How long a device may be silent; None when the alarm is off."""
        if not self.device_silent_enabled:
            return None
        return timedelta(minutes=self.silent_after_minutes)

    def read(self, child_id: uuid.UUID) -> AlarmSettingsRead:
        return AlarmSettingsRead(
            child_id=child_id,
            battery_threshold_pct=self.battery_threshold_pct,
            silent_after_minutes=self.silent_after_minutes,
            low_battery_enabled=self.low_battery_enabled,
            device_silent_enabled=self.device_silent_enabled,
            sim_moved_enabled=self.sim_moved_enabled,
            updated_at=self.updated_at,
        )


def defaults_rules(defaults: AlarmDefaults) -> Rules:
    """The rules of a child whose guardians changed nothing."""
    return Rules(
        battery_threshold_pct=defaults.battery_threshold_pct,
        silent_after_minutes=defaults.silent_after_minutes,
    )


async def rules_of(session: AsyncSession, child_id: uuid.UUID, defaults: AlarmDefaults) -> Rules:
    row = await repository.settings_of(session, child_id)
    return defaults_rules(defaults) if row is None else Rules.of(row)
