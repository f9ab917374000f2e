"""The carrier's SMS gateway client against a fake gateway on a real local socket."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parental.auth.models import SignInCode
from parental.kit.clock import FrozenClock
from parental.kit.settings import KitSettings
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from parental.sms.sender import HttpSmsGateway, SmsRejected, SmsUnavailable
from tests.conftest import api_client, open_runtime

TOKEN = "gateway-token-123"
SENDER = "ChildSIM"
PHONE = "+77011234567"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class FakeGateway:
    """Speaks the gateway's protocol: records each POST, answers the next scripted status."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[int] = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1/sms"

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, then 200 again."""
        with self._lock:
            self.script.extend(statuses)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, received: Received) -> int:
        with self._lock:
            self.received.append(received)
            return self.script.popleft() if self.script else 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = gateway._record(
                    Received(
                        method="POST",
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=json.loads(raw),
                    )
                )
                if 200 <= status < 300:
                    reply: dict[str, Any] = {"status": "accepted"}
                else:
                    reply = {"error": f"scripted {status}"}
                payload = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


@pytest.fixture
def fake_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGateway]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    gateway = FakeGateway()
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
async def sms(fake_gateway: FakeGateway) -> AsyncIterator[HttpSmsGateway]:
    client = HttpSmsGateway(fake_gateway.url, token=TOKEN, sender_id=SENDER, timeout=5.0)
    yield client
    await client.close()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_success_posts_json_with_bearer_token(
    sms: HttpSmsGateway, fake_gateway: FakeGateway
) -> None:
    message = await sms.send(PHONE, "Your code: 123456")

    assert len(fake_gateway.received) == 1
    sent = fake_gateway.received[0]
    assert sent.path == "/v1/sms"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.body == {
        "to": PHONE,
        "text": "Your code: 123456",
        "sender": SENDER,
        "reference": message.reference,
    }
    assert (message.to, message.text) == (PHONE, "Your code: 123456")


async def test_every_message_has_its_own_reference(
    sms: HttpSmsGateway, fake_gateway: FakeGateway
) -> None:
    first = await sms.send(PHONE, "one")
    second = await sms.send(PHONE, "two")

    assert first.reference != second.reference
    assert [r.body["reference"] for r in fake_gateway.received] == [
        first.reference,
        second.reference,
    ]


async def test_without_a_token_no_authorization_header_is_sent(
    fake_gateway: FakeGateway,
) -> None:
    client = HttpSmsGateway(fake_gateway.url, token=None, sender_id=SENDER)
    try:
        await client.send(PHONE, "hello")
    finally:
        await client.close()

    assert "authorization" not in fake_gateway.received[0].headers


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_a_client_error_is_a_rejection_without_retry(
    sms: HttpSmsGateway, fake_gateway: FakeGateway, status: int
) -> None:
    fake_gateway.answer(status)

    with pytest.raises(SmsRejected) as raised:
        await sms.send(PHONE, "hello")

    assert raised.value.status_code == 400
    assert len(fake_gateway.received) == 1


@pytest.mark.parametrize("status", [503, 500, 429])
async def test_one_retry_after_a_server_error(
    sms: HttpSmsGateway, fake_gateway: FakeGateway, status: int
) -> None:
    fake_gateway.answer(status, 200)

    message = await sms.send(PHONE, "hello")

    assert len(fake_gateway.received) == 2
    # The retry is the same message: the gateway can tell it apart from a second SMS.
    assert [r.body["reference"] for r in fake_gateway.received] == [message.reference] * 2


async def test_two_server_errors_make_the_gateway_unavailable(
    sms: HttpSmsGateway, fake_gateway: FakeGateway
) -> None:
    fake_gateway.answer(503, 503)

    with pytest.raises(SmsUnavailable) as raised:
        await sms.send(PHONE, "hello")

    assert raised.value.status_code == 503
    assert len(fake_gateway.received) == 2


async def test_a_refused_connection_makes_the_gateway_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    client = HttpSmsGateway(
        f"http://127.0.0.1:{_closed_port()}/v1/sms", token=TOKEN, sender_id=SENDER, timeout=2.0
    )
    try:
        with pytest.raises(SmsUnavailable):
            await client.send(PHONE, "hello")
    finally:
        await client.close()


# End to end: the API signing a parent in through the gateway.


@pytest.fixture
async def gateway_runtime(
    kit_settings: KitSettings,
    parental_settings: ParentalSettings,
    clock: FrozenClock,
    fake_gateway: FakeGateway,
) -> AsyncIterator[Runtime]:
    gateway = HttpSmsGateway(fake_gateway.url, token=TOKEN, sender_id=SENDER, timeout=5.0)
    async with open_runtime(kit_settings, parental_settings, clock, gateway) as rt:
        yield rt


@pytest.fixture
async def gateway_client(gateway_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(gateway_runtime) as c:
        yield c


def _code_in(text: str, digits: int) -> str:
    found = re.search(rf"\b\d{{{digits}}}\b", text)
    assert found is not None, text
    return found.group()


async def _stored_codes(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        count: int = await session.scalar(select(func.count()).select_from(SignInCode)) or 0
    return count


async def test_sign_in_code_travels_through_the_gateway(
    gateway_client: httpx.AsyncClient, gateway_runtime: Runtime, fake_gateway: FakeGateway
) -> None:
    sent = await gateway_client.post(
        "/v1/auth/sign-in-codes", json={"phone": "+7 701 123 45 67", "locale": "en"}
    )

    assert sent.status_code == 202, sent.text
    assert len(fake_gateway.received) == 1
    sms = fake_gateway.received[0]
    assert sms.headers["authorization"] == f"Bearer {TOKEN}"
    assert sms.body["to"] == PHONE
    assert sms.body["sender"] == SENDER
    code = _code_in(sms.body["text"], gateway_runtime.settings.sign_in_code_digits)
    assert len(code) == 6
    signed_in = await gateway_client.post("/v1/auth/tokens", json={"phone": PHONE, "code": code})
    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["token_type"] == "bearer"


@pytest.mark.parametrize(
    ("statuses", "api_status", "error"),
    [
        pytest.param((503, 503), 503, "SmsUnavailable", id="unavailable"),
        pytest.param((400,), 400, "SmsRejected", id="rejected"),
    ],
)
async def test_a_failed_sms_stores_no_code(
    gateway_client: httpx.AsyncClient,
    gateway_runtime: Runtime,
    fake_gateway: FakeGateway,
    statuses: tuple[int, ...],
    api_status: int,
    error: str,
) -> None:
    fake_gateway.answer(*statuses)

    sent = await gateway_client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})

    assert sent.status_code == api_status, sent.text
    assert sent.json()["error"] == error
    assert len(fake_gateway.received) == len(statuses)
    assert await _stored_codes(gateway_runtime) == 0
    # The gateway saw the code although it did not deliver it; that code must not sign in.
    leaked = _code_in(fake_gateway.received[-1].body["text"], 6)
    attempt = await gateway_client.post("/v1/auth/tokens", json={"phone": PHONE, "code": leaked})
    assert attempt.status_code == 400, attempt.text
    assert attempt.json()["error"] == "InvalidSignInCode"


async def test_a_failed_sms_keeps_the_previous_code_working(
    gateway_client: httpx.AsyncClient, gateway_runtime: Runtime, fake_gateway: FakeGateway
) -> None:
    first = await gateway_client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})
    assert first.status_code == 202, first.text
    code = _code_in(fake_gateway.received[0].body["text"], 6)
    fake_gateway.answer(503, 503)

    failed = await gateway_client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})

    assert failed.status_code == 503
    # The failed request's "close earlier codes" was rolled back with the rest of it.
    assert await _stored_codes(gateway_runtime) == 1
    signed_in = await gateway_client.post("/v1/auth/tokens", json={"phone": PHONE, "code": code})
    assert signed_in.status_code == 201, signed_in.text
