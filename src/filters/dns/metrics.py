"""The DNS front end's counters for Prometheus: the text exposition format (0.0.4) and a tiny
HTTP listener that serves it at ``GET /metrics``.

Hand-written rather than ``prometheus-client`` on purpose: the front end's counters already
live in plain dataclasses (``UpstreamStats``) updated on the hot path without locks, and the
format is a few lines of text; the library would add a dependency, a global registry and a
thread-based server to the process that answers every child's lookups. The listener is
asyncio streams only, so it shares the front end's event loop.

The listener answers one request per connection and closes it. A request must arrive whole
(request line and headers, at most ``max_request_bytes``) within ``read_timeout`` seconds, so a
slow or oversized client costs one short-lived task and nothing else. It listens on
loopback by default: the counters say nothing about a child, but how busy the service is
need not be public either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

from filters.dns.upstream import UpstreamStats

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PATH = "/metrics"
PREFIX = "parental_dns_"
MetricType = Literal["counter", "gauge"]
Labels = tuple[tuple[str, str], ...]  # (name, value) pairs, in the order they are printed

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_REQUEST_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/1\.[01]")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}

UPSTREAM_HELP = {
    "forwarded": "Questions sent to the upstream resolvers.",
    "cache_hits": "Questions answered from the answer cache.",
    "coalesced": "Questions that waited for the same question already on its way upstream.",
    "tcp_retries": "Truncated upstream answers asked again over TCP.",
    "failures": "Questions no upstream resolver answered in time (answered SERVFAIL).",
}


@dataclass(frozen=True)
class Metric:
    """One metric family: a single value, or one value per label set."""

    name: str
    help: str
    type: MetricType
    value: float | Mapping[Labels, float]

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"not a metric name: {self.name!r}")
        if self.type == "counter" and not self.name.endswith("_total"):
            raise ValueError(f"a counter's name ends in _total: {self.name!r}")
        for labels, value in self.samples():
            for label, _ in labels:
                if not _LABEL.fullmatch(label) or label.startswith("__"):
                    raise ValueError(f"{self.name}: not a label name: {label!r}")
            if len({label for label, _ in labels}) != len(labels):
                raise ValueError(f"{self.name}: a label repeated in {labels!r}")
            if self.type == "counter" and not value >= 0:
                raise ValueError(f"{self.name}: a counter cannot be {value!r}")

    def samples(self) -> list[tuple[Labels, float]]:
        if isinstance(self.value, Mapping):
            return list(self.value.items())
        return [((), self.value)]


def counter(name: str, help: str, value: float | Mapping[Labels, float]) -> Metric:
    return Metric(name, help, "counter", value)


def gauge(name: str, help: str, value: float | Mapping[Labels, float]) -> Metric:
    return Metric(name, help, "gauge", value)


def stats_counters(
    stats: DataclassInstance, helps: Mapping[str, str], prefix: str = PREFIX
) -> list[Metric]:
    """A dataclass of counts (``UpstreamStats``, ...) as ``<prefix><field>_total`` counters;
    every field needs its help text, so a new field cannot go unexported unnoticed."""
    return [
        counter(f"{prefix}{field.name}_total", helps[field.name], getattr(stats, field.name))
        for field in fields(stats)
    ]


def upstream_metrics(stats: UpstreamStats) -> list[Metric]:
    return stats_counters(stats, UPSTREAM_HELP, PREFIX + "upstream_")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if isinstance(value, int) or (value.is_integer() and abs(value) < 2**53):
        return str(int(value))
    return repr(float(value))


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(name: str, labels: Labels, value: float) -> str:
    if not labels:
        return f"{name} {_number(value)}"
    pairs = ",".join(f'{label}="{_escape_label(text)}"' for label, text in labels)
    return f"{name}{{{pairs}}} {_number(value)}"


def render(metrics: Iterable[Metric]) -> str:
    """The metrics in the text exposition format 0.0.4 (each name once)."""
    lines: list[str] = []
    seen: set[str] = set()
    for metric in metrics:
        if metric.name in seen:
            raise ValueError(f"metric {metric.name!r} given twice")
        seen.add(metric.name)
        lines.append(f"# HELP {metric.name} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.type}")
        lines.extend(_sample(metric.name, labels, value) for labels, value in metric.samples())
    return "".join(line + "\n" for line in lines)


def _response(
    status: int, body: bytes, content_type: str, *, head: bool = False, allow: bool = False
) -> bytes:
    headers = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    if allow:
        headers.append("Allow: GET, HEAD")
    return ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + (b"" if head else body)


def _plain(status: int, text: str, **options: bool) -> bytes:
    return _response(status, text.encode() + b"\n", "text/plain; charset=utf-8", **options)


@dataclass
class _MetricsHandler:
    collect: Callable[[], list[Metric]]
    read_timeout: float

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(await self._respond(reader))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, reader: asyncio.StreamReader) -> bytes:
        try:
            async with asyncio.timeout(self.read_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            return _plain(408, "the request did not arrive in time")
        except asyncio.LimitOverrunError:
            return _plain(431, "the request is too large")
        except asyncio.IncompleteReadError:
            return _plain(400, "the request ended before its headers did")
        found = _REQUEST_LINE.fullmatch(head.split(b"\r\n", 1)[0].decode("latin-1"))
        if found is None:
            return _plain(400, "not an HTTP/1.x request line")
        method, target = found.groups()
        if target.split("?", 1)[0] != PATH:
            return _plain(404, f"only {PATH} is served", head=method == "HEAD")
        if method not in ("GET", "HEAD"):
            return _plain(405, f"{PATH} answers GET and HEAD", allow=True)
        try:
            body = render(self.collect()).encode()
        except Exception:
            log.exception("collecting the DNS metrics failed")
            return _plain(500, "collecting the metrics failed", head=method == "HEAD")
        return _response(200, body, CONTENT_TYPE, head=method == "HEAD")


async def serve_metrics(
    host: str,
    port: int,
    collect: Callable[[], list[Metric]],
    *,
    read_timeout: float = 5.0,
    max_request_bytes: int = 8192,
) -> asyncio.Server:
    """Serve ``render(collect())`` at ``GET /metrics`` on ``host``:``port`` (0: a free port)
    until the returned server is closed."""
    handler = _MetricsHandler(collect, read_timeout)
    return await asyncio.start_server(handler, host, port, limit=max_request_bytes)
