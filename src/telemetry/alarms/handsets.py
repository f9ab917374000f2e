"""SIM moved: the carrier reports which handset (IMEI) a line is in; another handset than the
last one known raises SimMoved for the line's child.

The IMEI identifies a person's phone, so it is checked and turned into a keyed hash at once
(``handset_key``) and never stored or passed on in clear. Reports carry when the network saw
the handset; one older than the last applied is stale and ignored, so reports delivered out of
order do not flip the line between two handsets and raise twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.ids import new_id
from parental.kit.security import keyed_hash
from telemetry.alarms import repository
from telemetry.alarms.errors import InvalidImei
from telemetry.alarms.events import SimMoved
from telemetry.alarms.imei import is_valid_imei
from telemetry.alarms.models import Alarm
from telemetry.alarms.rules import AlarmDefaults, Alerts, rules_of

Outcome = Literal["first", "unchanged", "changed", "stale"]


def handset_key(imei: str, *, secret: str) -> str:
    """The keyed hash a handset is known by; InvalidImei unless the check digit is right."""
    if not is_valid_imei(imei):
        raise InvalidImei()
    return keyed_hash(secret, f"imei:{imei}")


async def report(
    session: AsyncSession,
    *,
    line_id: uuid.UUID,
    child_id: uuid.UUID | None,
    handset: str,
    observed_at: datetime,
    now: datetime,
    defaults: AlarmDefaults,
    alerts: Alerts,
) -> tuple[Outcome, SimMoved | None]:
    """Apply the carrier's report that ``line_id`` is in ``handset`` (a ``handset_key``)."""
    row = await repository.handset_for_update(session, line_id)
    if row is None:
        values = {
            "line_id": line_id,
            "imei_hash": handset,
            "observed_at": observed_at,
            "since": observed_at,
        }
        if await repository.insert_handset(session, values):
            return "first", None
        row = await repository.handset_for_update(session, line_id)  # a report at the same time
        assert row is not None
    if observed_at < row.observed_at:
        return "stale", None
    row.observed_at = observed_at
    if row.imei_hash == handset:
        return "unchanged", None
    row.imei_hash = handset
    row.since = observed_at
    if child_id is None:  # a line without a child yet: remembered, nobody to tell
        return "changed", None
    rules = await rules_of(session, child_id, defaults)
    if not (rules.sim_moved_enabled and await alerts()):
        return "changed", None
    alarm = Alarm(
        id=new_id(),
        child_id=child_id,
        kind="sim_moved",
        occurred_at=min(observed_at, now),
        received_at=now,
    )
    await repository.add(session, alarm)
    return "changed", SimMoved(
        occurred_at=alarm.occurred_at, alarm_id=alarm.id, child_id=child_id, line_id=line_id
    )


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Forget handsets last reported before ``before``: the next report is a first one."""
    return await repository.purge_handsets(session, before)
