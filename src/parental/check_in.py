"""A device's heartbeat reads what it needs in one statement.

Under load every statement of a request is a turn of its worker's event loop, which every
other request shares. A heartbeat needs the device (by its token, not revoked), the device's
status row (locked: the heartbeat updates it) with the child's alarm rules, and whether any
command waits for the child (to push it again). Once the device has reported before (its status
row exists) they come together here; before that ``read`` answers None and the route takes the
general path (``devices.service.authenticate``, then ``liveness`` making the row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.commands.models import DeviceCommand
from parental.commands.schemas import CommandState
from parental.devices import service as devices
from parental.devices.errors import InvalidDeviceToken
from parental.devices.models import Device
from parental.kit.security import keyed_hash
from telemetry.alarms.models import AlarmSettings, DeviceStatus

_WAITING = exists().where(
    DeviceCommand.child_id == Device.child_id,
    DeviceCommand.state.in_([CommandState.PENDING.value, CommandState.RECEIVED.value]),
    DeviceCommand.expires_at > bindparam("now"),
)
_CHECK_IN = (
    select(Device, DeviceStatus, AlarmSettings, _WAITING.label("waiting"))
    .join(DeviceStatus, DeviceStatus.device_id == Device.id)
    .outerjoin(AlarmSettings, AlarmSettings.child_id == Device.child_id)
    .where(Device.token_hash == bindparam("token_hash"))
    .with_for_update(of=DeviceStatus)
    .execution_options(populate_existing=True)
)


@dataclass(frozen=True)
class CheckIn:
    device: Device
    status: DeviceStatus  # locked until the transaction ends
    settings: AlarmSettings | None  # None: the defaults
    commands_waiting: bool


async def read(session: AsyncSession, secret: str, token: str, now: datetime) -> CheckIn | None:
    """What a heartbeat of ``token`` needs; None when the token names no device that has
    reported before (the general path decides). A revoked device's token is refused."""
    found = (
        await session.execute(_CHECK_IN, {"token_hash": keyed_hash(secret, token), "now": now})
    ).first()
    if found is None:
        return None
    device, status, settings, waiting = found
    if device.revoked_at is not None:
        raise InvalidDeviceToken()
    await devices.note_seen(session, device, now)
    return CheckIn(device, status, settings, bool(waiting))
