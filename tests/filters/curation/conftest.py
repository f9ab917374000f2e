from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.filters.curation.listserver import ListServer, list_server

BLOCKLISTS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "blocklists"


@pytest.fixture
def server() -> Iterator[ListServer]:
    with list_server() as running:
        yield running
