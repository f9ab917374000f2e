"""Which names a child's phone looked up, and when: a sampled log for the guardian's report.

The counts say how much the filter did; the log says what. A row per lookup would cost more than
the lookup, so the recorder passes each verdict through this sampler, which keeps:

- every blocked lookup, the same name for the same child within one UTC minute being one row
  with a count (a page load asks for a name many times);
- one in ``allowed_one_in`` of a child's allowed lookups (systematic: the first of each local
  day, then every N-th), merged by minute the same way, so a row's count is of sampled lookups;
- at most ``rows_per_day`` new rows of blocked and as many of allowed lookups per child and
  local day, so one busy phone cannot fill the table, and a day of browsing cannot crowd the
  blocks out; past it, lookups still count in the totals and blocked names, just not in the
  log.

Rows are keyed by their minute, so the flushes of any number of processes add up into one row.
Each process applies the cap on its own (N processes may write up to N times the cap), and a
restarted process starts its day afresh: the cap bounds the table, it is not an exact quota.

The DNS front end aggregates the hits of one name into one call with the same result repeated,
so the sampler is given a count: its cost is per distinct result, never per repetition.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

ALLOWED_ONE_IN = 20
ROWS_PER_DAY = 2000

RowKey = tuple[uuid.UUID, datetime, str, str]  # child, UTC minute, host, action
DayKey = tuple[uuid.UUID, date]  # child, local day


@dataclass
class LoggedLookups:
    """One row of the log waiting to be flushed: the lookups of one name in one minute."""

    category: str
    count: int


@dataclass
class _Day:
    allowed: int = 0  # allowed lookups seen, sampled or not
    rows: int = 0  # rows of allowed lookups opened
    blocked_rows: int = 0  # rows of blocked lookups opened


def minute_of(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def sampled(seen: int, n: int, one_in: int) -> int:
    """How many of the lookups numbered ``seen`` to ``seen + n - 1`` are multiples of
    ``one_in``: those the sample keeps, counted without visiting each."""
    return (seen + n - 1) // one_in - (seen - 1) // one_in


class QueryLogSampler:
    """One process's sampling state: allowed lookups seen and rows opened per child and day."""

    def __init__(
        self, *, allowed_one_in: int = ALLOWED_ONE_IN, rows_per_day: int = ROWS_PER_DAY
    ) -> None:
        if allowed_one_in < 1 or rows_per_day < 0:
            raise ValueError("allowed_one_in must be at least 1 and rows_per_day not negative")
        self.allowed_one_in = allowed_one_in
        self.rows_per_day = rows_per_day
        self._days: dict[DayKey, _Day] = {}
        # Rows of the last minutes already charged to their day: a row a flush has taken is
        # still open to the same minute's later lookups without counting as a new row.
        self._open: set[RowKey] = set()

    def add(
        self,
        rows: dict[RowKey, LoggedLookups],
        key: RowKey,
        day: date,
        category: str,
        n: int,
    ) -> None:
        """Log ``n`` lookups of ``key``'s host with ``key``'s action, as far as the sample and
        the child's cap for ``day`` allow, into ``rows``."""
        child_id, _, _, action = key
        state = self._days.get((child_id, day))
        if state is None:
            state = self._days[(child_id, day)] = _Day()
        if action == "block":
            logged = n
        else:
            logged = sampled(state.allowed, n, self.allowed_one_in)
            state.allowed += n
            if not logged:
                return
        row = rows.get(key)
        if row is not None:
            row.count += logged
            return
        if key not in self._open:
            if action == "block":
                if state.blocked_rows >= self.rows_per_day:
                    return
                state.blocked_rows += 1
            else:
                if state.rows >= self.rows_per_day:
                    return
                state.rows += 1
            self._open.add(key)
        rows[key] = LoggedLookups(category, logged)

    def forget(self, now: datetime) -> None:
        """Drop what no later lookup can need: rows of minutes before the previous one, days
        before yesterday in UTC (no time zone's day is older than that)."""
        minute = minute_of(now) - timedelta(minutes=1)
        self._open = {key for key in self._open if key[1] >= minute}
        yesterday = now.astimezone(UTC).date() - timedelta(days=1)
        self._days = {key: day for key, day in self._days.items() if key[1] >= yesterday}


def merge_rows(into: dict[RowKey, LoggedLookups], other: dict[RowKey, LoggedLookups]) -> None:
    for key, row in other.items():
        mine = into.get(key)
        if mine is None:
            into[key] = LoggedLookups(row.category, row.count)
        else:
            mine.count += row.count
