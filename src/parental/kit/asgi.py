"""Small pieces for the ASGI fast paths that answer frequent requests without the framework's
routing and dependency injection (``filters.check.fast``, ``telemetry.locations.fast``)."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send


def header(scope: Scope, wanted: bytes) -> bytes | None:
    """The first value of a request header (``wanted`` in lower case, as ASGI gives names)."""
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


def is_json(scope: Scope) -> bool:
    kind = header(scope, b"content-type")
    return kind is not None and kind.split(b";")[0].strip().lower() == b"application/json"


def bearer(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without one."""
    value = header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, original: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then what the server says next."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


async def send_json(send: Send, content: bytes, *, status: int = 200) -> None:
    """Answer with ``content``, already JSON."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
