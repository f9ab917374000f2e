from __future__ import annotations

import httpx
import pytest

from parental.runtime import Runtime
from tests.console.helpers import Enrolled, create_staff, sign_in


@pytest.fixture
async def curator(runtime: Runtime) -> Enrolled:
    """A curator with a second factor enrolled (not signed in)."""
    enrolled = await create_staff(runtime)
    assert enrolled is not None
    return enrolled


@pytest.fixture
async def console(client: httpx.AsyncClient, runtime: Runtime, curator: Enrolled) -> str:
    """``client`` signed in to the console as ``curator``; the session's CSRF token."""
    return await sign_in(client, runtime, curator)
