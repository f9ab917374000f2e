"""Keeping a child's screen-time rules, pause and extra time, and answering the device's
question: what may run now.

- A child without a row has the defaults (``ScreenTimeRules()``: nothing limited, blocked or
  always allowed) at revision 0. Every change (the rules replaced whole, a pause set or ended,
  a grant) raises ``revision`` by one; ending a pause that is not on changes nothing.
- A pause lasts until an instant at most ``MAX_PAUSE`` ahead; a pause that has ended reads as
  none.
- Extra time is granted for the child's local today only (``telemetry.usage.rules.models``
  says how it is kept); grants of other days never count.
- The device's policy (``device_policy``) is ``telemetry.usage.evaluate`` at ``now`` with
  today's usage from the child's sessions, for the apps the child's devices reported (their
  names are kept per child, ``UsageApp``), the apps used today and the apps the rules name.
  Each app's category is ``telemetry.usage.catalogue.lookup.apps_for``. It also carries the
  guardian's latest answer to each app install the device asked for
  (``telemetry.usage.requests.service``); an app whose install was declined is evaluated as
  blocked, the saved rules unchanged.
- The apps the app catalogue marks ``always_allowed`` (the phone, SMS, emergency, maps: what a
  child needs to reach help) are always allowed in every child's policy, as the guardian's own
  always-allowed apps are: through a pause, downtime and every limit. They win over the
  guardian's ``blocked`` list and over a declined install too: a child must be able to call
  for help whatever a guardian set (the device agent never stops the phone, SMS and emergency
  calls either), and the rules keep the guardian's list as set. The device sees such an app
  with reason ``always_allowed``.
- The evaluator's input is built (``telemetry.usage.rules.compiled.to_policy``), compiled once
  per change and kept per process (``compiled_policy``), for the device's policy and for the
  limit watch of uploads (``telemetry.usage.reports.limit_watch``).

Services run in the caller's transaction and never commit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.usage import service as usage
from telemetry.usage.catalogue import lookup as catalogue
from telemetry.usage.evaluate import evaluate
from telemetry.usage.models import UsageApp
from telemetry.usage.policy import Category
from telemetry.usage.requests import repository as usage_requests
from telemetry.usage.rules.compiled import Current, compiled_policy, named_apps
from telemetry.usage.rules.models import ScreenTimePolicy
from telemetry.usage.rules.schemas import (
    AppDecisionRead,
    DecisionRead,
    DevicePolicyRead,
    ExtraTimeCreate,
    ExtraTimeGrant,
    ExtraTimeTarget,
    ScreenTimeRules,
    ScreenTimeRulesRead,
)

MAX_PAUSE = timedelta(days=7)
_POLICIES = ScreenTimePolicy.metadata.tables[ScreenTimePolicy.__tablename__]


# --- repository -------------------------------------------------------------------------


async def get_row(session: AsyncSession, child_id: uuid.UUID) -> ScreenTimePolicy | None:
    return await session.get(ScreenTimePolicy, child_id)


async def _row_for_update(
    session: AsyncSession, child_id: uuid.UUID, now: datetime
) -> ScreenTimePolicy:
    """The child's row, created with the defaults if missing, locked until the transaction
    ends (so two changes at once both count in ``revision``)."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(_POLICIES)
        .values(
            child_id=child_id,
            rules=ScreenTimeRules().model_dump(mode="json"),
            revision=0,
            paused_until=None,
            extra_time=[],
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[_POLICIES.c.child_id])
    )
    query = (
        select(ScreenTimePolicy)
        .where(ScreenTimePolicy.child_id == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = await session.scalar(query)
    assert row is not None
    return row


async def known_apps(session: AsyncSession, child_id: uuid.UUID) -> list[str]:
    """The app ids the child's devices have reported (with a name)."""
    query = select(UsageApp.app).where(UsageApp.child_id == child_id).order_by(UsageApp.app)
    return list(await session.scalars(query))


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    """Delete a removed child's rules; how many rows went."""
    result: Any = await session.execute(
        delete(ScreenTimePolicy).where(ScreenTimePolicy.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    count = int(result.rowcount or 0)
    return {"screen_time_policies": count} if count else {}


# --- reading and changing ---------------------------------------------------------------


def _grants(row: ScreenTimePolicy | None, today: date) -> list[ExtraTimeGrant]:
    if row is None:
        return []
    grants = [ExtraTimeGrant.model_validate(g) for g in row.extra_time]
    return [g for g in grants if g.day == today]


def _paused_until(row: ScreenTimePolicy | None, now: datetime) -> datetime | None:
    if row is None or row.paused_until is None or row.paused_until <= now:
        return None
    return row.paused_until


def _current(row: ScreenTimePolicy | None, *, now: datetime, today: date) -> Current:
    rules = ScreenTimeRules() if row is None else ScreenTimeRules.model_validate(row.rules)
    read = ScreenTimeRulesRead(
        **rules.model_dump(),
        revision=0 if row is None else row.revision,
        paused_until=_paused_until(row, now),
        extra_time=_grants(row, today),
    )
    return Current(read, rules, today, None if row is None else row.updated_at)


def _read(row: ScreenTimePolicy | None, *, now: datetime, today: date) -> ScreenTimeRulesRead:
    return _current(row, now=now, today=today).read


def _changed(row: ScreenTimePolicy, now: datetime) -> None:
    row.revision += 1
    row.updated_at = now


async def read_rules(
    session: AsyncSession, child_id: uuid.UUID, *, now: datetime, today: date
) -> ScreenTimeRulesRead:
    """The child's rules (the defaults if none were set), pause and today's grants."""
    return _read(await get_row(session, child_id), now=now, today=today)


async def read_current(
    session: AsyncSession, child_id: uuid.UUID, *, now: datetime, today: date
) -> Current:
    """``read_rules``, with the rules alone and the row's last change."""
    return _current(await get_row(session, child_id), now=now, today=today)


async def replace_rules(
    session: AsyncSession,
    child_id: uuid.UUID,
    rules: ScreenTimeRules,
    *,
    now: datetime,
    today: date,
) -> ScreenTimeRulesRead:
    """Replace the child's rules whole; the pause and the grants stay."""
    row = await _row_for_update(session, child_id, now)
    row.rules = rules.model_dump(mode="json")
    _changed(row, now)
    return _read(row, now=now, today=today)


def pause_problem(until: datetime, now: datetime) -> str | None:
    """Why a pause until ``until`` may not be set at ``now``, or None when it may."""
    if until <= now:
        return "a pause ends in the future"
    if until - now > MAX_PAUSE:
        return f"a pause lasts at most {MAX_PAUSE.days} days"
    return None


async def pause(
    session: AsyncSession, child_id: uuid.UUID, *, until: datetime, now: datetime, today: date
) -> ScreenTimeRulesRead:
    """Stop everything but the always-allowed apps until ``until`` (``pause_problem`` first)."""
    row = await _row_for_update(session, child_id, now)
    row.paused_until = until
    _changed(row, now)
    return _read(row, now=now, today=today)


async def resume(
    session: AsyncSession, child_id: uuid.UUID, *, now: datetime, today: date
) -> tuple[ScreenTimeRulesRead, bool]:
    """End the pause now; whether one was on (if not, nothing changes)."""
    row = await get_row(session, child_id)
    if _paused_until(row, now) is None:
        return _read(row, now=now, today=today), False
    row = await _row_for_update(session, child_id, now)
    row.paused_until = None
    _changed(row, now)
    return _read(row, now=now, today=today), True


async def grant_extra_time(
    session: AsyncSession,
    child_id: uuid.UUID,
    grant: ExtraTimeCreate | ExtraTimeTarget,
    *,
    granted_by: str,
    now: datetime,
    today: date,
) -> ScreenTimeRulesRead:
    """Grant more minutes to an app, a category or (an ``ExtraTimeTarget`` naming neither) the
    total for the child's local ``today``; grants of other days are dropped."""
    row = await _row_for_update(session, child_id, now)
    new = ExtraTimeGrant(
        day=today,
        app=grant.app,
        category=grant.category,
        minutes=grant.minutes,
        granted_at=now,
        granted_by=granted_by,
    )
    row.extra_time = [g.model_dump(mode="json") for g in (*_grants(row, today), new)]
    _changed(row, now)
    return _read(row, now=now, today=today)


# --- the device's policy ----------------------------------------------------------------


async def device_policy(
    session: AsyncSession, child_id: uuid.UUID, *, now: datetime, zone: ZoneInfo
) -> DevicePolicyRead:
    """What the child's device may run at ``now`` under the child's rules (module doc)."""
    today = usage.local_today(now, zone)
    current = await read_current(session, child_id, now=now, today=today)
    read, rules = current.read, current.rules
    installs = await usage_requests.install_answers(session, child_id)
    declined = frozenset(app for app, answer in installs.items() if answer == "declined")
    known = {*await known_apps(session, child_id), *named_apps(rules), *installs}
    found = await catalogue.apps_for(session, child_id, known)
    categories = found.categories
    used = await usage.usage_for_day(session, child_id, today, zone, categories)
    apps = sorted({*known, *used.apps})
    compiled = compiled_policy(
        child_id, current, declined=declined, always_allowed=found.always_allowed
    )
    decision = evaluate(
        compiled,
        used,
        at=now,
        zone=zone,
        apps={app: categories.get(app, Category.OTHER) for app in apps},
    )
    return DevicePolicyRead(
        revision=read.revision,
        rules=rules,
        paused_until=read.paused_until,
        evaluated_at=now,
        decision=DecisionRead(
            apps={
                app: AppDecisionRead(
                    allowed=d.allowed, reason=d.reason, minutes_left=d.minutes_left
                )
                for app, d in sorted(decision.apps.items())
            },
            categories=dict(sorted(decision.categories.items())),
            total_minutes_left=decision.total,
            next_change=decision.next_change,
        ),
        installs=installs,
    )
