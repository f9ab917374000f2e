"""A guardian's notification preferences, as the API takes and shows them (sent and read whole).

- ``kinds``: on or off per kind name (``parental.notifications.kinds``); a kind not named is
  on. SOS and self-harm cannot be switched off: asking for it is refused (422).
- ``quiet_hours``: windows from ``start`` on each of ``days`` to ``end`` (the next day when
  ``end`` is not later: ``22:00`` to ``07:00``) on the wall clock of ``timezone``, the
  guardian's IANA zone. During them notices wait until the window ends, except SOS, a child
  not arriving where expected, and self-harm. At most 14 windows, and they must leave some
  time of the week free.
- ``locale``: kk, ru or en for every notice; null (the default): each phone gets its notices
  in the language its app registered with, the inbox in the account's language.

Anything invalid is refused whole (422) and nothing changes.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from parental.i18n import Locale
from parental.kit.weekly import Window, WindowSet
from parental.notifications.kinds import BY_NAME, Priority

MAX_QUIET_WINDOWS = 14

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday: 0
ClockTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Wall-clock time in the guardian's zone, HH:MM (24 hours).",
        examples=["22:00"],
    ),
]


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_zone(name: str) -> str:
    """``name`` if it is an IANA zone this machine knows; ValueError otherwise."""
    if name not in _zones():
        raise ValueError(f"{name!r} is not an IANA time zone (such as Asia/Almaty)")
    ZoneInfo(name)
    return name


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuietHoursWindow(Request):
    """From ``start`` on each of ``days`` to ``end``, the next day if ``end`` is not later."""

    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _normalise(self) -> Self:
        self.days = sorted(set(self.days), key=WEEKDAYS.index)
        return self

    def window(self) -> Window:
        return Window(
            days=frozenset(WEEKDAYS.index(d) for d in self.days),
            start=time.fromisoformat(self.start),
            end=time.fromisoformat(self.end),
        )


def quiet_set(windows: list[QuietHoursWindow]) -> WindowSet:
    return WindowSet.of(w.window() for w in windows)


class NotificationPreferences(Request):
    """Everything a guardian sets about the notices they get (``PUT`` replaces it whole)."""

    kinds: dict[str, bool] = Field(
        default_factory=dict,
        description="On (true) or off (false) per kind; a kind not named is on.",
        examples=[{"alarm.low_battery": False, "usage.weekly_summary": True}],
    )
    quiet_hours: list[QuietHoursWindow] = Field(default_factory=list, max_length=MAX_QUIET_WINDOWS)
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="The guardian's IANA zone for quiet hours; the service's default when null.",
        examples=["Asia/Almaty"],
    )
    locale: Locale | None = Field(
        default=None,
        description=(
            "Language of every notice; null: each phone's own (the locale its app registered"
            " with), the inbox the account's language."
        ),
    )

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, kinds: dict[str, bool]) -> dict[str, bool]:
        for name, enabled in kinds.items():
            kind = BY_NAME.get(name)
            if kind is None:
                raise ValueError(f"{name!r} is not a kind of notification")
            if not enabled and not kind.may_switch_off:
                raise ValueError(f"{name} cannot be switched off")
        return kinds

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return None if name is None else valid_zone(name)

    @model_validator(mode="after")
    def _some_time_free(self) -> Self:
        if quiet_set(self.quiet_hours).always:
            raise ValueError("quiet hours cannot cover the whole week")
        return self


class KindPreferenceRead(BaseModel):
    """One kind of notice, whether the guardian gets it, and its fixed rules."""

    kind: str
    enabled: bool
    may_switch_off: bool
    through_quiet_hours: bool = Field(description="Sent at once even in quiet hours.")
    priority: Priority


class NotificationPreferencesRead(BaseModel):
    """The preferences in force: every kind in the catalogue's order, the effective language."""

    kinds: list[KindPreferenceRead]
    quiet_hours: list[QuietHoursWindow]
    timezone: str
    locale: Locale
    locale_follows_account: bool
    updated_at: datetime | None = Field(description="Null until the guardian first saves them.")
