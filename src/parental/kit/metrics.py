"""Prometheus metrics: the families shared by several packages, and how a process exports them.

Each package defines the metrics of its own work next to it (the filter's verdicts in
``filters.check.metrics``, push results in ``notifications.dispatcher``); this module holds
the ones several packages feed (requests, ingestion, purges) and the plumbing:

- One process (``parental serve`` with one worker, ``parental worker``): the client's default
  registry, as it is.
- Several processes (``uvicorn --workers N``; the API and the worker on one host): set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory, the same for all of them, before they
  start. prometheus-client then keeps every value in a memory-mapped file there, and a scrape
  of any one process adds up all of them (``scrape_registry``). Without the variable nothing
  is written to disk.

``Children`` caches labelled children: ``metric.labels(...)`` takes a lock and builds a key
on every call, which the request path does not need to pay each time.
"""

from __future__ import annotations

import os
import threading
from typing import Generic, TypeVar
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics import MetricWrapperBase

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

M = TypeVar("M", bound=MetricWrapperBase)

# Seconds; an API answer is a few ms, a large upload or an export up to seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "parental_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "parental_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
INGESTED = Counter(
    "parental_ingested_items",
    "Items the children's devices and the carrier uploaded, by kind and outcome.",
    ["kind", "status"],
)
PURGED = Counter(
    "parental_purged_rows",
    "Rows (files for published_files) the retention purge deleted, by data class.",
    ["data"],
)


class Children(Generic[M]):
    """The labelled children of one metric, made once per label values."""

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._made: dict[tuple[str, ...], M] = {}

    def __call__(self, *labels: str) -> M:
        child = self._made.get(labels)
        if child is None:
            child = self._made[labels] = self._metric.labels(*labels)
        return child


_ingested = Children(INGESTED)


def count_ingested(kind: str, *, accepted: int, duplicate: int, rejected: int) -> None:
    """Count one uploaded batch's items (``kind``: fixes, usage_sessions, messages...)."""
    for status, count in (("accepted", accepted), ("duplicate", duplicate), ("rejected", rejected)):
        if count:
            _ingested(kind, status).inc(count)


def count_purged(counts: dict[str, int]) -> None:
    for data, count in counts.items():
        if count:
            PURGED.labels(data).inc(count)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def scrape_registry() -> CollectorRegistry:
    """What a scrape reads: this process's registry, or every process's files."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(scrape_registry())


def serve_metrics(host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``GET /metrics`` on ``host``:``port`` from a daemon thread (the worker's
    listener); close it with ``server.shutdown()``."""
    return start_http_server(port, addr=host, registry=scrape_registry())


def process_exited() -> None:
    """Tell the multi-process files this process is gone (its live gauges stop counting)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
