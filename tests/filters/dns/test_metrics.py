"""The metrics text and its listener: what is rendered is parsed back by a strict reader of the
0.0.4 text format (prometheus-client is not installed here), and the listener is asked over
real loopback connections, by httpx and by raw sockets for what httpx will not send."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from filters.dns.metrics import (
    CONTENT_TYPE,
    Metric,
    counter,
    gauge,
    render,
    serve_metrics,
    upstream_metrics,
)
from filters.dns.upstream import UpstreamStats

_HELP = re.compile(r"# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)")
_TYPE = re.compile(r"# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)")
_SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')


@dataclass
class Family:
    help: str = ""
    type: str = ""
    samples: dict[tuple[tuple[str, str], ...], float] = field(default_factory=dict)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _labels(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    found, at = [], 0
    while at < len(text):
        match = _LABEL.match(text, at)
        assert match is not None, f"bad labels at {text[at:]!r}"
        found.append((match.group(1), _unescape(match.group(2))))
        at = match.end()
    return tuple(found)


def parse(text: str) -> dict[str, Family]:
    """The families in ``text``; fails on anything the 0.0.4 format does not allow."""
    assert text.endswith("\n")
    families: dict[str, Family] = {}
    for line in text.splitlines():
        if (help_line := _HELP.fullmatch(line)) is not None:
            name = help_line.group(1)
            assert name not in families, f"{name} declared twice"
            families[name] = Family(help=_unescape(help_line.group(2)))
        elif (type_line := _TYPE.fullmatch(line)) is not None:
            family = families[type_line.group(1)]
            assert (family.type, family.samples) == ("", {}), "TYPE after samples or twice"
            family.type = type_line.group(2)
        else:
            sample = _SAMPLE.fullmatch(line)
            assert sample is not None, f"not a sample: {line!r}"
            name, labels, value = sample.groups()
            assert families[name].type, f"{name} sampled before its TYPE"
            families[name].samples[_labels(labels)] = float(value)
    return families


def test_counters_and_gauges_render_and_parse_back() -> None:
    text = render(
        [
            counter("parental_dns_queries_total", "Queries answered.", 12),
            counter(
                "parental_dns_verdicts_total",
                'Verdicts by action;\na "quoted" \\ help.',
                {(("action", "block"), ("category", "drugs")): 3, (("action", "allow"),): 9},
            ),
            gauge("parental_dns_snapshot_version", "Published version in force.", 7),
            gauge("parental_dns_load", "Odd values.", {(("v", 'a"b\\c\nd'),): 0.25}),
        ]
    )
    families = parse(text)
    assert list(families) == [
        "parental_dns_queries_total",
        "parental_dns_verdicts_total",
        "parental_dns_snapshot_version",
        "parental_dns_load",
    ]
    assert families["parental_dns_queries_total"] == Family(
        "Queries answered.", "counter", {(): 12.0}
    )
    verdicts = families["parental_dns_verdicts_total"]
    assert verdicts.help == 'Verdicts by action;\na "quoted" \\ help.'
    assert verdicts.samples == {
        (("action", "block"), ("category", "drugs")): 3.0,
        (("action", "allow"),): 9.0,
    }
    assert families["parental_dns_snapshot_version"].type == "gauge"
    assert families["parental_dns_load"].samples == {(("v", 'a"b\\c\nd'),): 0.25}
    assert "parental_dns_queries_total 12\n" in text


def test_special_values() -> None:
    text = render(
        [
            gauge("g_inf", "", {(("s", "up"),): math.inf, (("s", "down"),): -math.inf}),
            gauge("g_nan", "", math.nan),
            gauge("g_big", "", 1e300),
            counter("c_float_total", "", 2.5),
        ]
    )
    assert 'g_inf{s="up"} +Inf\n' in text
    assert 'g_inf{s="down"} -Inf\n' in text
    assert "g_nan NaN\n" in text
    samples = {name: family.samples for name, family in parse(text).items()}
    assert math.isnan(samples["g_nan"][()])
    assert samples["g_big"][()] == 1e300
    assert samples["c_float_total"][()] == 2.5
    assert render([]) == ""


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: counter("parental_dns_queries", "", 1), "ends in _total"),
        (lambda: counter("parental-dns_total", "", 1), "not a metric name"),
        (lambda: counter("c_total", "", -1), "cannot be -1"),
        (lambda: counter("c_total", "", math.nan), "cannot be nan"),
        (lambda: gauge("g", "", {(("bad-label", "x"),): 1}), "not a label name"),
        (lambda: gauge("g", "", {(("__reserved", "x"),): 1}), "not a label name"),
        (lambda: gauge("g", "", {(("a", "x"), ("a", "y")): 1}), "repeated"),
    ],
)
def test_invalid_metrics_are_refused(make: Callable[[], Metric], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_name_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        render([gauge("g", "", 1), gauge("g", "", 2)])


def test_upstream_counters() -> None:
    stats = UpstreamStats(forwarded=5, cache_hits=40, coalesced=3, tcp_retries=1, failures=2)
    families = parse(render(upstream_metrics(stats)))
    assert {name: f.samples[()] for name, f in families.items()} == {
        "parental_dns_upstream_forwarded_total": 5,
        "parental_dns_upstream_cache_hits_total": 40,
        "parental_dns_upstream_coalesced_total": 3,
        "parental_dns_upstream_tcp_retries_total": 1,
        "parental_dns_upstream_failures_total": 2,
    }
    assert all(f.type == "counter" and f.help for f in families.values())


@dataclass
class Listener:
    server: asyncio.Server
    stats: UpstreamStats

    @property
    def port(self) -> int:
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def send(self, data: bytes) -> bytes:
        """Send ``data`` and end the request stream; everything answered until the server
        closes."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(data)
            writer.write_eof()
            async with asyncio.timeout(5):
                return await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    stats = UpstreamStats()

    def collect() -> list[Metric]:
        if stats.failures < 0:
            raise RuntimeError("a collector bug")
        return [*upstream_metrics(stats), gauge("parental_dns_up", "Serving.", 1)]

    server = await serve_metrics("127.0.0.1", 0, collect, read_timeout=0.3, max_request_bytes=1024)
    yield Listener(server, stats)
    server.close()
    await server.wait_closed()


@pytest.fixture
async def http(listener: Listener) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{listener.port}", trust_env=False, timeout=5
    ) as client:
        yield client


async def test_get_metrics_reads_the_counters_at_each_scrape(
    listener: Listener, http: httpx.AsyncClient
) -> None:
    first = await http.get("/metrics")
    assert first.status_code == 200
    assert first.headers["content-type"] == CONTENT_TYPE
    assert first.headers["connection"] == "close"
    assert parse(first.text)["parental_dns_upstream_forwarded_total"].samples == {(): 0}
    listener.stats.forwarded += 7
    second = await http.get("/metrics?name[]=ignored")
    families = parse(second.text)
    assert families["parental_dns_upstream_forwarded_total"].samples == {(): 7}
    assert families["parental_dns_up"] == Family("Serving.", "gauge", {(): 1})
    head = await http.head("/metrics")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(second.content)


async def test_other_paths_and_methods(http: httpx.AsyncClient) -> None:
    for path in ("/", "/metrics/", "/metricsx", "/healthz"):
        missing = await http.get(path)
        assert missing.status_code == 404, path
    posted = await http.post("/metrics", content=b"x=1")
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"
    deleted = await http.delete("/metrics")
    assert deleted.status_code == 405


async def test_each_connection_answers_one_request_then_closes(listener: Listener) -> None:
    twice = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 2
    answer = await listener.send(twice)
    assert answer.count(b"HTTP/1.1 200 OK") == 1
    head, body = answer.split(b"\r\n\r\n", 1)
    assert f"content-length: {len(body)}".encode() in head.lower()
    assert "parental_dns_up" in parse(body.decode())


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"nonsense\r\n\r\n", b"400 Bad Request"),
        (b"GET /metrics HTTP/2.0\r\n\r\n", b"400 Bad Request"),
        (b"GET  /metrics HTTP/1.1\r\n\r\n", b"400 Bad Request"),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\n", b"400 Bad Request"),  # ends mid-headers
        (b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n", b"431 "),
    ],
)
async def test_bad_requests_get_an_error_and_the_listener_goes_on(
    listener: Listener, http: httpx.AsyncClient, request_bytes: bytes, status: bytes
) -> None:
    answer = await listener.send(request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert (await http.get("/metrics")).status_code == 200


async def test_a_failing_collector_is_a_500_and_logged(
    listener: Listener, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    listener.stats.failures = -1
    with caplog.at_level(logging.ERROR, logger="filters.dns.metrics"):
        failed = await http.get("/metrics")
    assert failed.status_code == 500
    assert "collecting the DNS metrics failed" in caplog.text
    listener.stats.failures = 0
    assert (await http.get("/metrics")).status_code == 200


async def test_a_slow_client_is_cut_off_without_holding_up_others(
    listener: Listener, http: httpx.AsyncClient
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    try:
        writer.write(b"GET /met")
        assert (await http.get("/metrics")).status_code == 200  # while the slow one waits
        async with asyncio.timeout(5):
            answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 408 ")
