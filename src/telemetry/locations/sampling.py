"""Down-sampling a history: at most one fix per interval of ``every`` seconds.

Intervals are aligned to the Unix epoch (UTC), so a page and the next one, or two requests
for overlapping periods, cut time the same way. Walking newest first, the newest fix of each
interval is kept; the next one looked for is the newest before the interval's start, found
by one index seek, so a page costs at most one seek per fix it holds however dense the track.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_start(at: datetime, every: int) -> datetime:
    """The start of the ``every``-second interval holding ``at``."""
    elapsed = at - _EPOCH
    whole = elapsed // timedelta(seconds=every)
    return _EPOCH + whole * timedelta(seconds=every)
