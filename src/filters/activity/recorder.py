"""Counting verdicts in memory and writing them to SQL in batches.

A carrier's resolver asks for every lookup a child's phone makes: writing a row per verdict
would cost more than the verdict. Each process adds its verdicts to a tally and flushes it every
few seconds (and on shutdown) as additive upserts, so any number of workers can count into the
same rows. A failed flush puts what it took back into the tally for the next attempt; what a
process had not flushed when it was killed is lost, a few seconds of statistics at most.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from filters.activity.events import SelfHarmBlocked
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

    def __bool__(self) -> bool:
        return bool(self.counts) or bool(self.blocks)

    def merge(self, other: Batch) -> None:
        self.counts.update(other.counts)
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


class ActivityRecorder:
    """One process's tally of verdicts per child, and the self-harm alerts it raises."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._batch = Batch()
        self._alerted: dict[tuple[uuid.UUID, str], datetime] = {}
        self._zones: dict[str, ZoneInfo] = {}

    async def record(
        self, child_id: uuid.UUID, timezone: str, answers: Iterable[CheckResult], now: datetime
    ) -> int:
        """Count ``answers`` for the child; returns how many alerts were published."""
        zone = self._zones.get(timezone)
        if zone is None:
            zone = self._zones[timezone] = ZoneInfo(timezone)
        day = now.astimezone(zone).date()
        counts = self._batch.counts
        alerts: list[SelfHarmBlocked] = []
        for answer in answers:
            category = category_of(answer)
            counts[(child_id, day, category, answer.action)] += 1
            if answer.action != "block":
                continue
            host = host_of(answer.normalized)
            key = (child_id, day, host)
            block = self._batch.blocks.get(key)
            if block is None:
                self._batch.blocks[key] = BlockTally(category, 1, now)
            else:
                block.count += 1
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
        return batch

    def give_back(self, batch: Batch) -> None:
        """A batch whose flush failed, to be written with the next one."""
        batch.merge(self._batch)
        self._batch = batch
