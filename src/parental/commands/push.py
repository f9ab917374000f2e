"""FCM data messages to a child's devices, through the push outbox.

A row per device with a registered token (``account_id`` is the device's id, kind
``device.<what>``), written in the caller's transaction like every notification, so a command
and its message commit together; the dispatcher sends it to the device's token. Every message
carries ``notify_child: "true"``: the device agent always shows the child what it was told to
do (the API has no field to turn that off, and this module has no parameter for it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.devices.models import Device
from parental.notifications import outbox
from parental.notifications.models import DevicePushToken
from parental.notifications.outbox import Notice, PushMessage

POLICY_TTL_SECONDS = 3600  # a device offline longer fetches the policy when it is back anyway


async def reachable_devices(session: AsyncSession, child_id: uuid.UUID) -> list[uuid.UUID]:
    """The child's devices (not revoked) that registered an FCM token."""
    query = (
        select(Device.id)
        .join(DevicePushToken, DevicePushToken.device_id == Device.id)
        .where(Device.child_id == child_id, Device.revoked_at.is_(None))
        .order_by(Device.id)
    )
    return list((await session.scalars(query)).all())


def data_message(
    data: Mapping[str, str], *, ttl_seconds: int, collapse_key: str | None = None
) -> PushMessage:
    """A silent, high-priority data message that always tells the child."""
    return PushMessage(
        title=None,
        body=None,
        data={**data, "notify_child": "true"},
        collapse_key=collapse_key,
        ttl_seconds=max(1, ttl_seconds),
        priority="high",
    )


async def to_devices(
    session: AsyncSession,
    device_ids: list[uuid.UUID],
    *,
    key: str,
    kind: str,
    message: PushMessage,
    now: datetime,
) -> int:
    """One outbox row per device (``key`` is made unique per device); how many were added."""
    notices = [
        Notice(f"{key}:{device_id}", device_id, f"device.{kind}", message)
        for device_id in device_ids
    ]
    return await outbox.enqueue_many(session, notices, now=now)


async def wake_for_policy(session: AsyncSession, child_id: uuid.UUID, *, now: datetime) -> int:
    """Tell the child's devices to fetch their screen-time policy now (it changed). Changes
    close together collapse into one message on a device that was offline."""
    devices = await reachable_devices(session, child_id)
    message = data_message(
        {"type": "sync_policy", "child_id": str(child_id)},
        ttl_seconds=POLICY_TTL_SECONDS,
        collapse_key="sync_policy",
    )
    key = f"policy:{child_id}:{uuid.uuid4()}"
    return await to_devices(session, devices, key=key, kind="sync_policy", message=message, now=now)
