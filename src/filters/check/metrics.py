"""The filter's verdicts as Prometheus counters, by action and category.

A verdict's category label is the first category of the list rule that decided it,
``guardian`` when the guardian's own list did, ``none`` when no rule matched: a bounded set
(the catalogue's keys), never a name that was looked up.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

from filters.check.schemas import CheckResult
from parental.kit.metrics import Children

GUARDIAN_SOURCE = "guardian"  # the source id of the guardian's own entries in a result

VERDICTS = Counter(
    "parental_filter_verdicts",
    "Verdicts given by /filter/check, by action (block, allow) and category.",
    ["action", "category"],
)
_verdicts = Children(VERDICTS)


def category_label(result: CheckResult) -> str:
    if result.rule is not None and result.rule.source_id == GUARDIAN_SOURCE:
        return "guardian"
    return result.categories[0] if result.categories else "none"


def count_verdicts(results: Iterable[CheckResult]) -> None:
    for result in results:
        _verdicts(result.action, category_label(result)).inc()
