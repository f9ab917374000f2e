"""A device's uploads are rate limited: past the limit, 429 with Retry-After and nothing is
stored; other devices are not affected."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.parental.factories import FamilyWorld
from tests.parental.test_locations import fix, stored_count, upload


@pytest.fixture
def parental_settings() -> ParentalSettings:
    return ParentalSettings(limit_location_uploads_per_device="3/minute")


async def test_a_device_past_its_upload_rate_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    for n in range(3):
        sent = await upload(client, family, fix(clock.now() - timedelta(minutes=n)))
        assert sent.status_code == 200, sent.text
    refused = await upload(client, family, fix(clock.now() - timedelta(minutes=10)))
    assert (refused.status_code, refused.json()["error"]) == (429, "TooManyRequests")
    assert int(refused.headers["retry-after"]) > 0
    assert await stored_count(runtime) == 3
    other = await upload(client, other_family, fix(clock.now()))
    assert other.status_code == 200, other.text
