"""The step-down at 18: what the worker does once a child has turned 18.

Monitoring itself stops at midnight of the 18th birthday in the child's zone, whatever the
worker does: every read and upload checks the age (``children.service.require_monitoring``
answers 410 ``MonitoringEndedAdult``). The worker's timer round (``step_down_adults``) then,
once per child:

1. records the step-down (``children.stepped_down_at``), tells the guardians (notification
   kind ``child.adult``, in their language, with the day the data goes), and tells the
   child's device: an audit entry the device shows ("monitoring has ended") and an FCM data
   message to each device that registered a push token;
2. ``adult_data_grace_days`` after the step-down (the notice, normally minutes after the
   birthday's midnight: the family is told the date in advance, so the grace is counted from
   the telling), deletes everything monitoring collected about the child, the devices and
   their commands (with any recording) included (``children.erasure.erase_all_but_the_child``),
   and drops what the cache holds about the child. The child's row, its line and the family's
   audit record stay, so the family sees that the child turned 18 and that the data went; the
   guardians may still remove the child.

Each step is claimed by a conditional UPDATE in the transaction that does it, so several
workers running the round at once do each step once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.audit import service as audit
from parental.child_data.cache import forget_child
from parental.children import erasure
from parental.children.events import ChildCameOfAge
from parental.children.models import Child
from parental.children.monitoring import ADULT_AGE, adulthood_date, local_today
from parental.commands import push
from parental.kit.db import transaction
from parental.notifications.notify import notify
from parental.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 200
ACTOR = audit.Actor("system", "system:step-down")
DEVICE_MESSAGE_TTL_SECONDS = 7 * 86_400  # a phone off for a week still hears it at once
# Every zone's date is within a day of UTC's: a child born after this many days past
# "UTC today, 18 years ago" cannot be 18 anywhere yet.
_ZONE_SLACK = timedelta(days=2)


@dataclass
class StepDownReport:
    stepped_down: list[uuid.UUID] = field(default_factory=list)
    erased: list[uuid.UUID] = field(default_factory=list)


def erase_on(child: Child, stepped_down_at: datetime, grace_days: int) -> date:
    """The local day the child's data is deleted."""
    when = stepped_down_at + timedelta(days=grace_days)
    return when.astimezone(ZoneInfo(child.timezone)).date()


def _born_by(now: datetime) -> date:
    """The latest birthdate of a child who may be 18 somewhere at ``now``."""
    day = now.date() + _ZONE_SLACK
    try:
        return day.replace(year=day.year - ADULT_AGE)
    except ValueError:  # 29 February, 18 years before a leap day that was not one
        return date(day.year - ADULT_AGE, 3, 1)


async def step_down_adults(runtime: Runtime) -> StepDownReport:
    """Record the step-down of every child who has turned 18 and not been stepped down yet,
    then delete the data of those whose grace period has passed (module doc)."""
    report = StepDownReport()
    report.stepped_down = await _step_down_due(runtime)
    report.erased = await _erase_due(runtime)
    if report.stepped_down or report.erased:
        log.info(
            "step-down at 18: %d told, %d erased", len(report.stepped_down), len(report.erased)
        )
    return report


async def _claimed(session: AsyncSession, statement: Update) -> bool:
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return bool(getattr(result, "rowcount", 0))


async def _step_down_due(runtime: Runtime) -> list[uuid.UUID]:
    now = runtime.clock.now()
    done: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while True:
        events: list[ChildCameOfAge] = []
        async with transaction(runtime.sessions) as session:
            query = select(Child).where(
                Child.stepped_down_at.is_(None), Child.birthdate <= _born_by(now)
            )
            if after is not None:
                query = query.where(Child.id > after)
            batch = list(await session.scalars(query.order_by(Child.id).limit(BATCH)))
            for child in batch:
                if local_today(now, child.timezone) < adulthood_date(child.birthdate):
                    continue  # 18 in some zones already, not yet in the child's
                event = await _step_down(session, runtime, child, now)
                if event is not None:
                    events.append(event)
            await notify(session, runtime, events)
        for event in events:
            # Read grants end at the birthday's midnight by themselves; voiding them here
            # also ends any a process gave under a clock that was behind.
            await runtime.revoke_access([event.child_id])
            await runtime.bus.publish(event)
        done += [event.child_id for event in events]
        if len(batch) < BATCH:
            return done
        after = batch[-1].id


async def _step_down(
    session: AsyncSession, runtime: Runtime, child: Child, now: datetime
) -> ChildCameOfAge | None:
    """Claim and record one child's step-down; the guardians' event, None if another worker
    got there first."""
    claim = (
        update(Child)
        .where(Child.id == child.id, Child.stepped_down_at.is_(None))
        .values(stepped_down_at=now)
    )
    if not await _claimed(session, claim):
        return None
    adult_on = adulthood_date(child.birthdate)
    erased_on = erase_on(child, now, runtime.settings.adult_data_grace_days)
    await audit.record(
        session,
        at=now,
        action="child.stepped_down",
        actor=ACTOR,
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        child_visible=True,  # the device shows it: "monitoring has ended"
        details={"reason": "adult", "adult_on": adult_on.isoformat(), "erase_on": str(erased_on)},
    )
    message = push.data_message(
        {
            "type": "monitoring_ended",
            "reason": "adult",
            "child_id": str(child.id),
            "erase_on": erased_on.isoformat(),
        },
        ttl_seconds=DEVICE_MESSAGE_TTL_SECONDS,
    )
    devices = await push.reachable_devices(session, child.id)
    await push.to_devices(
        session, devices, key=f"adult:{child.id}", kind="monitoring_ended", message=message, now=now
    )
    midnight = datetime.combine(adult_on, time(0), tzinfo=ZoneInfo(child.timezone))
    return ChildCameOfAge(
        occurred_at=midnight, child_id=child.id, adult_on=adult_on, erase_on=erased_on
    )


async def _erase_due(runtime: Runtime) -> list[uuid.UUID]:
    now = runtime.clock.now()
    before = now - timedelta(days=runtime.settings.adult_data_grace_days)
    done: list[uuid.UUID] = []
    while True:
        async with transaction(runtime.sessions) as session:
            query = (
                select(Child)
                .where(
                    Child.stepped_down_at <= before,
                    Child.adult_data_erased_at.is_(None),
                )
                .order_by(Child.id)
                .limit(BATCH)
            )
            batch = list(await session.scalars(query))
            erased = [child.id for child in batch if await _erase(session, child, now)]
        for child_id in erased:
            await forget_child(runtime, child_id)
        done += erased
        if len(batch) < BATCH:
            return done


async def _erase(session: AsyncSession, child: Child, now: datetime) -> bool:
    """Claim and delete one child's monitored data; False if another worker got there first."""
    claim = (
        update(Child)
        .where(Child.id == child.id, Child.adult_data_erased_at.is_(None))
        .values(adult_data_erased_at=now)
    )
    if not await _claimed(session, claim):
        return False
    erased = await erasure.erase_all_but_the_child(session, child)
    await audit.record(
        session,
        at=now,
        action="child.adult_data_erased",
        actor=ACTOR,
        family_id=child.family_id,
        child_id=child.id,
        subject_type="child",
        subject_id=child.id,
        details={"erased": erased},
    )
    return True
