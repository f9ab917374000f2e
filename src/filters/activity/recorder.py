"""Counting verdicts in memory and writing them to SQL in batches.

A carrier's resolver asks for every lookup a child's phone makes: writing a row per verdict
would cost more than the verdict. Each process adds its verdicts to a tally and flushes it every
few seconds (and on shutdown) as additive upserts, so any number of workers can count into the
same rows. A failed flush puts what it took back into the tally for the next attempt; what a
process had not flushed when it was killed is lost, a few seconds of statistics at most.

The same batch carries the sampled query log (see ``filters.activity.querylog``). Callers may
repeat one result object for many lookups of a name; each distinct object is handled once, with
its count, so a call costs the same for one lookup or a hundred thousand.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from filters.activity.events import SelfHarmBlocked
from filters.activity.querylog import LoggedLookups, QueryLogSampler, RowKey, merge_rows, minute_of
from filters.check.schemas import CheckResult
from filters.check.service import GUARDIAN_SOURCE
from parental.kit.events import EventBus

ALERT_CATEGORY = "self_harm"
ALERT_INTERVAL = timedelta(minutes=1)
GUARDIAN_CATEGORY = "guardian"  # blocked or allowed by the guardian's own entries
UNLISTED = ""  # no listed rule decided


CountKey = tuple[uuid.UUID, date, str, str]  # child, local day, category, action
BlockKey = tuple[uuid.UUID, date, str]  # child, local day, host


@dataclass
class BlockTally:
    category: str
    count: int
    last_at: datetime

    def merge(self, other: BlockTally) -> None:
        self.count += other.count
        self.last_at = max(self.last_at, other.last_at)


@dataclass
class Batch:
    """What one flush writes."""

    counts: Counter[CountKey] = field(default_factory=Counter)
    blocks: dict[BlockKey, BlockTally] = field(default_factory=dict)
    queries: dict[RowKey, LoggedLookups] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.counts) or bool(self.blocks) or bool(self.queries)

    def merge(self, other: Batch) -> None:
        self.counts.update(other.counts)
        merge_rows(self.queries, other.queries)
        for key, block in other.blocks.items():
            mine = self.blocks.get(key)
            if mine is None:
                self.blocks[key] = BlockTally(block.category, block.count, block.last_at)
            else:
                mine.merge(block)


def category_of(answer: CheckResult) -> str:
    if answer.rule is not None and answer.rule.source_id == GUARDIAN_SOURCE:
        return GUARDIAN_CATEGORY
    return answer.categories[0] if answer.categories else UNLISTED


def host_of(normalized: str) -> str:
    slash = normalized.find("/")
    return normalized if slash < 0 else normalized[:slash]


def distinct(answers: Iterable[CheckResult]) -> list[tuple[CheckResult, int]]:
    """Each distinct result object once, with how often it occurs, in first-seen order."""
    items = answers if isinstance(answers, list | tuple) else list(answers)
    if len(items) <= 1:  # a DNS question, the common case
        return [(items[0], 1)] if items else []
    repeats = Counter(map(id, items))  # counted in C, not per repetition in Python
    if len(repeats) == 1:
        return [(items[0], len(items))]
    by_id = {id(answer): answer for answer in items}
    return [(by_id[key], n) for key, n in repeats.items()]


class ActivityRecorder:
    """One process's tally of verdicts per child, and the self-harm alerts it raises."""

    def __init__(self, bus: EventBus, query_log: QueryLogSampler | None = None) -> None:
        self._bus = bus
        self.query_log = query_log or QueryLogSampler()
        self._batch = Batch()
        self._alerted: dict[tuple[uuid.UUID, str], datetime] = {}
        self._zones: dict[str, ZoneInfo] = {}

    async def record(
        self, child_id: uuid.UUID, timezone: str, answers: Iterable[CheckResult], now: datetime
    ) -> int:
        """Count ``answers`` for the child and sample them into the query log; returns how many
        alerts were published."""
        zone = self._zones.get(timezone)
        if zone is None:
            zone = self._zones[timezone] = ZoneInfo(timezone)
        day = now.astimezone(zone).date()
        minute = minute_of(now)
        batch = self._batch
        alerts: list[SelfHarmBlocked] = []
        for answer, n in distinct(answers):
            category = category_of(answer)
            batch.counts[(child_id, day, category, answer.action)] += n
            host = host_of(answer.normalized)
            self.query_log.add(
                batch.queries, (child_id, minute, host, answer.action), day, category, n
            )
            if answer.action != "block":
                continue
            key = (child_id, day, host)
            block = batch.blocks.get(key)
            if block is None:
                batch.blocks[key] = BlockTally(category, n, now)
            else:
                block.count += n
                block.last_at = max(block.last_at, now)
            if ALERT_CATEGORY in answer.categories and self._due(child_id, host, now):
                alerts.append(
                    SelfHarmBlocked(
                        occurred_at=now, child_id=child_id, category=ALERT_CATEGORY, host=host
                    )
                )
        for alert in alerts:
            await self._bus.publish(alert)
        return len(alerts)

    def _due(self, child_id: uuid.UUID, host: str, now: datetime) -> bool:
        last = self._alerted.get((child_id, host))
        if last is not None and now - last < ALERT_INTERVAL:
            return False
        self._alerted[(child_id, host)] = now
        return True

    def take(self, now: datetime) -> Batch:
        """Everything counted since the last take; the tally starts again empty."""
        batch, self._batch = self._batch, Batch()
        self._alerted = {k: t for k, t in self._alerted.items() if now - t < ALERT_INTERVAL}
        self.query_log.forget(now)
        return batch

    def give_back(self, batch: Batch) -> None:
        """A batch whose flush failed, to be written with the next one."""
        batch.merge(self._batch)
        self._batch = batch
