"""Wiring conversation safety into the API: who may upload a child's messages (the child's
paired device, while monitoring applies: 403 afterwards, so nothing is collected past the
18th birthday or off a child SIM) and the keys that seal them.

The cipher is built once per set of keys: from ``message_keys`` and ``message_key_id``, or,
with none set (the embedded default), from a key derived from the service's secret. The
keyed hashes of conversation and message ids always use a key derived from the secret, so
they survive a rotation of the message keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from fastapi import APIRouter

from parental.children import service as children
from parental.children.acting import ChildDevice
from parental.children.errors import MonitoringInactive
from parental.deps import RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.db import transaction
from parental.kit.errors import TooManyRequests
from parental.kit.ratelimit import Rule
from parental.runtime import Runtime
from telemetry.conversations import service
from telemetry.conversations.crypto import MessageCipher, decode_key, derived_key
from telemetry.conversations.router import create_device_router
from telemetry.conversations.service import Labeler, Limits

LOCAL_KEY_ID = "local"


@lru_cache(maxsize=8)
def _cipher(secret: str, keys: tuple[tuple[str, str], ...], current: str | None) -> MessageCipher:
    identity = derived_key(secret, "identity")
    if not keys:
        return MessageCipher(
            {LOCAL_KEY_ID: derived_key(secret, "messages")}, LOCAL_KEY_ID, identity_key=identity
        )
    decoded = {key_id: decode_key(value) for key_id, value in keys}
    return MessageCipher(decoded, current or keys[-1][0], identity_key=identity)


def message_cipher(runtime: Runtime) -> MessageCipher:
    settings = runtime.settings
    keys = tuple(sorted((k, v.get_secret_value()) for k, v in settings.message_keys.items()))
    return _cipher(runtime.secret, keys, settings.message_key_id)


def conversation_limits(runtime: Runtime) -> Limits:
    settings = runtime.settings
    return Limits(
        max_future_skew=timedelta(seconds=settings.conversation_max_future_skew_seconds),
        retention=timedelta(days=settings.conversation_retention_days),
    )


@dataclass
class MessageUploader(ChildDevice):
    """The ``Uploader`` of ``telemetry.conversations.router``."""

    @property
    def cipher(self) -> MessageCipher:
        return message_cipher(self.runtime)

    @property
    def limits(self) -> Limits:
        return conversation_limits(self.runtime)

    @property
    def labeler(self) -> Labeler | None:
        return None


async def message_uploader(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> MessageUploader:
    """The calling device, within its upload rate (429), if monitoring applies to its child
    (403 otherwise)."""
    rule = Rule("message-upload:device", runtime.settings.limit_message_uploads_per_device)
    await runtime.limiter.hit(rule, str(device.id))
    child = await children.monitored_child(session, device.child_id, runtime.clock.now())
    return MessageUploader(session, runtime, child, device.id)


def device_messages_router() -> APIRouter:
    return create_device_router(
        uploader=message_uploader,
        caller_errors=(InvalidDeviceToken, MonitoringInactive, TooManyRequests),
    )


async def rekey_all(runtime: Runtime, *, batch: int = 500) -> int:
    """Move every message to the current key (``parental messages rekey``), a batch per
    transaction; how many were moved."""
    cipher = message_cipher(runtime)
    moved = 0
    while True:
        async with transaction(runtime.sessions) as session:
            done = await service.rekey(session, cipher, batch=batch)
        moved += done
        if done < batch:
            return moved
