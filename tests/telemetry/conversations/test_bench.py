"""bench/bench_conversations.py --write: the figures replace one marked block of the docs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from telemetry.conversations.classify import Label
from telemetry.conversations.classify.scoring import Scores

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    # bench/ is scripts, not a package: load the file the command runs.
    spec = importlib.util.spec_from_file_location(
        "bench_conversations", ROOT / "bench" / "bench_conversations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


def test_the_block_between_the_markers_is_replaced_and_nothing_else(bench: ModuleType) -> None:
    document = f"# Doc\n\nprose before\n\n{bench.BEGIN}\nold figures\n{bench.END}\n\nprose after\n"
    new = f"{bench.BEGIN}\nnew figures\n| a | b |\n{bench.END}"

    once = bench.replace_block(document, new)

    assert once == f"# Doc\n\nprose before\n\n{new}\n\nprose after\n"
    assert bench.replace_block(once, new) == once


@pytest.mark.parametrize(
    "document",
    [
        "no markers at all",
        "<!-- conversations:begin -->\nonly the start",
        "only the end\n<!-- conversations:end -->",
        "<!-- conversations:end -->\nreversed\n<!-- conversations:begin -->",
        "<!-- conversations:begin --><!-- conversations:end -->\n"
        "<!-- conversations:begin --><!-- conversations:end -->",
    ],
)
def test_a_document_without_exactly_one_block_is_refused(bench: ModuleType, document: str) -> None:
    with pytest.raises(ValueError, match="conversations:"):
        bench.replace_block(document, f"{bench.BEGIN}\nx\n{bench.END}")


def test_the_benchmarks_doc_has_the_block_to_rewrite(bench: ModuleType) -> None:
    document = bench.DOC.read_text(encoding="utf-8")
    section = document.index("## Conversation risk classifier (issue 8)")
    assert section < document.index(bench.BEGIN) < document.index(bench.END)
    assert bench.replace_block(document, f"{bench.BEGIN}\n{bench.END}")


def _result(bench: ModuleType, name: str, tp: int, fp: int, fn: int) -> Any:
    scores = Scores()
    scores.per_label[Label.SELF_HARM].tp = tp
    scores.per_label[Label.SELF_HARM].fp = fp
    scores.per_label[Label.SELF_HARM].fn = fn
    messages = [{"id": "h1", "lang": "en", "text": "x", "labels": [], "hard_negative": True}]
    return bench.Result(name, messages, scores, Scores(), hard_negatives_flagged=1)


def test_the_block_judges_the_targets_on_the_blind_set(bench: ModuleType) -> None:
    results = {
        bench.TUNING: _result(bench, bench.TUNING, tp=10, fp=0, fn=0),
        bench.HOLDOUT: _result(bench, bench.HOLDOUT, tp=9, fp=0, fn=1),
        bench.BLIND: _result(bench, bench.BLIND, tp=6, fp=1, fn=4),
    }
    rates = [("all messages", 2, 1000.0, 2000.0)]

    text = bench.block(results, "v1", rates, 7, "2026-12-04")

    assert text.startswith(bench.BEGIN)
    assert text.endswith(bench.END)
    assert f"`{bench.COMMAND}` on 2026-12-04 (lexicon v1" in " ".join(text.split())
    assert "| self_harm | 10 | 10 | 0 | 0 | 1.000 | 1.000 | 1.000 |" in text
    assert "| self_harm | 10 | 6 | 1 | 4 | 0.857 | 0.600 | 0.706 |" in text
    # The blind set's figure and verdict, then the hold-out's and the tuning set's.
    assert "| self_harm recall >= 0.9 | 0.600 | **not met** | 0.900 | 1.000 |" in text
    assert "| overall precision >= 0.8 | 0.857 | yes | 1.000 | 1.000 |" in text
    assert "1 hard negatives, 1 of them flagged" in " ".join(text.split())
    assert "median of 7 passes" in text
    assert "classifier 1,000 msg/s, naive substring baseline 2,000 msg/s" in text
