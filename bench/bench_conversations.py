"""Conversation risk classifier: precision, recall and F1 per label, and throughput.

Run: .venv/bin/python bench/bench_conversations.py [--repeats N]

Scores the packaged lexicon on the labelled set (``tests/data/conversations/labelled.jsonl``,
the set the lexicon was tuned on) and on the hold-out (``holdout.jsonl``, written before the
tuning and not tuned on), per label and overall (micro), next to the issue's targets (recall
>= 0.9 on self_harm, precision >= 0.8 overall). The baseline, measured in the same run, is a
naive matcher over the same lexicon: each form's letters (markers dropped) as a lower-case
substring of the message, a proximity rule when all its groups occur, no negatives, no
folding of look-alikes, l33t, spacing or transliteration. Throughput is messages per second
over both sets, median of ``--repeats`` passes, one core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from telemetry.conversations.classify import Classifier, Label, default_lexicon, labels_of
from telemetry.conversations.classify.scoring import Scores, score

DATA = Path(__file__).parents[1] / "tests" / "data" / "conversations"
SETS = {"labelled": DATA / "labelled.jsonl", "hold-out": DATA / "holdout.jsonl"}
TARGET_SELF_HARM_RECALL = 0.9
TARGET_PRECISION = 0.8


def load(path: Path) -> list[dict[str, Any]]:
    """The messages of one JSON-lines set."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _substring(form: str) -> str:
    words = [w.strip("*").split("+")[0] for w in form.replace("-", " ").split() if w != "_"]
    return " ".join(words).lower()


def naive(lexicon: dict[str, Any]) -> Callable[[str], Collection[Label]]:
    """The baseline: lower-case substrings of the lexicon's forms, nothing else."""
    rules: list[tuple[Label, list[list[str]]]] = []
    for rule in lexicon["rules"]:
        groups = [rule["forms"]] if "forms" in rule else rule["near"]
        rules.append((Label(rule["label"]), [[_substring(f) for f in g] for g in groups]))

    def classify(text: str) -> set[Label]:
        lowered = text.lower()
        return {
            label
            for label, groups in rules
            if all(any(s in lowered for s in group) for group in groups)
        }

    return classify


def report(name: str, scores: Scores, baseline: Scores) -> None:
    """One set's table: the classifier's figures, the baseline's after each."""
    print(f"\n{name}: {scores.messages} messages")
    head = f"{'label':<10} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"
    print(f"{head}  baseline P/R/F1")
    rows = [(label.value, scores.per_label[label], baseline.per_label[label]) for label in Label]
    rows.append(("overall", scores.overall, baseline.overall))
    for label, c, b in rows:
        print(
            f"{label:<10} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f} {c.tp:4} {c.fp:4} "
            f"{c.fn:4}  {b.precision:.3f}/{b.recall:.3f}/{b.f1:.3f}"
        )
    recall = scores.per_label[Label.SELF_HARM].recall
    precision = scores.overall.precision
    recall_met = "met" if recall >= TARGET_SELF_HARM_RECALL else "NOT MET"
    precision_met = "met" if precision >= TARGET_PRECISION else "NOT MET"
    print(
        f"targets: self_harm recall {recall:.3f} >= {TARGET_SELF_HARM_RECALL} {recall_met}; "
        f"overall precision {precision:.3f} >= {TARGET_PRECISION} {precision_met}"
    )


def throughput(classify: Callable[[str], object], texts: list[str], repeats: int) -> float:
    """Messages per second, median of ``repeats`` passes over ``texts``."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            classify(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    lexicon = default_lexicon()
    start = time.perf_counter()
    classifier = Classifier.from_lexicon(lexicon)
    compile_ms = (time.perf_counter() - start) * 1000
    baseline = naive(lexicon)
    rules = len(lexicon["rules"])
    forms = sum(
        len(r.get("forms", [])) + sum(len(g) for g in r.get("near", [])) for r in lexicon["rules"]
    )
    print(
        f"lexicon {classifier.version}: {rules} rules, {forms} forms, "
        f"{len(lexicon.get('negatives', []))} negatives; compiled in {compile_ms:.0f} ms"
    )

    def found(text: str) -> set[Label]:
        return labels_of(classifier.classify(text))

    texts: list[str] = []
    for name, path in SETS.items():
        messages = load(path)
        texts += [m["text"] for m in messages]
        report(name, score(messages, found), score(messages, baseline))

    harmless = [m["text"] for path in SETS.values() for m in load(path) if not m["labels"]]
    print(f"\nthroughput, one core, median of {args.repeats} passes:")
    for label, sample in (("all messages", texts), ("harmless only", harmless)):
        ours = throughput(classifier.classify, sample, args.repeats)
        naive_rate = throughput(baseline, sample, args.repeats)
        print(
            f"  {label:<14} ({len(sample)}): classifier {ours:,.0f} msg/s, "
            f"naive substring baseline {naive_rate:,.0f} msg/s"
        )


if __name__ == "__main__":
    main()
