"""Wiring conversation safety into the API: who may upload a child's messages (the child's
paired device, while monitoring applies: 403 afterwards, so nothing is collected past the
18th birthday or off a child SIM), who reads what of them (the child's guardians, by the
child's age band, the carrier's age policy (``parental.age_policy``): whole conversations
while the child is younger than ``transcripts_under_age``, alerts with excerpts while younger
than ``excerpts_under_age`` (at most 18), nothing after (403 ``MessagesNotForThisAge``, and
the device's uploads are refused the same way); every read in the audit log
the child's device shows, and the device is told the mode), and the keys that seal them.

An upload is classified with the curators' lexicon in force; risky messages raise alerts
(grouped per conversation and label, under a lock on the child's row), which become the
guardians' notifications in the upload's transaction: one per conversation and upload, at most
``message_alert_notices_per_hour`` an hour per child, the rest gathered every
``message_alert_gather_minutes`` (``telemetry.conversations.notices``).

Both ends also need the messages consent (``parental.consent``): the guardian's, and the
child's own from ``child_consent_age``. Without it an upload is refused (403
``ConsentRequired``, nothing stored), guardians read no alert, excerpt or transcript, and the
device's mode is ``off``.

The cipher is built once per set of keys: from ``message_keys`` and ``message_key_id``, or,
with none set (the embedded default), from a key derived from the service's secret. The
keyed hashes of conversation and message ids always use a key derived from the secret, so
they survive a rotation of the message keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from fastapi import APIRouter
from sqlalchemy import select

from parental.age_policy import service as age_policy
from parental.age_policy.policy import AgePolicy
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children_repository
from parental.children import service as children
from parental.children.acting import ChildDevice, ChildGuardian
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.children.models import Child
from parental.children.monitoring import local_today
from parental.consent import service as consent
from parental.consent.errors import ConsentRequired
from parental.consent.models import Purpose
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.db import transaction
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.events import Event
from parental.kit.ratelimit import Rule
from parental.runtime import Runtime
from telemetry.conversations import alerts, service
from telemetry.conversations.classify import Classifier
from telemetry.conversations.crypto import MessageCipher, decode_key, derived_key
from telemetry.conversations.errors import MessagesNotForThisAge
from telemetry.conversations.lexicons import in_force
from telemetry.conversations.notices import NoticePolicy
from telemetry.conversations.reading import birthday, mode_for
from telemetry.conversations.router import create_device_router, create_guardian_router
from telemetry.conversations.schemas import DeviceMessagesModeRead, MessagesMode
from telemetry.conversations.service import Limits

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

    classifier: Classifier | None = None

    @property
    def alert_window(self) -> timedelta:
        return timedelta(minutes=self.runtime.settings.message_alert_group_minutes)

    @property
    def notice_policy(self) -> NoticePolicy:
        settings = self.runtime.settings
        return NoticePolicy(
            per_hour=settings.message_alert_notices_per_hour,
            gather=timedelta(minutes=settings.message_alert_gather_minutes),
        )

    async def serialise(self) -> None:
        # The child's row, as other counts per child are taken (SQLite: one writer at a time).
        await self.session.execute(
            select(Child.id).where(Child.id == self.child_id).with_for_update()
        )

    async def announce(self, events: Sequence[Event]) -> None:
        await self.commit_and_tell(events)


async def message_uploader(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> MessageUploader:
    """The calling device, within its upload rate (429), if monitoring applies to its child
    and the messages consent is in force, the child's own too from its age (403 otherwise)."""
    rule = Rule("message-upload:device", runtime.settings.limit_message_uploads_per_device)
    await runtime.limiter.hit(rule, str(device.id))
    now = runtime.clock.now()
    child = await children.monitored_child(session, device.child_id, now)
    await consent.require(session, runtime.settings, child, Purpose.MESSAGES, now)
    policy = await age_policy.current(session, runtime.settings)
    if messages_mode(runtime, policy, child, active=True) is MessagesMode.OFF:
        raise MessagesNotForThisAge()  # nobody may see them: none are collected
    # The curators' lexicon in force (the packaged one until they publish their own).
    return MessageUploader(session, runtime, child, device.id, await in_force(session))


def messages_mode(
    runtime: Runtime, policy: AgePolicy, child: Child, *, active: bool
) -> MessagesMode:
    """What the guardians may see of the child's messages today, by the carrier's bands."""
    return mode_for(
        child.birthdate,
        local_today(runtime.clock.now(), child.timezone),
        transcripts_under_age=policy.transcripts_under_age,
        excerpts_under_age=policy.excerpts_under_age,
        active=active,
    )


@dataclass
class GuardianViewer(ChildGuardian):
    """The ``Viewer`` of ``telemetry.conversations.router``."""

    policy: AgePolicy

    @property
    def cipher(self) -> MessageCipher:
        return message_cipher(self.runtime)

    @property
    def mode(self) -> MessagesMode:
        return messages_mode(self.runtime, self.policy, self.child, active=True)


async def guardian_viewer(
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> GuardianViewer:
    """A guardian of the child in the path (404 otherwise), while monitoring applies (410
    ``MonitoringEndedAdult`` from 18, 403 ``MonitoringInactive`` off a child SIM: asked first,
    as the final answer) and the messages consent is in force (403 ``ConsentRequired``),
    before anything is read."""
    now = runtime.clock.now()
    children.require_monitoring(await children.monitoring_of(session, child, now))
    await consent.require(session, runtime.settings, child, Purpose.MESSAGES, now)
    policy = await age_policy.current(session, runtime.settings)
    viewer = GuardianViewer(session, runtime, child, account, ip, policy)
    if viewer.mode is MessagesMode.OFF:  # the carrier's band: 403 ``MessagesNotForThisAge``
        raise MessagesNotForThisAge()
    return viewer


def child_messages_router() -> APIRouter:
    return create_guardian_router(
        viewer=guardian_viewer,
        caller_errors=(
            InvalidAccessToken,
            ChildNotFound,
            MonitoringInactive,
            ConsentRequired,
            MessagesNotForThisAge,
        ),
    )


def device_messages_router() -> APIRouter:
    return create_device_router(
        uploader=message_uploader,
        caller_errors=(
            InvalidDeviceToken,
            MonitoringInactive,
            ConsentRequired,
            MessagesNotForThisAge,
            TooManyRequests,
        ),
    )


@dataclass(frozen=True)
class Rekeyed:
    messages: int
    alerts: int


async def rekey_all(runtime: Runtime, *, batch: int = 500) -> Rekeyed:
    """Move every message and every alert's excerpt to the current key (``parental messages
    rekey``), a batch per transaction; how many of each were moved. Only then may the old
    key be removed: an excerpt left under it can no longer be opened."""
    cipher = message_cipher(runtime)
    moved = {"messages": 0, "alerts": 0}
    for kind, rekey in (("messages", service.rekey), ("alerts", alerts.rekey)):
        while True:
            async with transaction(runtime.sessions) as session:
                done = await rekey(session, cipher, batch=batch)
            moved[kind] += done
            if done < batch:
                break
    return Rekeyed(**moved)


device_mode_router = APIRouter(tags=["device agent"])


@device_mode_router.get("/device/messages/mode", responses=error_responses(InvalidDeviceToken))
async def get_device_messages_mode(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> DeviceMessagesModeRead:
    """What the child's guardians may see of the child's messages now (the device shows it):
    whole conversations, alerts with excerpts, or nothing (also without the consents it
    needs, or past the carrier's bands: then the device uploads none); and until when.
    Decided at each read, so a change of the carrier's bands shows on the next one."""
    child = await children_repository.get(session, device.child_id)
    assert child is not None
    now = runtime.clock.now()
    status = await children.monitoring_of(session, child, now)
    state = await consent.of_purpose(session, runtime.settings, child, Purpose.MESSAGES, now)
    policy = await age_policy.current(session, runtime.settings)
    band_end = birthday(child.birthdate, policy.transcripts_under_age)
    mode = messages_mode(runtime, policy, child, active=status.active and state.effective)
    return DeviceMessagesModeRead(
        mode=mode,
        transcripts_until=band_end if mode is MessagesMode.TRANSCRIPTS else None,
        alerts_until=min(status.ends_on, birthday(child.birthdate, policy.excerpts_under_age)),
    )
