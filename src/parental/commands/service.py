"""Commands to a child's device: given by a guardian, pushed, waited for, acknowledged.

- ``issue`` checks what the guardian may do (``safeguards``: for ``listen`` the child's
  age band is one the carrier's age policy allows (``parental.age_policy``), the guardian
  joined the family long enough ago and the session is not longer than the carrier's limit;
  then the listening consent, the child's own too from the carrier's age:
  ``parental.consent``), then the child's quota for the kind (over
  it: 429, nothing stored or sent), then stores the command, writes its FCM message to
  every reachable device of the child (a data message, or on iOS an alert where Apple needs
  one: ``push.command_message``) and an audit row the child's device shows, all in the
  request's transaction.
- A device that was offline gets the command again when it checks in (``check_in``: its
  heartbeat, or asking for its commands), at most every ``command_resend_seconds``, until the
  command is received, finished or expired.
- The device acknowledges (``acknowledge``): ``received``, ``done`` or ``failed`` with a
  reason. ``locate_now`` is done with the time of a fresh fix it uploaded; ``listen`` is done
  by uploading its audio (``audio``). A finished command does not change any more; an
  acknowledgement repeated changes nothing.
- A command not finished by ``expires_at`` reads as expired at once, and the sweep stores it
  so; commands are deleted ``command_retention_days`` after they were given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parental.age_policy import service as age_policy
from parental.auth.models import Account
from parental.children.models import Child
from parental.commands import push, safeguards
from parental.commands.errors import (
    CommandExpired,
    CommandFinished,
    CommandNotFound,
    ListenNeedsAudio,
    LocateNeedsFix,
)
from parental.commands.models import DeviceCommand
from parental.commands.schemas import (
    FINISHED,
    AckState,
    CommandAck,
    CommandCreate,
    CommandKind,
    CommandState,
    ListenCreate,
    MessageCreate,
)
from parental.consent import service as consent
from parental.consent.models import Purpose
from parental.families.models import Guardian
from parental.kit.paging import decode_cursor
from parental.settings import ParentalSettings
from telemetry.locations.models import LocationFix

# A fix this much older than the command still counts as the answer to locate_now (the
# device's clock and the server's are not the same clock).
FIX_CLOCK_SLACK = timedelta(seconds=60)


def state_at(command: DeviceCommand, now: datetime) -> CommandState:
    """The command's state as the guardian and the device see it at ``now``."""
    state = CommandState(command.state)
    if state not in FINISHED and now >= command.expires_at:
        return CommandState.EXPIRED
    return state


async def issue(
    session: AsyncSession,
    settings: ParentalSettings,
    *,
    child: Child,
    account: Account,
    membership: Guardian,
    body: CommandCreate,
    now: datetime,
) -> DeviceCommand:
    """Store a command and its data messages (the caller has checked that monitoring applies
    and audits it)."""
    kind = CommandKind(body.kind)
    seconds: int | None = None
    if isinstance(body, ListenCreate):
        policy = await age_policy.current(session, settings)
        seconds = safeguards.check_listen(
            settings, policy, child=child, membership=membership, requested=body.seconds, now=now
        )
        # After the carrier's own rules: a session they do not offer needs no one's consent.
        await consent.require(session, settings, child, Purpose.LISTENING, now)
    await safeguards.lock_child(session, child.id)
    rule = safeguards.quota_of(settings, kind)
    await safeguards.check_quota(session, child_id=child.id, kind=kind, rule=rule, now=now)
    wait = timedelta(seconds=settings.command_wait_seconds)
    command = DeviceCommand(
        id=uuid.uuid4(),
        child_id=child.id,
        issued_by=account.id,
        kind=kind.value,
        text=body.text if isinstance(body, MessageCreate) else None,
        seconds=seconds,
        state=CommandState.PENDING.value,
        created_at=now,
        # A listening session also needs its recording time and the upload after it.
        expires_at=now + wait + timedelta(seconds=seconds or 0),
        pushes=0,
        result={},
    )
    session.add(command)
    await session.flush()
    await send(session, settings, command, await push.reachable_devices(session, child.id), now)
    return command


def device_data(command: DeviceCommand) -> dict[str, str]:
    """What the FCM data message says (strings only)."""
    data = {
        "type": "command",
        "command_id": str(command.id),
        "kind": command.kind,
        "expires_at": command.expires_at.isoformat(),
    }
    if command.text is not None:
        data["text"] = command.text
    if command.seconds is not None:
        data["seconds"] = str(command.seconds)
    return data


async def send(
    session: AsyncSession,
    settings: ParentalSettings,
    command: DeviceCommand,
    device_ids: Sequence[uuid.UUID],
    now: datetime,
) -> None:
    """Write the command's message for these devices (as each one's platform needs it:
    ``push.command_message``) and count the push."""
    if not device_ids:
        return
    left = int((command.expires_at - now).total_seconds())
    command.pushes += 1
    command.last_pushed_at = now
    await push.command_to_devices(
        session,
        list(device_ids),
        key=f"command:{command.id}:{command.pushes}",
        kind=f"command.{command.kind}",
        data=device_data(command),
        ttl_seconds=min(settings.command_push_ttl_seconds, left),
        now=now,
    )


async def waiting_for(
    session: AsyncSession, child_id: uuid.UUID, *, now: datetime
) -> list[DeviceCommand]:
    """The child's commands a device should still act on: not finished, not expired (oldest
    first)."""
    query = (
        select(DeviceCommand)
        .where(
            DeviceCommand.child_id == child_id,
            DeviceCommand.state.in_([CommandState.PENDING.value, CommandState.RECEIVED.value]),
            DeviceCommand.expires_at > now,
        )
        .order_by(DeviceCommand.created_at, DeviceCommand.id)
    )
    return list((await session.scalars(query)).all())


async def check_in(
    session: AsyncSession,
    settings: ParentalSettings,
    *,
    child_id: uuid.UUID,
    device_id: uuid.UUID,
    now: datetime,
) -> list[DeviceCommand]:
    """The device is online: push again what it has not received yet (unless pushed within
    ``command_resend_seconds``); returns the commands still waiting."""
    waiting = await waiting_for(session, child_id, now=now)
    resend_before = now - timedelta(seconds=settings.command_resend_seconds)
    due = [
        command
        for command in waiting
        if command.state == CommandState.PENDING.value
        and (command.last_pushed_at is None or command.last_pushed_at <= resend_before)
    ]
    # Whether the device can be pushed to is asked only when something is due (seldom: most
    # check-ins find nothing waiting).
    if due and device_id in await push.reachable_devices(session, child_id):
        for command in due:
            await send(session, settings, command, [device_id], now)
    return waiting


async def of_child(
    session: AsyncSession, child_id: uuid.UUID, command_id: uuid.UUID
) -> DeviceCommand:
    """The child's command (404 for another child's or none)."""
    command = await session.get(DeviceCommand, command_id)
    if command is None or command.child_id != child_id:
        raise CommandNotFound()
    return command


async def page_of_child(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[DeviceCommand], bool]:
    """The child's commands, newest first; whether there are more."""
    query = select(DeviceCommand).where(DeviceCommand.child_id == child_id)
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                DeviceCommand.created_at < at,
                and_(DeviceCommand.created_at == at, DeviceCommand.id < last_id),
            )
        )
    query = query.order_by(DeviceCommand.created_at.desc(), DeviceCommand.id.desc())
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit


async def fresh_fix(
    session: AsyncSession, command: DeviceCommand, device_id: uuid.UUID, fix_time: datetime
) -> bool:
    """Whether the device stored a fix at ``fix_time``, no older than the command."""
    if fix_time < command.created_at - FIX_CLOCK_SLACK:
        return False
    found = await session.scalar(
        select(func.count())
        .select_from(LocationFix)
        .where(
            LocationFix.child_id == command.child_id,
            LocationFix.device_id == device_id,
            LocationFix.fixed_at == fix_time,
        )
    )
    return bool(found)


async def acknowledge(
    session: AsyncSession,
    command: DeviceCommand,
    *,
    device_id: uuid.UUID,
    ack: CommandAck,
    now: datetime,
) -> bool:
    """Apply the device's acknowledgement; whether anything changed."""
    state = state_at(command, now)
    wanted = CommandState(ack.state.value)
    if state is wanted or (state is CommandState.DONE and wanted is CommandState.RECEIVED):
        return False  # sent again, or late: nothing new
    if state is CommandState.EXPIRED:
        raise CommandExpired()
    if state in FINISHED:
        raise CommandFinished()
    if ack.state is AckState.RECEIVED:
        command.state = CommandState.RECEIVED.value
        command.received_at = now
        command.device_id = device_id
        return True
    if ack.state is AckState.DONE:
        kind = CommandKind(command.kind)
        if kind is CommandKind.LISTEN:
            raise ListenNeedsAudio()
        if kind is CommandKind.LOCATE_NOW:
            if ack.fix_time is None or not await fresh_fix(
                session, command, device_id, ack.fix_time
            ):
                raise LocateNeedsFix()
            command.result = {"fix_time": ack.fix_time.isoformat()}
    finish(command, device_id=device_id, state=wanted, now=now, reason=ack.reason)
    return True


def finish(
    command: DeviceCommand,
    *,
    device_id: uuid.UUID,
    state: CommandState,
    now: datetime,
    reason: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Mark the command done or failed by ``device_id``."""
    command.state = state.value
    command.device_id = device_id
    command.received_at = command.received_at or now
    command.finished_at = now
    command.failure_reason = reason if state is CommandState.FAILED else None
    if result is not None:
        command.result = {**command.result, **result}


async def sweep_expired(session: AsyncSession, *, now: datetime) -> int:
    """Store as expired the commands whose time ran out unfinished; how many."""
    result: Any = await session.execute(
        update(DeviceCommand)
        .where(
            DeviceCommand.state.in_([CommandState.PENDING.value, CommandState.RECEIVED.value]),
            DeviceCommand.expires_at <= now,
        )
        .values(state=CommandState.EXPIRED.value),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete commands given before ``before`` (their audio with them)."""
    result: Any = await session.execute(
        delete(DeviceCommand).where(DeviceCommand.created_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
