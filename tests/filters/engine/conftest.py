"""The engine's tests run on both implementations: the native extension and pure Python.

Modules that exercise code with a native path (parsing, compiling, matching) use the
``implementation`` fixture, so each of their tests runs once natively and once in Python. The
native run is skipped, with the reason, where the extension is not built (no C compiler) or
``FILTERS_NATIVE=0`` switches it off; in CI a missing extension is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from filters.engine import _accel

DATA = Path(__file__).parents[3].parent / "shared" / "data" / "blocklists"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SWITCHED_OFF = os.environ.get("FILTERS_NATIVE") == "0"


def require_native() -> None:
    """Skip (or in CI fail) a test that needs the native engine when it is not there."""
    if _accel.native is not None:
        return
    if SWITCHED_OFF:
        pytest.skip("FILTERS_NATIVE=0: the native engine is switched off")
    message = "the native engine (filters.engine._native) is not built"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message + ": is there a C compiler?")


@pytest.fixture(params=["native", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine's implementation for this test; worker processes it starts use the same."""
    if request.param == "native":
        require_native()
    else:
        monkeypatch.setattr(_accel, "native", None)
        monkeypatch.setenv("FILTERS_NATIVE", "0")
    return str(request.param)


@pytest.fixture(scope="module")
def blocklists() -> Path:
    """The real lists of shared/data/blocklists (skipped without them, except in CI)."""
    if not DATA.is_dir():
        if IN_CI:
            pytest.fail(f"{DATA} is missing; CI must provide the shared blocklists")
        pytest.skip(f"{DATA} is absent: the real-list tests need shared/data/blocklists")
    return DATA
