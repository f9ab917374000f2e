"""What ``parental dns`` exports at ``/metrics``: the upstream's counters, the fast path's, the
rate limit's and the TCP listener's, read from the running ``DnsServer`` at each scrape."""

from __future__ import annotations

import dns.rcode

from filters.dns.frontend import FrontEndStats
from filters.dns.metrics import PREFIX, Metric, counter, gauge, upstream_metrics
from filters.dns.server import DnsServer

FAST_PATH_HELP = {
    "received": "UDP datagrams read by the fast path.",
    "answered": "UDP queries answered by the fast path without Python.",
    "passed": "UDP datagrams the fast path passed on to the Python front end.",
    "dropped": "UDP datagrams dropped unread (responses, oversized datagrams).",
    "send_failures": "UDP answers the kernel would not send (a full buffer, a client gone).",
}


def front_end_metrics(stats: FrontEndStats) -> list[Metric]:
    """The Python path's queries, answers by RCODE and verdicts by action and category."""
    return [
        counter(
            f"{PREFIX}queries_total",
            "Queries the Python front end handled (the fast path's answers are not in it).",
            stats.queries,
        ),
        counter(
            f"{PREFIX}answers_total",
            "Answers of the Python front end, by RCODE (NOERROR, NXDOMAIN, SERVFAIL...).",
            {
                (("rcode", dns.rcode.to_text(dns.rcode.Rcode(code))),): n
                for code, n in stats.rcodes.items()
            },
        ),
        counter(
            f"{PREFIX}verdicts_total",
            "Filter verdicts, by action and category (fast-path hits of child lines included).",
            {
                (("action", action), ("category", category)): n
                for (action, category), n in stats.verdicts.items()
            },
        ),
    ]


def server_metrics(server: DnsServer) -> list[Metric]:
    metrics = upstream_metrics(server.front.upstream.stats)
    metrics += front_end_metrics(server.front.stats)
    limited = server.limiter.limited
    if server.fast is not None:
        stats = server.fast.memo.native.stats()
        limited = stats["limited"]
        metrics += [
            counter(f"{PREFIX}fast_path_{key}_total", text, stats[key])
            for key, text in FAST_PATH_HELP.items()
        ]
        metrics += [
            gauge(
                f"{PREFIX}fast_path_answers", "Answers the fast path holds.", stats["memo_entries"]
            ),
            gauge(
                f"{PREFIX}fast_path_lines", "Lines the fast path knows.", stats["source_entries"]
            ),
        ]
    metrics += [
        counter(
            f"{PREFIX}udp_rate_limited_total",
            "UDP queries dropped by the per-source rate limit.",
            limited,
        ),
        counter(
            f"{PREFIX}tcp_refused_connections_total",
            "TCP connections closed at once: over the cap in all or per source.",
            server.refused_connections,
        ),
        gauge(f"{PREFIX}tcp_connections", "TCP connections open now.", server.open_connections),
    ]
    return metrics
