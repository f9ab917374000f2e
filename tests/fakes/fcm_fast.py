"""A fast local FCM server (HTTP v1) for benchmarks, run in a process of its own.

``tests.fakes.fcm.FakeFcm`` records every request and can script errors, but it answers from a
thread per connection under one GIL: a few thousand requests a second at best, less than the
SDK sends, so it would measure itself. This one is a bare ASGI application under uvicorn (its
httptools parser, uvloop, no framework): it checks each request as FCM would (the path, a
bearer token, a JSON body with ``message.token``) and answers success (``{"name": ...}``) or a
Google JSON error (400 ``INVALID_ARGUMENT``, 401, 404), and counts what it answered.

``GET /stats`` gives the count and the process's CPU seconds, so a benchmark can check that
every message arrived and how much of a core the server needed for them (its ceiling).

Run: ``python -m tests.fakes.fcm_fast --port 8765`` or ``running_fast_fcm()`` from Python.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.fcm import PATH, Answer, google_error

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

ROOT = Path(__file__).resolve().parents[2]
JSON_HEADERS = [(b"content-type", b"application/json; charset=UTF-8")]
MAX_BODY = 64 * 1024  # FCM's own limit on a message is 4 KiB of payload; this is generous


class FastFcm:
    """The ASGI application: FCM's send endpoint and ``/stats``."""

    def __init__(self) -> None:
        self.answered = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # uvicorn runs it with lifespan="off"
            return
        path: str = scope["path"]
        if scope["method"] == "GET" and path == "/stats":
            stats = {
                "answered": self.answered,
                "refused": self.refused,
                "cpu_seconds": time.process_time(),
            }
            await _reply(send, Answer(200, stats))
            return
        match = PATH.match(path)
        if scope["method"] != "POST" or match is None:
            await _reply(send, Answer(404, {"error": {"code": 404, "status": "NOT_FOUND"}}))
            return
        body = await _body(receive)
        answer = self._answer(match["project"], dict(scope["headers"]), body)
        if answer.status == 200:
            self.answered += 1
        else:
            self.refused += 1
        await _reply(send, answer)

    def _answer(self, project: str, headers: dict[bytes, bytes], body: bytes | None) -> Answer:
        if not headers.get(b"authorization", b"").startswith(b"Bearer "):
            return google_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "No token.")
        try:
            message = json.loads(body)["message"] if body is not None else None
        except (ValueError, KeyError, TypeError):
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("token"), str):
            return google_error(
                400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Request contains an invalid argument."
            )
        return Answer(200, {"name": f"projects/{project}/messages/{self.answered + 1}"})


async def _body(receive: Receive) -> bytes | None:
    """The request body, or None when it is larger than ``MAX_BODY``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not event.get("more_body", False):
            return b"".join(chunks)


async def _reply(send: Send, answer: Answer) -> None:
    payload = json.dumps(answer.body).encode()
    headers = [*JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_fast_fcm(*, cores: str | None = None, start_timeout: float = 30.0) -> Iterator[str]:
    """Start the server in a child process (pinned to ``cores`` with taskset if given) and
    yield its base URL; stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.fcm_fast", "--port", str(port)]
    if cores is not None:
        command = ["taskset", "-c", cores, *command]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own interpreter
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fast FCM fake did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    uvicorn.run(
        FastFcm(),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
