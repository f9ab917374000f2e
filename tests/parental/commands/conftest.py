"""Shared by the tests of commands to the child's device: settings sending to the fake FCM
server, giving a command, registering the device agent's token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parental.settings import ParentalSettings
from tests.fakes.fcm import FakeFcm
from tests.parental.factories import FamilyWorld
from tests.parental.notifications.conftest import fcm, fcm_token, push_sender, push_settings

__all__ = ["fcm", "push_sender"]

DEVICE_TOKEN = fcm_token("child-phone")


def command_settings(fcm: FakeFcm, **overrides: Any) -> ParentalSettings:
    """Push to the fake FCM server; a guardian may listen from the start unless a test says
    otherwise (the 72-hour rule has its own test)."""
    base = push_settings(fcm).model_dump()
    return ParentalSettings(**{**base, "command_listen_guardian_min_hours": 0, **overrides})


@pytest.fixture
def parental_settings(fcm: FakeFcm) -> ParentalSettings:
    return command_settings(fcm)


async def give(
    client: httpx.AsyncClient, family: FamilyWorld, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        f"/v1/children/{family.child_id}/commands",
        headers={**family.guardian.headers, **headers},
        json=body,
    )


async def register_device_token(
    client: httpx.AsyncClient, family: FamilyWorld, token: str = DEVICE_TOKEN
) -> None:
    response = await client.put(
        "/v1/device/push-token", headers=family.device_headers, json={"token": token}
    )
    assert response.status_code == 204, response.text


async def ack(
    client: httpx.AsyncClient, family: FamilyWorld, command_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/device/commands/{command_id}/acks", headers=family.device_headers, json=body
    )
