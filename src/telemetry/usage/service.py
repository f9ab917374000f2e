"""Storing the device's usage sessions idempotently, and counting a child's minutes of a day.

Rules of an upload (``ingest``), each item judged alone, the rest of the batch kept:

- A session is known by (device, kind, app, start); app is None for the screen's sessions.
  Sent again (a retry, a batch resent whole), it is a duplicate and changes nothing; repeated
  within one batch, the first one stands and the others are duplicates.
- Sent again with a later end, it extends the stored session: the agent may report a session
  still going on and then again once it has ended. The stored end only ever moves later, so
  the longer of two reports is kept and the order they arrive in does not matter (within a
  batch too: the latest end of the items repeating a session is the one stored). The item
  that extends a session is ``accepted``; one with the same or an earlier end, ``duplicate``.
- Sessions are stored as reported, overlaps included: minutes are counted when read, from
  every stored session of the child's devices that overlaps the local date, by
  ``telemetry.usage.sessions.daily_usage``, which takes unions. So overlapping or resent
  sessions count once, a late session counts on the date it happened, and a session across
  the child's local midnight counts on each date for its part of it.
- Refused with a reason (``SessionRejectReason``): an end not after the start, longer than 24 hours,
  an end later than now plus the allowed clock skew, a start before the retention period (the
  purge would delete it at once), an app id ``sessions`` would not count (empty, longer than
  255 characters, whitespace or control characters).
- The app's name is a label for the child's guardians: per child and app id, the one sent with
  the latest session is kept (``UsageApp``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.ids import new_id
from parental.kit.metrics import count_ingested
from telemetry.usage import repository
from telemetry.usage.catalogue import lookup as catalogue
from telemetry.usage.models import UsageSession
from telemetry.usage.policy import Category, Usage
from telemetry.usage.schemas import (
    AppSessionCreate,
    AppUsageRead,
    CategoryUsageRead,
    ScreenSessionCreate,
    SessionBatchResult,
    SessionRejectReason,
    SessionResult,
    SessionStatus,
    UsageDayRead,
)
from telemetry.usage.sessions import (
    MAX_SESSION,
    ForegroundSession,
    ScreenSession,
    daily_usage,
    day_bounds,
)

APP = "app"
SCREEN = "screen"
MAX_APP_NAME = 255
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Item = AppSessionCreate | ScreenSessionCreate
Key = tuple[str, str | None, datetime]  # kind, app (None for the screen), start in UTC


@dataclass(frozen=True)
class Limits:
    """What a session must satisfy to be stored (from the settings)."""

    max_future_skew: timedelta
    retention: timedelta


def valid_app(app: str) -> bool:
    """Whether ``app`` is an app id ``sessions`` counts (its rule, not a copy of it)."""
    try:
        ForegroundSession(app, _EPOCH, _EPOCH + timedelta(seconds=1))
    except ValueError:
        return False
    return True


def reason_against(item: Item, *, now: datetime, limits: Limits) -> SessionRejectReason | None:
    """Why ``item`` may not be stored, or None when it may."""
    if item.ended_at <= item.started_at:
        return SessionRejectReason.INVALID_PERIOD
    if item.ended_at - item.started_at > MAX_SESSION:
        return SessionRejectReason.TOO_LONG
    if item.ended_at > now + limits.max_future_skew:
        return SessionRejectReason.IN_FUTURE
    if item.started_at < now - limits.retention:
        return SessionRejectReason.TOO_OLD
    if isinstance(item, AppSessionCreate) and not valid_app(item.app):
        return SessionRejectReason.INVALID_APP
    return None


def key_of(item: Item) -> Key:
    if isinstance(item, AppSessionCreate):
        return APP, item.app, item.started_at.astimezone(UTC)
    return SCREEN, None, item.started_at.astimezone(UTC)


def label(name: str) -> str | None:
    """An app's name as shown: control characters and runs of whitespace become one space,
    cut to 255 characters; None when nothing is left."""
    text = "".join(c if c.isprintable() else " " for c in name)
    return " ".join(text.split())[:MAX_APP_NAME].rstrip() or None


@dataclass
class Kept:
    """A session of the batch to store: its first item, and the latest end any item gives it."""

    index: int
    key: Key
    ended_at: datetime


@dataclass(frozen=True)
class Screened:
    """A batch judged: what to store, which items repeat one of those, what is refused, and
    the app names it brings (per app, the name of the latest session, with its end)."""

    keep: list[Kept]
    repeated: list[int]
    rejected: dict[int, SessionRejectReason]
    names: dict[str, tuple[str, datetime]]


def screen(items: Sequence[Item], *, now: datetime, limits: Limits) -> Screened:
    """Judge every item of a batch (pure)."""
    kept: dict[Key, Kept] = {}
    repeated: list[int] = []
    rejected: dict[int, SessionRejectReason] = {}
    names: dict[str, tuple[str, datetime]] = {}
    for index, item in enumerate(items):
        reason = reason_against(item, now=now, limits=limits)
        if reason is not None:
            rejected[index] = reason
            continue
        key, ended_at = key_of(item), item.ended_at.astimezone(UTC)
        if key in kept:
            repeated.append(index)
            kept[key].ended_at = max(kept[key].ended_at, ended_at)
        else:
            kept[key] = Kept(index, key, ended_at)
        if isinstance(item, AppSessionCreate):
            name = label(item.app_name)
            if name is not None and (item.app not in names or names[item.app][1] <= ended_at):
                names[item.app] = (name, ended_at)
    return Screened(list(kept.values()), repeated, rejected, names)


def _stored_key(row: UsageSession) -> Key:
    return row.kind, row.app, row.started_at


async def ingest(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    items: Sequence[Item],
    now: datetime,
    limits: Limits,
) -> SessionBatchResult:
    """Store a batch of one device's sessions (module doc), in the caller's transaction."""
    screened = screen(items, now=now, limits=limits)
    starts = {kept.key[2] for kept in screened.keep}
    stored = {
        _stored_key(row): row
        for row in await repository.of_device_starting_at(session, device_id, starts)
    }
    statuses: dict[int, SessionStatus] = dict.fromkeys(screened.repeated, SessionStatus.DUPLICATE)
    statuses.update(dict.fromkeys(screened.rejected, SessionStatus.REJECTED))
    new: dict[int, dict[str, object]] = {}
    ends: dict[uuid.UUID, datetime] = {}
    for kept in screened.keep:
        kind, app, started_at = kept.key
        row = stored.get(kept.key)
        if row is None:
            new[kept.index] = {
                "id": new_id(),
                "child_id": child_id,
                "device_id": device_id,
                "kind": kind,
                "app": app,
                "started_at": started_at,
                "ended_at": kept.ended_at,
                "received_at": now,
            }
        elif kept.ended_at > row.ended_at:
            ends[row.id] = kept.ended_at
            statuses[kept.index] = SessionStatus.ACCEPTED
        else:
            statuses[kept.index] = SessionStatus.DUPLICATE
    inserted = await repository.insert_new(session, list(new.values()))
    for index, values in new.items():
        # Not inserted: a concurrent upload stored the same session first.
        statuses[index] = (
            SessionStatus.ACCEPTED if values["id"] in inserted else SessionStatus.DUPLICATE
        )
    await repository.extend(session, ends)
    await repository.remember_app_names(session, child_id, screened.names)
    accepted = sum(1 for status in statuses.values() if status is SessionStatus.ACCEPTED)
    duplicate = len(items) - accepted - len(screened.rejected)
    count_ingested(
        "usage_sessions", accepted=accepted, duplicate=duplicate, rejected=len(screened.rejected)
    )
    return SessionBatchResult(
        accepted=accepted,
        duplicate=duplicate,
        rejected=len(screened.rejected),
        items=[
            SessionResult(
                index=i,
                client_id=item.client_id,
                status=statuses[i],
                reason=screened.rejected.get(i),
            )
            for i, item in enumerate(items)
        ],
    )


async def _day_sessions(
    session: AsyncSession, child_id: uuid.UUID, day: date, zone: ZoneInfo
) -> tuple[list[ForegroundSession], list[ScreenSession]]:
    """Every stored session of the child's devices overlapping the local date ``day`` in
    ``zone`` (those starting up to 24 hours before it included)."""
    start, end = day_bounds(day, zone)
    rows = await repository.overlapping(
        session, child_id, start=start, end=end, longest=MAX_SESSION
    )
    foreground = [
        ForegroundSession(row.app, row.started_at, row.ended_at)
        for row in rows
        if row.kind == APP and row.app is not None
    ]
    screen_on = [ScreenSession(row.started_at, row.ended_at) for row in rows if row.kind == SCREEN]
    return foreground, screen_on


async def usage_for_day(
    session: AsyncSession,
    child_id: uuid.UUID,
    day: date,
    zone: ZoneInfo,
    categories: Mapping[str, Category] | None = None,
) -> Usage:
    """Minutes the child used on the local date ``day`` in ``zone``, from every stored session
    of the child's devices overlapping it. Each app counts in its category in ``categories``;
    with None, in the one ``telemetry.usage.catalogue.lookup`` gives it for the child."""
    foreground, screen_on = await _day_sessions(session, child_id, day, zone)
    if categories is None:
        used = {fg.app for fg in foreground}
        categories = await catalogue.categories_for(session, child_id, used)
    return daily_usage(foreground, screen_on, day=day, zone=zone, categories=categories)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


async def day_report(
    session: AsyncSession, child_id: uuid.UUID, *, day: date, zone: ZoneInfo
) -> UsageDayRead:
    """The child's minutes on ``day`` per app (with its name and category, as
    ``telemetry.usage.catalogue.lookup`` gives it for the child), per category and in total."""
    foreground, screen_on = await _day_sessions(session, child_id, day, zone)
    categories = await catalogue.categories_for(session, child_id, {fg.app for fg in foreground})
    usage = daily_usage(foreground, screen_on, day=day, zone=zone, categories=categories)
    names = await repository.app_names(session, child_id, usage.apps)
    apps = sorted(usage.apps.items(), key=lambda pair: (-pair[1], pair[0]))
    by_category = sorted(usage.categories.items(), key=lambda pair: (-pair[1], pair[0]))
    return UsageDayRead(
        day=day,
        timezone=zone.key,
        total_minutes=usage.total,
        categories=[CategoryUsageRead(category=c, minutes=m) for c, m in by_category],
        apps=[
            AppUsageRead(
                app=app,
                name=names.get(app),
                category=categories.get(app, Category.OTHER),
                minutes=minutes,
            )
            for app, minutes in apps
        ],
    )


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete sessions that started before ``before`` and app names last seen before it; how
    many rows went."""
    return sum(await repository.purge(session, before=before))


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's sessions and app names; how many of each went."""
    sessions, names = await repository.erase_child(session, child_id)
    return {k: v for k, v in {"usage_sessions": sessions, "usage_apps": names}.items() if v}
