"""Wiring the DNS front end (``parental dns``): line identity, the snapshot in force, the
verdict tally, the upstream resolvers and the RPZ transfer responder, around one listener.

The process keeps itself current the way the API does: it follows publish notices for the
snapshot and binding notices for the line index, and flushes its verdict counts every few
seconds (and on shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from filters.check.router import Subject
from filters.check.subjects import UNHEARD_SECONDS
from filters.dns.build import BlockAnswer
from filters.dns.cache import AnswerCache
from filters.dns.fastpath import Memo, native_fast_path
from filters.dns.frontend import FrontEnd
from filters.dns.metrics import serve_metrics
from filters.dns.ratelimit import SourceLimiter
from filters.dns.server import DnsServer, serve_dns
from filters.dns.server_metrics import server_metrics
from filters.dns.upstream import Upstream, parse_address
from filters.rpz.transfer_server import TransferServer, networks
from parental.filter_activity import run_flusher
from parental.kit import heap
from parental.lines.identity import LineIdentity
from parental.notifications.notify import subscribe as subscribe_notifications
from parental.rpz import category_zones
from parental.runtime import Runtime
from parental.settings import BlockMode, ParentalSettings

log = logging.getLogger(__name__)


def block_answer(settings: ParentalSettings) -> BlockAnswer:
    return BlockAnswer(
        nxdomain=settings.dns_block_mode is BlockMode.NXDOMAIN,
        ipv4=settings.dns_block_page_ipv4.packed,
        ipv6=settings.dns_block_page_ipv6.packed,
        ttl=settings.dns_block_ttl_seconds,
    )


def fast_path_memo(settings: ParentalSettings) -> Memo | None:
    """The UDP fast path's memo, unless the extension is missing or the settings turn it off."""
    native = native_fast_path()
    if native is None or settings.dns_fast_path_size <= 0:
        return None
    return Memo(
        native(
            settings.dns_fast_path_size, settings.dns_fast_path_size, settings.line_edns_option_code
        ),
        # The memo asks the line's identity again this often (answered from what the identity
        # remembers until a change voids it): a change reaches the C path within a second.
        subject_seconds=min(settings.filter_subject_cache_seconds, UNHEARD_SECONDS),
        max_ttl=settings.dns_cache_max_ttl_seconds,
    )


@asynccontextmanager
async def dns_front_end(
    runtime: Runtime, *, host: str | None = None, port: int | None = None
) -> AsyncIterator[DnsServer]:
    """The front end listening (on the settings' address unless given) until the block ends."""
    settings = runtime.settings
    identity = LineIdentity(runtime)

    async def identify(
        source: str, line_option: bytes | None, client_subnet: bytes | None
    ) -> Subject | None:
        return await identity.subject(source, line_option=line_option, client_subnet=client_subnet)

    upstream = Upstream(
        [parse_address(item) for item in settings.dns_upstreams],
        settings.dns_upstream_timeout_seconds,
        AnswerCache(settings.dns_cache_size, max_ttl=settings.dns_cache_max_ttl_seconds),
    )
    front = FrontEnd(
        store=runtime.snapshots,
        identify=identify,
        upstream=upstream,
        activity=runtime.activity,
        block=block_answer(settings),
        now=runtime.clock.now,
        line_option_code=settings.line_edns_option_code,
        transfers=TransferServer(
            category_zones(runtime),
            networks(settings.rpz_transfer_clients),
            settings.rpz_ixfr_window,
        ),
        rpz_suffix=settings.rpz_zone_suffix.strip(".").lower(),
        memo=fast_path_memo(settings),
    )
    await identity.start()
    runtime.snapshots.refresh()
    subscription = await runtime.snapshots.open_notices(runtime.notices)
    tasks = [
        asyncio.create_task(runtime.snapshots.watch(subscription)),
        asyncio.create_task(run_flusher(runtime)),
    ]
    try:
        server = await serve_dns(
            front,
            settings.dns_host if host is None else host,
            settings.dns_port if port is None else port,
            idle_seconds=settings.dns_tcp_idle_seconds,
            limiter=SourceLimiter(
                settings.dns_udp_rate_per_source,
                settings.dns_udp_burst,
                settings.dns_rate_limit_exempt,
            ),
            max_connections=settings.dns_tcp_max_connections,
            max_per_source=settings.dns_tcp_max_per_source,
        )
        metrics = None
        if settings.dns_metrics_port:
            metrics = await serve_metrics(
                settings.dns_metrics_host,
                settings.dns_metrics_port,
                lambda: server_metrics(server),
            )
        try:
            yield server
        finally:
            if metrics is not None:
                metrics.close()
                await metrics.wait_closed()
            await server.close()
    finally:
        upstream.close()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if subscription is not None:
            await subscription.close()
        await identity.stop()


async def serve_forever(runtime: Runtime, *, host: str | None, port: int | None) -> None:
    """``parental dns``: serve until SIGTERM or SIGINT, then stop cleanly (the last verdict
    counts are written on the way out)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    subscribe_notifications(runtime)  # a page blocked for self-harm tells the guardians
    async with dns_front_end(runtime, host=host, port=port) as server:
        log.info("DNS front end on %s port %s", host or runtime.settings.dns_host, server.port)
        heap.settle()
        await stop.wait()
