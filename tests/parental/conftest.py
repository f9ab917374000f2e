from __future__ import annotations

import httpx
import pytest

from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, build_family, carrier_headers, staff_headers


@pytest.fixture
async def carrier(runtime: Runtime) -> dict[str, str]:
    """Headers of the carrier's BSS, authenticated with a service key."""
    return await carrier_headers(runtime)


@pytest.fixture
async def staff(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    """Headers of a signed-in curator."""
    return await staff_headers(client, runtime)


@pytest.fixture
async def family(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> FamilyWorld:
    return await build_family(
        client, runtime, carrier, guardian_phone="+77011234567", line="+77071234567"
    )


@pytest.fixture
async def other_family(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str]
) -> FamilyWorld:
    return await build_family(
        client, runtime, carrier, guardian_phone="+77019876543", line="+77079876543"
    )
