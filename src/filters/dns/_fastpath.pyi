from collections.abc import Sequence

class FastPath:
    def __init__(self, memo_size: int, sources_size: int, line_option_code: int) -> None: ...
    def serve(
        self, fd: int, now: float, budget: int, /
    ) -> list[tuple[bytes, tuple[str, int] | tuple[str, int, int, int], bytes | None, bool]]: ...
    def set_source(
        self, key: bytes, profile: int, child: int, expires: float, stale_until: float, /
    ) -> None: ...
    def remember(
        self,
        *,
        profile: int,
        name: bytes,
        qtype: int,
        do: bool,
        rcode: int,
        counts: tuple[int, int, int],
        body: bytes,
        ttl_offsets: Sequence[int],
        ttls: Sequence[int],
        stored_at: float,
        expires: float,
        ede: bytes,
        verdict: int,
    ) -> None: ...
    def limit(self, rate: float, burst: float, exempt: Sequence[tuple[bytes, int]], /) -> None: ...
    def take_counts(self) -> list[tuple[int, int, int]]: ...
    def clear(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
