from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, build_family, carrier_headers


@pytest.fixture
def clock() -> FrozenClock:
    """Now: the server under test runs on the real clock, so the seeded tokens must be fresh."""
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def carrier(runtime: Runtime) -> dict[str, str]:
    """Headers of the carrier's BSS, authenticated with a service key."""
    return await carrier_headers(runtime)


@pytest.fixture
async def family(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> FamilyWorld:
    """A guardian with a family, a child on a registered line and a paired device."""
    return await build_family(
        client, runtime, carrier, guardian_phone="+77011234567", line="+77071234567"
    )
