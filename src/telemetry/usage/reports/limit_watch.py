"""Noticing, as a device's upload is stored, that it used up one of the child's limits today,
so that the device blocks at once and the guardians hear of it.

- A limit runs out when its minutes left on the child's local today (the day's limit, with
  the extra time granted for it, minus the minutes used) go from more than 0 before the upload
  to 0 or less after it. The limits are an app's (not for an app blocked or always allowed,
  which no limit governs), a category's and the screen-on total (with the grants to the total,
  a task's reward); each is counted alone, as ``telemetry.usage.evaluate`` counts its row.
- The policy is the device's (``telemetry.usage.rules.service``: the declined installs
  blocked, the catalogue's always-allowed apps allowed), compiled once per change and kept
  (``telemetry.usage.rules.compiled``).
- Before is today's usage from the sessions stored when the upload arrives (one query); after
  adds the sessions the upload stored or extended, counted as unions as always. Uploads of
  the child's other devices at the same instant are not seen: each notices what it used up.
- ``sync_policy`` in the answer is set when a limit ran out or the device's policy would now
  answer differently for an app (an app's extra time may outlast its category's limit): the
  device fetches its policy at once instead of at its next poll.
- A limit that ran out is told to the guardians once per child, local day and limit
  (``notices.mark_limit_reached``), and only if they want it (``notify_limit_reached`` in the
  rules); the events are for the caller to publish once the transaction has committed.
- A child without limits costs one query (the rules) more than a bare upload; one with limits
  also has today's sessions, the install answers and the apps' categories read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage import repository
from telemetry.usage import service as usage
from telemetry.usage.catalogue import lookup as catalogue
from telemetry.usage.evaluate import evaluate
from telemetry.usage.events import ScreenTimeLimitReached
from telemetry.usage.policy import Category, Policy, Usage
from telemetry.usage.reports import notices
from telemetry.usage.reports.service import split
from telemetry.usage.requests import repository as usage_requests
from telemetry.usage.rules import service as screen_time
from telemetry.usage.rules.compiled import compiled_policy
from telemetry.usage.rules.schemas import ScreenTimeRules
from telemetry.usage.schemas import AppSessionCreate, SessionBatchResult, SessionStatus
from telemetry.usage.sessions import (
    MAX_SESSION,
    ForegroundSession,
    ScreenSession,
    daily_usage,
    day_bounds,
)

LimitKind = Literal["app", "category", "total"]
APP_LIMIT: LimitKind = "app"
CATEGORY_LIMIT: LimitKind = "category"
TOTAL_LIMIT: LimitKind = "total"


@dataclass(frozen=True, slots=True, order=True)
class LimitKey:
    kind: LimitKind
    target: str  # the app id, the category, "" for the total


@dataclass(frozen=True, slots=True)
class Left:
    minutes: int  # the day's limit with its extra time
    left: float


def limits_left(policy: Policy, used: Usage) -> dict[LimitKey, Left]:
    """Each limit set for ``used.day`` (module doc) with its minutes left then (pure)."""
    day, weekday = used.day, used.day.weekday()
    grants = [grant for grant in policy.extra_time if grant.day == day]
    found: dict[LimitKey, Left] = {}
    for app, limit in policy.app_limits.items():
        minutes = limit.on(weekday)
        if minutes is None or app in policy.blocked or app in policy.always_allowed:
            continue
        minutes += sum(g.minutes for g in grants if g.app == app)
        found[LimitKey(APP_LIMIT, app)] = Left(minutes, minutes - used.apps.get(app, 0.0))
    for category, limit in policy.category_limits.items():
        minutes = limit.on(weekday)
        if minutes is None:
            continue
        minutes += sum(g.minutes for g in grants if g.category == category)
        found[LimitKey(CATEGORY_LIMIT, Category(category).value)] = Left(
            minutes, minutes - used.categories.get(category, 0.0)
        )
    total = None if policy.total_limit is None else policy.total_limit.on(weekday)
    if total is not None:
        total += sum(g.minutes for g in grants if g.total)
        found[LimitKey(TOTAL_LIMIT, "")] = Left(total, total - used.total)
    return found


def ran_out(before: Mapping[LimitKey, Left], after: Mapping[LimitKey, Left]) -> list[LimitKey]:
    """The limits with minutes left before and none after, in order (pure)."""
    return sorted(key for key, now in after.items() if now.left <= 0 < before[key].left)


def _stored(
    items: Sequence[usage.Item], result: SessionBatchResult
) -> tuple[list[ForegroundSession], list[ScreenSession]]:
    """The sessions the upload stored or extended (accepted items are valid sessions)."""
    foreground: list[ForegroundSession] = []
    screen: list[ScreenSession] = []
    for item, verdict in zip(items, result.items, strict=True):
        if verdict.status is not SessionStatus.ACCEPTED:
            continue
        if isinstance(item, AppSessionCreate):
            foreground.append(ForegroundSession(item.app, item.started_at, item.ended_at))
        else:
            screen.append(ScreenSession(item.started_at, item.ended_at))
    return foreground, screen


def _has_limits(rules: ScreenTimeRules) -> bool:
    return bool(rules.app_limits or rules.category_limits or rules.total_limit)


async def ingest(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    items: Sequence[usage.Item],
    now: datetime,
    limits: usage.Limits,
    zone: ZoneInfo,
) -> tuple[SessionBatchResult, list[ScreenTimeLimitReached]]:
    """Store the upload (``telemetry.usage.service.ingest``) and notice the limits it used up
    today (module doc): the answer, with ``sync_policy``, and the events to publish."""
    today = usage.local_today(now, zone)
    current = await screen_time.read_current(session, child_id, now=now, today=today)
    read, rules = current.read, current.rules
    if not _has_limits(rules):  # nothing used can change what the device may run
        result = await usage.ingest(
            session, child_id=child_id, device_id=device_id, items=items, now=now, limits=limits
        )
        return result, []
    start, end = day_bounds(today, zone)
    stored = await repository.overlapping(
        session, child_id, start=start, end=end, longest=MAX_SESSION
    )
    foreground, screen = split(stored)  # before: read now, as the rows change with the upload
    for row in stored:  # so that ingest reads its rows afresh, as it would without this read
        session.expunge(row)
    result = await usage.ingest(
        session, child_id=child_id, device_id=device_id, items=items, now=now, limits=limits
    )
    new_foreground, new_screen = _stored(items, result)
    if not (new_foreground or new_screen):
        return result, []

    apps = {
        *(s.app for s in foreground),
        *(s.app for s in new_foreground),
        *rules.app_limits,
        *(grant.app for grant in read.extra_time if grant.app is not None),
    }
    installs = await usage_requests.install_answers(session, child_id)
    found = await catalogue.apps_for(session, child_id, apps)
    categories = found.categories
    compiled = compiled_policy(
        child_id,
        current,
        declined=frozenset(app for app, answer in installs.items() if answer == "declined"),
        always_allowed=found.always_allowed,
    )
    policy = compiled.policy
    before = daily_usage(foreground, screen, day=today, zone=zone, categories=categories)
    after = daily_usage(
        [*foreground, *new_foreground],
        [*screen, *new_screen],
        day=today,
        zone=zone,
        categories=categories,
    )
    left_after = limits_left(policy, after)
    out = ran_out(limits_left(policy, before), left_after)
    by_app = {app: categories.get(app, Category.OTHER) for app in apps}
    changed = (
        evaluate(compiled, before, at=now, zone=zone, apps=by_app).allowed
        != evaluate(compiled, after, at=now, zone=zone, apps=by_app).allowed
    )
    result.sync_policy = bool(out) or changed
    if not out or not rules.notify_limit_reached:
        return result, []
    return result, await _tell(session, child_id, out, left_after, today=today, zone=zone, now=now)


async def _tell(
    session: AsyncSession,
    child_id: uuid.UUID,
    out: Iterable[LimitKey],
    left: Mapping[LimitKey, Left],
    *,
    today: date,
    zone: ZoneInfo,
    now: datetime,
) -> list[ScreenTimeLimitReached]:
    """The events of the limits that ran out and were not told before today."""
    events: list[ScreenTimeLimitReached] = []
    for key in out:
        notice_id = await notices.mark_limit_reached(
            session, child_id, today, kind=key.kind, target=key.target, now=now
        )
        if notice_id is None:
            continue
        events.append(
            ScreenTimeLimitReached(
                occurred_at=now,
                notice_id=notice_id,
                child_id=child_id,
                day=today,
                timezone=zone.key,
                limit=key.kind,
                app=key.target if key.kind == APP_LIMIT else None,
                category=Category(key.target) if key.kind == CATEGORY_LIMIT else None,
                minutes=left[key].minutes,
            )
        )
    apps = [event.app for event in events if event.app is not None]
    if not apps:
        return events
    names = await repository.app_names(session, child_id, apps)
    return [
        event.model_copy(update={"app_name": names.get(event.app)}) if event.app else event
        for event in events
    ]
