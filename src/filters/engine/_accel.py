"""Which implementation of the engine's hot paths runs: the C extension or pure Python.

``filters.engine._native`` (built from ``csrc/`` by ``pip install``) reads list lines, builds
snapshot tables and answers verdicts; wherever it meets something it does not handle (IDN, IP
literals, ports, unusual lines) it hands that case to the Python code, so both give the same
results. The extension is optional: a machine that could not compile it runs the Python code,
and ``FILTERS_NATIVE=0`` in the environment forces the Python code (for comparison and tests).

Callers read ``native`` at the time of each call (never ``from ... import native``), so that
``pure_python()`` switches every later call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from filters.engine._common import _shown
from filters.engine.normalize import Target
from filters.engine.rules import ACTIONS, SCOPES, Rejection, Rule
from filters.engine.verdict import ALLOW_UNLISTED, Decider, Decision

if TYPE_CHECKING:
    from filters.engine import _native


class Engine(Protocol):
    """The extension module, as the engine uses it."""

    @property
    def Table(self) -> type[_native.Table]: ...

    @property
    def Reader(self) -> type[_native.Reader]: ...

    def build(
        self, sources: Sequence[tuple[Iterable[Rule], int]]
    ) -> tuple[bytes, bytes, bytes, list[list[list[int | str]]], int, int, int]: ...

    def xxh64(self, data: bytes, seed: int = 0) -> int: ...


def _load() -> Engine | None:
    if os.environ.get("FILTERS_NATIVE", "1") == "0":
        return None
    try:
        from filters.engine import _native  # optional: built by pip install when it can be
    except ImportError:
        return None
    _native.setup(
        rule=Rule,
        rejection=Rejection,
        target=Target,
        decision=Decision,
        decider=Decider,
        scopes=[SCOPES[code] for code in range(len(SCOPES))],
        actions=[ACTIONS[code] for code in range(len(ACTIONS))],
        allow_unlisted=ALLOW_UNLISTED,
        shown=_shown,
    )
    return _native


native: Engine | None = _load()


@contextmanager
def pure_python() -> Iterator[None]:
    """Run the Python implementation inside the block (snapshots opened before keep theirs).

    For tests and benchmarks: it switches the whole process, every thread included.
    """
    global native
    saved, native = native, None
    try:
        yield
    finally:
        native = saved
