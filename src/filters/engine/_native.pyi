"""Types of the C extension (csrc/); use it through ``filters.engine._accel``."""

from collections.abc import Callable, Iterable, Sequence
from mmap import mmap

from filters.engine._common import _Outcome
from filters.engine.normalize import Target
from filters.engine.rules import Action, Rejection, Rule, Scope, SourceRef
from filters.engine.verdict import Decider, Decision

# A snapshot header's ruleset: [[scope code, action code, mask, source index, path], ...]
_Ruleset = list[list[int | str]]

def setup(
    *,
    rule: type[Rule],
    rejection: type[Rejection],
    target: type[Target],
    decision: type[Decision],
    decider: type[Decider],
    scopes: Sequence[Scope],
    actions: Sequence[Action],
    allow_unlisted: Decision,
    shown: Callable[[str], str],
) -> None: ...
def xxh64(data: bytes, seed: int = 0) -> int: ...
def build(
    sources: Sequence[tuple[Iterable[Rule], int]],
) -> tuple[bytes, bytes, bytes, list[_Ruleset], int, int, int]: ...

class Table:
    def __init__(
        self,
        buffer: mmap,
        offset: int,
        count: int,
        bucket_bits: int,
        rulesets: list[_Ruleset],
        sources: list[SourceRef],
        categories: list[str],
    ) -> None: ...
    def classify(self, raw: str, enabled: int, /) -> tuple[Target, Decision] | None: ...
    def decide(self, host: str, path: str, enabled: int, is_ip: bool, /) -> Decision | None: ...
    def close(self) -> None: ...

class Reader:
    def feed(
        self,
        source: bytes | Iterable[str],
        kind: int,
        scope: int,
        action: int,
        handler: Callable[[str], _Outcome],
        rejected: list[Rejection],
        skip_names: frozenset[str],
    ) -> tuple[list[Rule], int, int, int, int]: ...
