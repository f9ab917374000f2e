"""Request ids (issue 9): taken from a well-formed ``X-Request-ID`` or made, sent back, on
every JSON log line written for the request, stored with the outbox rows it wrote and
logged with their push sends. And the log's safety nets: phone numbers masked, coordinates
and message texts dropped, whatever a caller wrote."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select

from parental.kit import logs
from parental.kit.db import transaction
from parental.notifications.dispatcher import dispatch_round
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import FamilyWorld
from tests.parental.notifications.conftest import (
    add_phone,
    fcm_token,
    fixed_token_sender,
    push_settings,
)


@pytest.fixture
def fcm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFcm]:
    """The fake FCM server, straight (as in tests/parental/notifications/conftest.py)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with FakeFcm().running() as server:
        yield server


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return push_settings(fcm)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The root logger's records, rendered by the production formatter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_well_formed_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "edge-7:4f2a.b_9"})
    assert response.headers["x-request-id"] == "edge-7:4f2a.b_9"


async def test_an_id_is_made_when_none_comes(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert first
    assert second
    assert first != second


@pytest.mark.parametrize(
    "given",
    ["has spaces in it", "+77071234567", "x" * 65, '"quoted"', "-leading-dash", "ключ"],
)
async def test_a_malformed_id_is_replaced(client: httpx.AsyncClient, given: str) -> None:
    response = await client.get("/healthz", headers=[(b"X-Request-ID", given.encode())])
    made = response.headers["x-request-id"]
    assert made
    assert made != given


async def test_a_fast_path_answer_carries_an_id_too(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    response = await client.post(
        "/v1/device/locations",
        headers={**family.device_headers, "X-Request-ID": "upload-1"},
        json={"fixes": []},
    )
    assert response.headers["x-request-id"] == "upload-1"


async def test_the_requests_log_lines_carry_its_id_as_json(
    client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    response = await client.post(
        "/v1/auth/sign-in-codes",
        json={"phone": "+77015550177"},
        headers={"X-Request-ID": "sign-in-1"},
    )
    assert response.status_code == 202, response.text

    lines = parsed(log_lines)
    [sms] = [line for line in lines if line["logger"] == "parental.sms.sender"]
    assert sms["request_id"] == "sign-in-1"
    assert sms["level"] == "warning"
    assert sms["timestamp"].endswith("Z")
    assert "+7********77" in sms["event"]
    assert "+77015550177" not in log_lines.getvalue()
    # Outside a request, no id.
    logging.getLogger("tests.outside").warning("between requests")
    [outside] = [line for line in parsed(log_lines) if line["logger"] == "tests.outside"]
    assert "request_id" not in outside


async def test_the_outbox_row_and_its_push_send_carry_the_requests_id(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    fcm: FakeFcm,
    log_lines: io.StringIO,
) -> None:
    runtime.push = fixed_token_sender(runtime.settings)
    await add_phone(client, family.guardian, fcm_token("parent"))
    pressed: datetime = runtime.clock.now()
    sos = await client.post(
        "/v1/device/alarms",
        headers={**family.device_headers, "X-Request-ID": "sos-42"},
        json={"kind": "sos", "pressed_at": pressed.isoformat()},
    )
    assert sos.status_code == 201, sos.text
    async with transaction(runtime.sessions) as session:
        [row] = (
            await session.scalars(select(PushOutboxRow).where(PushOutboxRow.kind == "alarm.sos"))
        ).all()
    assert row.request_id == "sos-42"

    report = await dispatch_round(runtime)  # the worker's round: no request of its own

    assert report.sent == 1
    sends = [
        line
        for line in parsed(log_lines)
        if line["logger"] == "parental.notifications.dispatcher" and str(row.id) in line["event"]
    ]
    assert [(line["event"].split(": ")[-1], line["request_id"]) for line in sends] == [
        ("sent", "sos-42")
    ]


def test_phone_numbers_are_masked_and_places_and_texts_dropped() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "line %s asked, path /carrier/v1/lines/%%2B77071234567",
            "+77071234567",
            extra={"latitude": 43.2, "longitude": 76.9, "text": "hi", "peer": "+77011234567"},
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [line] = parsed(stream)
    assert line["event"] == "line +7********67 asked, path /carrier/v1/lines/+7********67"
    assert line["peer"] == "+7********67"
    assert {"latitude", "longitude", "text"}.isdisjoint(line)
    assert "7071234567" not in stream.getvalue()


def test_configure_renders_every_record_as_one_json_line() -> None:
    """What `parental serve`, `worker` and `dns` install: stdlib records (uvicorn's among
    them) and structlog's own loggers alike, one JSON object a line."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure("INFO", "json", stream, force=True)
    try:
        logging.getLogger("uvicorn.error").info(
            "started for %s", "+77071234567", extra={"color_message": "\x1b[32mstarted\x1b[0m"}
        )
        structlog.get_logger("tests.native").warning("native", peer="+77071234567", n=3)
    finally:
        for handler in [h for h in root.handlers if isinstance(h, logs._Handler)]:
            root.removeHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()
    stdlib, native = parsed(stream)
    assert stdlib["logger"] == "uvicorn.error"
    assert stdlib["event"] == "started for +7********67"
    assert {"color_message", "message"}.isdisjoint(stdlib)
    assert (native["logger"], native["event"], native["peer"], native["n"]) == (
        "tests.native",
        "native",
        "+7********67",
        3,
    )
