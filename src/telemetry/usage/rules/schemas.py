"""The screen-time rules a guardian sets, as the API takes and shows them, and the policy the
child's device fetches.

A limit is whole minutes a day: ``{"minutes": 60}`` every day, or ``{"by_weekday": {"sat": 120,
"sun": null}, "otherwise": 60}`` (a weekday it does not name gets ``otherwise``; null is no
limit that day). Downtime windows run from ``start`` on each of ``days`` to ``end``, the next
day when ``end`` is not later (``21:00`` to ``07:00``). Nothing set means no limits, no
downtime, nothing blocked and nothing always allowed by the guardian: the apps the app
catalogue marks always allowed (phone, SMS, emergency, maps) are allowed whatever the rules say
(``telemetry.usage.rules.service``), and the device agent itself never stops the phone, SMS and
emergency calls.

Rules are checked whole (422, nothing changes): minutes 0 to 1440, at most 200 app limits, 50
downtime windows and 500 apps in each list, app ids as usage uploads take them
(``telemetry.usage.service.valid_app``), and no app both blocked and always allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from parental.kit.wire import JsonBool, JsonInt
from telemetry.usage.evaluate import Reason
from telemetry.usage.policy import Category
from telemetry.usage.service import valid_app

MAX_APP_LIMITS = 200
MAX_DOWNTIME = 50
MAX_APP_LIST = 500
MAX_EXTRA_MINUTES = 240

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday: 0
Minutes = Annotated[JsonInt, Field(ge=0, le=1440)]
ClockTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Wall-clock time in the child's zone, HH:MM (24 hours).",
        examples=["21:00"],
    ),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_apps(apps: Iterable[str], where: str) -> None:
    for app in apps:
        if not valid_app(app):
            raise ValueError(
                f"{where}: {app!r} is not an app id (1 to 255 characters, no whitespace or "
                "control characters)"
            )


class EveryDayLimit(Request):
    """The same minutes every day."""

    minutes: Minutes


class WeekdayLimit(Request):
    """Minutes by weekday; a weekday not named gets ``otherwise``; null is no limit."""

    by_weekday: dict[Weekday, Minutes | None]
    otherwise: Minutes | None = None


Limit = EveryDayLimit | WeekdayLimit


class DowntimeWindow(Request):
    """From ``start`` on each of ``days`` to ``end``, the next day if ``end`` is not later."""

    days: list[Weekday] = Field(min_length=1, max_length=7)
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _normalise(self) -> Self:
        self.days = sorted(set(self.days), key=WEEKDAYS.index)
        return self


class ScreenTimeRules(Request):
    """Everything a guardian sets about the child's screen time (sent and read whole)."""

    app_limits: dict[str, Limit] = Field(
        default_factory=dict, description="Per app id (package or bundle id), at most 200."
    )
    category_limits: dict[Category, Limit] = Field(default_factory=dict)
    total_limit: Limit | None = Field(default=None, description="Screen-on time a day.")
    downtime: list[DowntimeWindow] = Field(default_factory=list, max_length=MAX_DOWNTIME)
    always_allowed: list[str] = Field(
        default_factory=list,
        max_length=MAX_APP_LIST,
        description="Never stopped, not even by a pause or downtime; added to the apps the app "
        "catalogue marks always allowed (phone, SMS, emergency, maps), which are never stopped "
        "whatever the rules say, even if blocked here.",
    )
    blocked: list[str] = Field(default_factory=list, max_length=MAX_APP_LIST)
    notify_limit_reached: JsonBool = Field(
        default=True,
        description="Tell the guardians when an app, category or total limit runs out (once "
        "per limit and day).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.app_limits) > MAX_APP_LIMITS:
            raise ValueError(f"app_limits: at most {MAX_APP_LIMITS} apps")
        _check_apps(self.app_limits, "app_limits")
        _check_apps(self.always_allowed, "always_allowed")
        _check_apps(self.blocked, "blocked")
        both = sorted(set(self.always_allowed) & set(self.blocked))
        if both:
            raise ValueError(f"{', '.join(both)}: an app cannot be both blocked and always allowed")
        self.app_limits = dict(sorted(self.app_limits.items()))
        self.category_limits = dict(sorted(self.category_limits.items()))
        self.always_allowed = sorted(set(self.always_allowed))
        self.blocked = sorted(set(self.blocked))
        return self


class ExtraTimeGrant(BaseModel):
    """Extra minutes a guardian granted for the child's local ``day``, to ``app``, to
    ``category`` or, when both are null, to the total (an approved task's reward)."""

    day: date
    app: str | None
    category: Category | None
    minutes: int
    granted_at: datetime
    granted_by: str = Field(description="The granting guardian's account id.")


class ScreenTimeRulesRead(ScreenTimeRules):
    model_config = ConfigDict(extra="ignore")

    revision: int = Field(description="Goes up with every change of the rules, pause or grants.")
    paused_until: datetime | None = Field(
        description="Everything but the always-allowed apps is stopped until then."
    )
    extra_time: list[ExtraTimeGrant] = Field(description="Granted for the child's today.")


class PauseCreate(Request):
    until: AwareDatetime = Field(description="In the future, at most 7 days ahead.")


class ExtraTimeCreate(Request):
    """More minutes for one app or one category (exactly one), for the child's local today."""

    app: str | None = None
    category: Category | None = None
    minutes: int = Field(ge=1, le=MAX_EXTRA_MINUTES)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.app is None) == (self.category is None):
            raise ValueError("extra time is for an app or for a category: give exactly one")
        if self.app is not None:
            _check_apps([self.app], "app")
        return self


class ExtraTimeTarget(BaseModel):
    """What a grant made on the server's side is for (an approved request or task): an app, a
    category, or the total screen time when neither is given."""

    app: str | None = None
    category: Category | None = None
    minutes: int = Field(ge=1, le=MAX_EXTRA_MINUTES)

    @model_validator(mode="after")
    def _at_most_one_target(self) -> Self:
        if self.app is not None and self.category is not None:
            raise ValueError("extra time is for an app, a category or the total: not two")
        return self


InstallAnswer = Literal["approved", "declined"]


class AppDecisionRead(BaseModel):
    allowed: bool
    reason: Reason
    minutes_left: float | None = Field(description="Today, by the limits; null: unlimited.")


class DecisionRead(BaseModel):
    apps: dict[str, AppDecisionRead] = Field(
        description="Every app the child's devices reported and every app the rules name. "
        "Each app is in the category a guardian gave it for the child, else the app "
        "catalogue's, else other."
    )
    categories: dict[Category, float | None] = Field(description="Minutes left; null: unlimited.")
    total_minutes_left: float | None
    next_change: datetime | None = Field(
        description="When an answer may next change if no more use is reported: fetch again."
    )


class DevicePolicyRead(BaseModel):
    revision: int = Field(description="0 while the guardian has set nothing.")
    rules: ScreenTimeRules
    paused_until: datetime | None
    evaluated_at: datetime
    decision: DecisionRead
    installs: dict[str, InstallAnswer] = Field(
        default_factory=dict,
        description="The guardian's latest answer to each app the device asked to install. "
        "A declined app is blocked in ``decision`` (the guardian's rules stay as set).",
    )
