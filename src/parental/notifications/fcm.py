"""Talking to Firebase Cloud Messaging through the firebase-admin SDK (HTTP v1).

``build_message`` turns an outbox row's message and one phone's token into the SDK's
``Message``: title and body, string data, and for each platform how FCM should treat it
(Android priority, TTL and collapse key; APNs priority "10" for a visible alert or "5" for a
silent data message, push type, expiration as a Unix time, collapse id; an alert's sound,
critical or not). The message's life counts from when its outbox row became due
(``Claimed.due_at``: the end of a quiet-hours hold, or its writing), so a held notice is sent
with its whole TTL; the TTL sent is what is left of that life, so a retry never extends it, and
the APNs expiration is that due time plus the TTL.

``PushSender`` owns one firebase App per event loop (the SDK's async httpx client is bound to
the loop that first used it) and sends with ``send_each_async``, which never raises for one
message: each ``SendResponse`` carries the SDK's exception (``UnregisteredError``,
``QuotaExceededError`` with the HTTP response, ``UnavailableError`` for a refused
connection...). The dispatcher decides what each means.

SDK internals used, pinned by ``firebase-admin>=7.7,<8``: the messaging service's ``_fcm_url``
(set per App from ``fcm_url`` instead of the class-wide ``_MessagingService.FCM_URL``) and its
``_async_client``, replaced by one whose retry (500 and 503 only, ``fcm_http_retries`` times,
``fcm_http_backoff_factor``) we choose: the dispatcher has its own schedule.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import firebase_admin
from firebase_admin import _http_client, messaging
from firebase_admin import credentials as firebase_credentials
from firebase_admin._retry import HttpxRetry
from google.auth.credentials import Credentials as GoogleCredentials

from parental.notifications.outbox import PushMessage
from parental.settings import ParentalSettings

log = logging.getLogger(__name__)

FCM_BATCH_LIMIT = 500  # send_each_async refuses more
GOOGLE_FCM = "https://fcm.googleapis.com"


def build_message(message: PushMessage, token: str, *, due_at: datetime, now: datetime) -> Any:
    """The SDK message for one phone (``None`` if the message's life, from ``due_at``, is
    already over)."""
    elapsed = int((now - due_at).total_seconds())
    ttl = message.ttl_seconds - max(0, elapsed)
    if ttl <= 0:
        return None
    alert = message.title is not None
    expires = int(due_at.timestamp()) + message.ttl_seconds
    apns_headers = {
        # Apple: an alert may wake the phone at once ("10"); a silent push must be "5".
        "apns-priority": "10" if alert and message.priority == "high" else "5",
        "apns-push-type": "alert" if alert else "background",
        "apns-expiration": str(expires),
    }
    if message.collapse_key:
        apns_headers["apns-collapse-id"] = message.collapse_key[:64]
    with warnings.catch_warnings():
        # firebase-admin 7.7 deprecates ``token`` for Firebase installation ids (``fid``); FCM
        # still takes registration tokens, which is what the apps register.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _message(message, token, ttl=ttl, apns_headers=apns_headers, alert=alert)


def _message(
    message: PushMessage, token: str, *, ttl: int, apns_headers: dict[str, str], alert: bool
) -> Any:
    return messaging.Message(
        token=token,
        notification=(
            messaging.Notification(title=message.title, body=message.body) if alert else None
        ),
        data=dict(message.data) or None,
        android=messaging.AndroidConfig(
            priority=message.priority, ttl=ttl, collapse_key=message.collapse_key
        ),
        apns=messaging.APNSConfig(headers=apns_headers, payload=_apns_payload(message, alert)),
    )


def _apns_payload(message: PushMessage, alert: bool) -> Any:
    if not alert:
        # A data message wakes the iOS app in the background instead of showing anything.
        return messaging.APNSPayload(aps=messaging.Aps(content_available=True))
    if message.sound == "critical":
        # Plays at full volume even on silent and Do Not Disturb (Apple's entitlement).
        sound = messaging.CriticalSound("default", critical=True, volume=1.0)
        return messaging.APNSPayload(aps=messaging.Aps(sound=sound))
    if message.sound == "default":
        return messaging.APNSPayload(aps=messaging.Aps(sound="default"))
    return None


class _GoogleCredential(firebase_credentials.Base):  # type: ignore[misc]
    """A google-auth credential given as it is (tests, a relay with its own token)."""

    def __init__(self, credential: GoogleCredentials) -> None:
        self._credential = credential

    def get_credential(self) -> GoogleCredentials:
        return self._credential


class PushSender:
    """Sends messages through FCM; ``enabled`` is false without a project id."""

    def __init__(
        self, settings: ParentalSettings, *, credential: GoogleCredentials | None = None
    ) -> None:
        self._settings = settings
        self._credential = credential
        self._apps: dict[int, tuple[asyncio.AbstractEventLoop, Any]] = {}
        self._told_disabled = False
        # Names this process's claims in the outbox (several dispatchers may run at once).
        self.worker_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # FCM's quota ran out: nothing is sent before then (``notifications.pause``).
        self.paused_until: datetime | None = None

    @property
    def enabled(self) -> bool:
        return bool(self._settings.fcm_project_id)

    def tell_disabled(self) -> None:
        """Log once that push is off (rows wait in the outbox)."""
        if not self._told_disabled:
            self._told_disabled = True
            log.warning("push notifications are off (no PARENTAL_FCM_PROJECT_ID); they wait")

    @property
    def url(self) -> str:
        base = (self._settings.fcm_url or GOOGLE_FCM).rstrip("/")
        return f"{base}/v1/projects/{self._settings.fcm_project_id}/messages:send"

    def _firebase_credential(self) -> Any:
        if self._credential is not None:
            return _GoogleCredential(self._credential)
        if self._settings.fcm_credentials_file is not None:
            return firebase_credentials.Certificate(str(self._settings.fcm_credentials_file))
        return firebase_credentials.ApplicationDefault()

    async def _service(self) -> Any:
        loop = asyncio.get_running_loop()
        found = self._apps.get(id(loop))
        if found is not None and found[0] is loop:
            return messaging._get_messaging_service(found[1])
        app = firebase_admin.initialize_app(
            self._firebase_credential(),
            {
                "projectId": self._settings.fcm_project_id,
                "httpTimeout": self._settings.fcm_timeout_seconds,
            },
            name=f"parental-push-{uuid.uuid4().hex}",
        )
        self._apps[id(loop)] = (loop, app)
        service = messaging._get_messaging_service(app)
        service._fcm_url = self.url
        sdk_client = service._async_client
        service._async_client = _http_client.HttpxAsyncClient(
            credential=service._credential,
            timeout=self._settings.fcm_timeout_seconds,
            retry_config=HttpxRetry(
                max_retries=self._settings.fcm_http_retries,
                status_forcelist=[500, 503],
                backoff_factor=self._settings.fcm_http_backoff_factor,
            ),
        )
        await sdk_client.async_client.aclose()
        return service

    async def prepare(self) -> None:
        """Make this loop's App now: bad credentials fail here, before rows are claimed."""
        await self._service()

    async def send(self, messages: Sequence[Any]) -> list[Any]:
        """One ``SendResponse`` per message, in order (sent in chunks FCM accepts)."""
        service = await self._service()
        responses: list[Any] = []
        for start in range(0, len(messages), FCM_BATCH_LIMIT):
            chunk = list(messages[start : start + FCM_BATCH_LIMIT])
            batch = await service.send_each_async(chunk, dry_run=False)
            responses.extend(batch.responses)
        return responses

    async def close(self) -> None:
        """Close this loop's HTTP clients and delete every App this sender made."""
        loop = asyncio.get_running_loop()
        for key, (owner, app) in list(self._apps.items()):
            service = messaging._get_messaging_service(app)
            if owner is loop:
                await service._async_client.async_client.aclose()
            service._client.close()
            # The SDK's close() runs asyncio.run(), which fails inside a running loop.
            service.close = lambda: None
            firebase_admin.delete_app(app)
            del self._apps[key]
