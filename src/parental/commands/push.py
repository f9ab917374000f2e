"""FCM messages to a child's devices, through the push outbox.

A row per device with a registered token (``account_id`` is the device's id, kind
``device.<what>``), written in the caller's transaction like every notification, so a command
and its message commit together; the dispatcher sends it to the device's token. Every message
carries ``notify_child: "true"``: the device agent always shows the child what it was told to
do (the API has no field to turn that off, and this module has no parameter for it).

A command's message depends on the platform the agent registered with its token
(``command_message``). Android: a silent high-priority data message with a short TTL, the
agent does the rest (rings on the alarm stream, shows the text...). iOS delivers a push at
once (``apns-priority: 10``) only if it shows an alert; a background push (content-available)
goes at priority 5, which iOS delays or drops as it likes, and an app woken by one may not
play a sound or start the microphone. So on iOS ``ring``, ``message`` and ``listen`` are
visible alerts in the agent's language (``ring`` with a critical sound, at full volume even on
silent), carrying the same data; ``locate_now`` and ``sync_policy`` stay background pushes.
The contract with the agent is docs/device-contract.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.devices.models import Device
from parental.i18n import DEFAULT_LOCALE, Locale, text
from parental.notifications import outbox
from parental.notifications.models import DevicePushToken
from parental.notifications.outbox import Notice, PushMessage, Sound

POLICY_TTL_SECONDS = 3600  # a device offline longer fetches the policy when it is back anyway
# The commands an iPhone gets as a visible alert, with the alert's sound (module doc).
IOS_ALERTS: dict[str, Sound] = {"ring": "critical", "message": "default", "listen": "default"}
_LOCALES: dict[str, Locale] = {locale: locale for locale in get_args(Locale)}
CHILDREN_CHUNK = 1000  # child ids per IN list, well under every driver's parameter limit


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


@dataclass(frozen=True)
class Target:
    """A device to push to, as its agent registered its token."""

    device_id: uuid.UUID
    platform: str  # android, ios
    locale: Locale


async def targets(session: AsyncSession, device_ids: Sequence[uuid.UUID]) -> list[Target]:
    """These devices, in order, with their agents' platform and language (android and the
    default language for one without a token)."""
    query = select(DevicePushToken.device_id, DevicePushToken.platform, DevicePushToken.locale)
    found = {
        device_id: (platform, locale)
        for device_id, platform, locale in await session.execute(
            query.where(DevicePushToken.device_id.in_(set(device_ids)))
        )
    }
    out: list[Target] = []
    for device_id in device_ids:
        platform, locale = found.get(device_id, ("android", None))
        out.append(Target(device_id, platform, _LOCALES.get(locale or "", DEFAULT_LOCALE)))
    return out


def command_message(data: Mapping[str, str], *, ttl_seconds: int, target: Target) -> PushMessage:
    """A command's message for one device (``data``: the command's FCM data, with its
    ``kind``): the silent data message, or on iOS the visible alert ``IOS_ALERTS`` names."""
    kind = data["kind"]
    sound = IOS_ALERTS.get(kind)
    if target.platform != "ios" or sound is None:
        return data_message(data, ttl_seconds=ttl_seconds)
    locale = target.locale
    title = text(f"device.command.{kind}.title", locale)
    if kind == "message":
        body = data["text"]  # the guardian's own words, as the agent shows them
    elif kind == "listen":
        body = text("device.command.listen.body", locale, seconds=data["seconds"])
    else:
        body = text(f"device.command.{kind}.body", locale)
    return PushMessage(
        title=title,
        body=body,
        data={**data, "notify_child": "true"},
        ttl_seconds=max(1, ttl_seconds),
        priority="high",
        sound=sound,
    )


async def command_to_devices(
    session: AsyncSession,
    device_ids: Sequence[uuid.UUID],
    *,
    key: str,
    kind: str,
    data: Mapping[str, str],
    ttl_seconds: int,
    now: datetime,
) -> int:
    """A command's message (``command_message``) to each device, one outbox row each
    (``key`` is made unique per device); how many were added."""
    notices = [
        Notice(
            f"{key}:{target.device_id}",
            target.device_id,
            f"device.{kind}",
            command_message(data, ttl_seconds=ttl_seconds, target=target),
        )
        for target in await targets(session, device_ids)
    ]
    return await outbox.enqueue_many(session, notices, now=now)


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
    return await wake_children_for_policy(session, [child_id], now=now)


async def wake_children_for_policy(
    session: AsyncSession, child_ids: Collection[uuid.UUID], *, now: datetime
) -> int:
    """``wake_for_policy`` for many children at once (one query per ``CHILDREN_CHUNK``), as
    a change of the shared app catalogue needs; how many messages were added."""
    ordered = sorted(set(child_ids))
    added = 0
    for start in range(0, len(ordered), CHILDREN_CHUNK):
        notices: list[Notice] = []
        query = (
            select(Device.id, Device.child_id)
            .join(DevicePushToken, DevicePushToken.device_id == Device.id)
            .where(
                Device.child_id.in_(ordered[start : start + CHILDREN_CHUNK]),
                Device.revoked_at.is_(None),
            )
            .order_by(Device.child_id, Device.id)
        )
        for device_id, child_id in await session.execute(query):
            message = data_message(
                {"type": "sync_policy", "child_id": str(child_id)},
                ttl_seconds=POLICY_TTL_SECONDS,
                collapse_key="sync_policy",
            )
            key = f"policy:{child_id}:{uuid.uuid4()}:{device_id}"
            notices.append(Notice(key, device_id, "device.sync_policy", message))
        added += await outbox.enqueue_many(session, notices, now=now)
    return added
