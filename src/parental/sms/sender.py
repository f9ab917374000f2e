"""SMS senders.

``LogSmsSender`` is the embedded default (refused in production): it prints each text to the
process's standard error, keeps the last few in memory, and tells the log only that a message
for a masked number was kept, so a developer can sign in without a gateway while no code or full
number ever reaches the logging system (and whatever ships its records elsewhere).
``HttpSmsGateway`` posts JSON to the carrier's gateway::

    POST {url}   Authorization: Bearer {token}
    {"to": "+77011234567", "text": "...", "sender": "ChildSIM", "reference": "<uuid>"}

2xx is accepted; 4xx means the gateway refuses this number or text; 429 and 5xx are retried
once and then reported as unavailable.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import httpx

from parental.kit.errors import BadRequest, ServiceUnavailable
from parental.kit.phone import mask

log = logging.getLogger(__name__)


class SmsUnavailable(ServiceUnavailable):
    message = "The SMS gateway is unavailable; try again shortly."


class SmsRejected(BadRequest):
    message = "The SMS gateway refused to deliver to this number."


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    reference: str


class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> SmsMessage: ...
    async def close(self) -> None: ...


class LogSmsSender:
    """Development sink: prints every message to standard error (unless ``echo`` is false),
    keeps the last ``keep`` for inspection."""

    def __init__(self, keep: int = 100, *, echo: bool = True) -> None:
        self.sent: deque[SmsMessage] = deque(maxlen=keep)
        self._echo = echo

    async def send(self, to: str, text: str) -> SmsMessage:
        message = SmsMessage(to=to, text=text, reference=str(uuid.uuid4()))
        self.sent.append(message)
        if self._echo:  # not through logging: its handlers may ship records off the machine
            sys.stderr.write(f"development SMS sink (not sent) to {to}: {text}\n")
            sys.stderr.flush()
        log.warning("development SMS sink kept message %s for %s", message.reference, mask(to))
        return message

    def last_to(self, phone: str) -> SmsMessage | None:
        for message in reversed(self.sent):
            if message.to == phone:
                return message
        return None

    async def close(self) -> None:
        return None


class HttpSmsGateway:
    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        sender_id: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._url = url
        self._sender_id = sender_id
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout, transport=transport)

    async def send(self, to: str, text: str) -> SmsMessage:
        message = SmsMessage(to=to, text=text, reference=str(uuid.uuid4()))
        payload = {
            "to": to,
            "text": text,
            "sender": self._sender_id,
            "reference": message.reference,
        }
        last_problem = ""
        for _attempt in range(2):
            try:
                response = await self._client.post(self._url, json=payload)
            except httpx.HTTPError as exc:
                last_problem = type(exc).__name__
                continue
            if response.is_success:
                log.info("SMS %s accepted by gateway for %s", message.reference, mask(to))
                return message
            if response.status_code == 429 or response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                continue
            log.warning("SMS gateway refused %s: HTTP %s", mask(to), response.status_code)
            raise SmsRejected()
        log.error("SMS gateway unavailable for %s: %s", mask(to), last_problem)
        raise SmsUnavailable()

    async def close(self) -> None:
        await self._client.aclose()
