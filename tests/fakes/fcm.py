"""A local Firebase Cloud Messaging server (HTTP v1) for tests: the real firebase-admin SDK
sends to it, and it records exactly what arrived.

``POST /v1/projects/{project}/messages:send`` answers ``{"name": "projects/<p>/messages/<n>"}``
unless answers were scripted for the message's token (``script``): each is used once, in
order, then success again. Errors are Google JSON errors carrying the
``type.googleapis.com/google.firebase.fcm.v1.FcmError`` detail the SDK maps to its exception
classes. ``POST /token`` grants an access token to any service account (``token_uri``).
``hold()`` keeps every answer back (the request is recorded first) until
``release()``: a test can kill a dispatcher while FCM has its batch.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
TOKEN_PATH = "/token"  # a service account's token_uri may point here
GRANTED = "granted-access-token"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def google_error(
    status: int,
    canonical: str,
    fcm_code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    extra_details: list[dict[str, Any]] | None = None,
) -> Answer:
    details: list[dict[str, Any]] = [{"@type": FCM_ERROR, "errorCode": fcm_code}]
    details += extra_details or []
    body = {"error": {"code": status, "message": message, "status": canonical, "details": details}}
    return Answer(status, body, headers or {})


def unregistered() -> Answer:
    return google_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")


def invalid_token() -> Answer:
    return google_error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": "message.token", "description": "Invalid registration token"}
                ],
            }
        ],
    )


def invalid_message() -> Answer:
    return google_error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "Request contains an invalid argument.",
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.android.ttl", "description": "Invalid"}],
            }
        ],
    )


def quota_exceeded(retry_after: int) -> Answer:
    return google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "QUOTA_EXCEEDED",
        "Sending limit exceeded.",
        headers={"Retry-After": str(retry_after)},
    )


def unavailable() -> Answer:
    return google_error(503, "UNAVAILABLE", "UNAVAILABLE", "The service is unavailable.")


@dataclass(frozen=True)
class Received:
    project: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]
    # When the request arrived (``time.perf_counter()`` of this process): latency benchmarks.
    arrived_at: float = field(default_factory=time.perf_counter)

    @property
    def token(self) -> str:
        return str(self.body["message"]["token"])


class FakeFcm:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.token_requests: list[str] = []  # OAuth2 token grants (a service account's JWT)
        self._scripts: dict[str, list[Answer]] = {}
        self._lock = threading.Condition()
        self._gate = threading.Event()
        self._gate.set()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, token: str, *answers: Answer) -> None:
        """Answer the next messages to ``token`` with these, in order."""
        with self._lock:
            self._scripts.setdefault(token, []).extend(answers)

    def to(self, token: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.token == token]

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` requests have arrived (call through ``asyncio.to_thread``)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.received) >= count, timeout)

    def _grant(self, form: str) -> Answer:
        with self._lock:
            self.token_requests.append(form)
        return Answer(200, {"access_token": GRANTED, "expires_in": 3600, "token_type": "Bearer"})

    def _answer(self, project: str, headers: dict[str, str], body: dict[str, Any]) -> Answer:
        received = Received(project, headers, body)
        with self._lock:
            self.received.append(received)
            self._lock.notify_all()
            script = self._scripts.get(received.token)
            answer = script.pop(0) if script else None
        self._gate.wait(timeout=30)
        if answer is None:
            answer = Answer(200, {"name": f"projects/{project}/messages/{next(self._ids)}"})
        return answer

    @contextmanager
    def running(self, port: int = 0) -> Iterator[FakeFcm]:
        """Serve on ``port`` (0: any free one) until the block ends; again on the same port
        after a stop, for a test that takes FCM away and brings it back."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                match = PATH.match(self.path)
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self.path == TOKEN_PATH:
                    answer = fake._grant(raw.decode())
                elif match is None:
                    answer = Answer(404, {"error": {"code": 404, "status": "NOT_FOUND"}})
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    answer = fake._answer(match["project"], headers, json.loads(raw))
                payload = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that went away mid-answer (the killed dispatcher)

        self._server = Server(("127.0.0.1", port), Handler)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), daemon=True
        )
        self._thread.start()
        try:
            yield self
        finally:
            self.release()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
