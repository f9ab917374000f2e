"""Precision, recall and F1 of a classifier over a labelled set, per label and overall.

Shared by the benchmark and the test that holds the lexicon to the issue's targets; curators
can score a draft lexicon the same way before publishing it. Each message counts once per
label: a label both expected and found is a true positive, found only a false positive,
expected only a false negative; "overall" is micro-averaged (counts summed over labels).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telemetry.conversations.classify.lexicon import Label


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of found labels that were expected (1.0 when nothing was found)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of expected labels that were found (1.0 when nothing was expected)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Scores:
    per_label: dict[Label, Counts] = field(default_factory=lambda: {lab: Counts() for lab in Label})
    messages: int = 0

    @property
    def overall(self) -> Counts:
        """Micro average: the counts of every label summed."""
        return Counts(
            sum(c.tp for c in self.per_label.values()),
            sum(c.fp for c in self.per_label.values()),
            sum(c.fn for c in self.per_label.values()),
        )

    def add(self, expected: Collection[Label], found: Collection[Label]) -> None:
        """Count one message."""
        self.messages += 1
        for label in Label:
            counts = self.per_label[label]
            if label in expected and label in found:
                counts.tp += 1
            elif label in found:
                counts.fp += 1
            elif label in expected:
                counts.fn += 1


def score(
    messages: Iterable[Mapping[str, Any]], labels_of: Callable[[str], Collection[Label]]
) -> Scores:
    """Scores of ``labels_of`` (text -> labels found) over labelled messages.

    Each message is a mapping with ``text`` and ``labels`` (label names), as in
    ``tests/data/conversations/*.jsonl``.
    """
    scores = Scores()
    for message in messages:
        expected = {Label(name) for name in message["labels"]}
        scores.add(expected, labels_of(message["text"]))
    return scores
