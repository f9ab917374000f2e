"""What the DNS front end answers to one query: the filter's decision for the child's line.

For every query: read it (FORMERR or silence when it cannot be read), find whose line it is
from (the composition root's ``Identify``: source address, line option, client subnet; None
refuses it), decide the name with the same matcher and guardian-first rule as
``/filter/check``, count the verdict for the child, then answer: the block answer with an
Extended DNS Error naming the category, the SafeSearch name as a CNAME, or the upstream's
answer (cached). Zone transfers and SOA queries of our RPZ zones go to the transfer responder.

No exception leaves ``handle``: a failure we did not foresee is logged and answered SERVFAIL,
so one bad packet never costs other queries their answer.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rrset

from filters.activity.recorder import ActivityRecorder
from filters.check.metrics import category_label
from filters.check.router import Subject
from filters.check.schemas import CheckResult
from filters.check.service import GUARDIAN_SOURCE, verdict
from filters.dns import build
from filters.dns.build import BlockAnswer, Ede, EdeCode, Rcode
from filters.dns.cache import Answer
from filters.dns.fastpath import Memo, Reusable, steady_until
from filters.dns.safesearch import safe_name
from filters.dns.upstream import Upstream
from filters.dns.wire import (
    AXFR,
    CLASS_IN,
    CNAME,
    DO_BIT,
    HEADER,
    IXFR,
    OPT,
    QR,
    RD,
    RR_FIXED,
    SOA,
    FormatError,
    Query,
    name_wire,
    parse_query,
    read_header,
)
from filters.engine.matcher import classify
from filters.engine.normalize import InvalidTarget
from filters.engine.store import SnapshotStore
from filters.rpz.transfer_server import TransferServer

log = logging.getLogger(__name__)
SAFESEARCH_TTL = 300
BLOCK_LIFETIME = 2**31 - 1  # a block holds until the profile or the snapshot changes
UPSTREAM_FAILED = Ede(EdeCode.NO_REACHABLE_AUTHORITY, "upstream resolver did not answer")


class Identify(Protocol):
    async def __call__(
        self, source: str, line_option: bytes | None, client_subnet: bytes | None
    ) -> Subject | None:
        """The subject of a query from ``source``; None to refuse it; ``ValueError`` when an
        option's payload is malformed (FORMERR)."""
        ...


@dataclass
class FrontEndStats:
    """What the Python path answered since the process started (the native fast path counts
    its own answers); plain counters, bumped without locks on the event loop."""

    queries: int = 0
    rcodes: Counter[int] = field(default_factory=Counter)  # of the first message sent back
    verdicts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (action, category)

    def count_verdict(self, result: CheckResult, hits: int = 1) -> None:
        self.verdicts[(result.action, category_label(result))] += hits


@dataclass
class FrontEnd:
    store: SnapshotStore
    identify: Identify
    upstream: Upstream
    activity: ActivityRecorder
    block: BlockAnswer
    now: Callable[[], datetime]
    line_option_code: int
    transfers: TransferServer | None = None
    rpz_suffix: str = ""  # SOA queries for names under it are about our zones
    memo: Memo | None = None  # the UDP fast path's: what it may answer again without us
    stats: FrontEndStats = field(default_factory=FrontEndStats)

    async def handle(
        self, packet: bytes, peer: str, *, limit_udp: bool, identity: bytes | None = None
    ) -> list[bytes]:
        """The messages to send back for ``packet`` from ``peer`` (none: drop it). Over UDP
        (``limit_udp``) an answer larger than the client takes is truncated. ``identity``: the
        fast path's key for the line, when it may give the answer again (see ``memo``)."""
        self.stats.queries += 1
        try:
            messages = await self._handle(packet, peer, limit_udp, identity)
        except Exception:
            log.exception("answering a query from %s failed", peer)
            try:
                query = parse_query(packet, self.line_option_code)
            except FormatError:
                return []
            messages = [build.error(query, Rcode.SERVFAIL)]
        if messages and len(messages[0]) > 3:
            self.stats.rcodes[messages[0][3] & 0x0F] += 1  # the header's RCODE bits
        return messages

    async def refresh(self, packet: bytes, peer: str, identity: bytes) -> None:
        """Identify the line of ``packet`` again for the fast path (it answered the packet)."""
        if self.memo is None:
            return
        try:
            query = parse_query(packet, self.line_option_code)
            edns = query.edns
            subject = await self.identify(
                peer, edns.line_option if edns else None, edns.client_subnet if edns else None
            )
        except Exception:  # a failed refresh leaves the line as it was, until it goes stale
            log.exception("identifying the line of %s again failed", peer)
            return
        self.memo.refresh(identity, subject)

    async def _handle(
        self, packet: bytes, peer: str, limit_udp: bool, identity: bytes | None
    ) -> list[bytes]:
        try:
            query = parse_query(packet, self.line_option_code)
        except FormatError:
            header = read_header(packet)
            if header is None or header[1] & QR:
                return []  # not even a query's header, or a response: nobody to answer
            return [build.header_only(header[0], header[1], Rcode.FORMERR)]
        if query.opcode != 0:  # NOTIFY, UPDATE...: not ours; the header alone says so
            return [build.header_only(query.id, query.flags, Rcode.NOTIMP)]
        if query.edns is not None and query.edns.version != 0:
            return [build.error(query, Rcode.BADVERS)]
        if self._is_transfer(query):
            return await self._transfer(packet, peer, query, limit_udp)
        if query.qclass != CLASS_IN:
            return [build.error(query, Rcode.REFUSED)]
        edns = query.edns
        try:
            subject = await self.identify(
                peer,
                edns.line_option if edns else None,
                edns.client_subnet if edns else None,
            )
        except ValueError:
            return [build.error(query, Rcode.FORMERR)]
        if subject is None:
            return [build.error(query, Rcode.REFUSED)]
        limit = query.limit if limit_udp else None
        return [await self._filtered(query, subject, limit, identity)]

    def _is_transfer(self, query: Query) -> bool:
        if query.qtype in (AXFR, IXFR):
            return True
        name = query.name
        suffix = self.rpz_suffix
        return (
            query.qtype == SOA and bool(suffix) and (name == suffix or name.endswith("." + suffix))
        )

    async def _transfer(
        self, packet: bytes, peer: str, query: Query, limit_udp: bool
    ) -> list[bytes]:
        if self.transfers is None:
            return [build.error(query, Rcode.REFUSED)]
        messages = await self.transfers.responses(packet, peer, over_udp=limit_udp)
        if messages is None:
            return [build.error(query, Rcode.FORMERR)]
        return [m.to_wire() for m in messages]

    async def _filtered(
        self, query: Query, subject: Subject, limit: int | None, identity: bytes | None
    ) -> bytes:
        snapshot = self.store.current
        name = query.name
        if snapshot is None:
            # Before the first publish nothing can be decided: fail closed, as the check API
            # does (503), rather than let a child's line resolve everything unfiltered.
            return build.error(query, Rcode.SERVFAIL)
        now = self.now()
        result = None
        if name:
            profile = subject.profile
            try:
                target, decision = classify(
                    snapshot, name, profile.enabled_mask(now, snapshot.categories)
                )
            except InvalidTarget:
                pass  # not a host name (a space, a "*"): no list can name it; resolve it as is
            else:
                result = verdict(
                    name, target, decision, profile=profile, now=now, version=snapshot.version
                )
                self.stats.count_verdict(result)
                await self._count(subject.child_id, profile.timezone, result, now)
                if result.action == "block":
                    return self._blocked(query, subject, result, now, identity)
                safe = safe_name(target.host) if profile.safesearch else None
                if safe is not None:
                    return await self._safesearch(query, safe, limit)
        return await self._forward(query, limit, subject, result, now, identity)

    def _blocked(
        self,
        query: Query,
        subject: Subject,
        result: CheckResult,
        now: datetime,
        identity: bytes | None,
    ) -> bytes:
        rcode, body, counts = build.block_records(query, self.block)
        reason = _reason(result)
        if identity is not None and self.memo is not None:
            clock = self.memo.clock()
            answer = Answer(rcode, body, counts, (), (), BLOCK_LIFETIME)
            until = steady_until(subject.profile, now, clock)
            self.memo.remember(
                identity, subject, query, Reusable(answer, clock, reason, result, until)
            )
        return build.message(query, rcode, body=body, counts=counts, ede=reason)

    async def _count(
        self, child_id: uuid.UUID | None, timezone: str, result: CheckResult, now: datetime
    ) -> None:
        if child_id is not None:
            await self.activity.record(child_id, timezone, [result], now)

    async def _forward(
        self,
        query: Query,
        limit: int | None,
        subject: Subject,
        result: CheckResult | None,
        now: datetime,
        identity: bytes | None,
    ) -> bytes:
        do = query.edns is not None and query.edns.do
        found = await self.upstream.answer((*query.key, do), query.question, flags=query.flags)
        if found is None:
            return build.error(query, Rcode.SERVFAIL, UPSTREAM_FAILED)
        answer, age = found
        if identity is not None and self.memo is not None:
            clock = self.memo.clock()
            until = steady_until(subject.profile, now, clock)
            self.memo.remember(
                identity, subject, query, Reusable(answer, clock - age, None, result, until)
            )
        return answer.render(query, age, limit)

    async def _safesearch(self, query: Query, safe: str, limit: int | None) -> bytes:
        """A CNAME to the engine's SafeSearch name, and that name's records from upstream.

        Rare enough (a few names) to be built with dnspython."""
        response = dns.message.make_response(dns.message.from_wire(_plain(query)))
        response.flags |= dns.flags.RA
        owner = dns.name.from_wire(query.qname, 0)[0]
        target = dns.name.from_text(safe)
        response.answer.append(
            dns.rrset.from_text(owner, SAFESEARCH_TTL, "IN", "CNAME", target.to_text())
        )
        if query.qtype != CNAME:
            wire = name_wire(safe)
            question = wire + query.question[-4:]
            key = (wire, query.qtype, query.qclass, False)
            found = await self.upstream.answer(key, question, flags=query.flags)
            if found is None:
                return build.error(query, Rcode.SERVFAIL)
            answer, age = found
            stub = Query(0, query.flags & RD, wire, query.qtype, query.qclass, question, None)
            resolved = dns.message.from_wire(answer.render(stub, age))
            response.answer.extend(resolved.answer)
            response.set_rcode(resolved.rcode())
        try:
            return build.fit(query, response.to_wire(max_size=limit or 65_535), limit)
        except dns.exception.TooBig:
            return build.truncated(query)


def _plain(query: Query) -> bytes:
    """The query with its header, question and an OPT record without options (dnspython need
    not see the client's options, and the answer must not repeat them)."""
    opt = b""
    if query.edns is not None:
        opt = b"\x00" + RR_FIXED.pack(OPT, query.edns.udp_size, DO_BIT if query.edns.do else 0, 0)
    return HEADER.pack(query.id, query.flags, 1, 0, 0, 1 if opt else 0) + query.question + opt


def _reason(result: CheckResult) -> Ede:
    """The Extended DNS Error of a block: Filtered for the guardian's own entries, Blocked
    with the category for the published lists."""
    if result.rule is not None and result.rule.source_id == GUARDIAN_SOURCE:
        return Ede(EdeCode.FILTERED, "guardian")
    category = result.categories[0] if result.categories else ""
    return Ede(EdeCode.BLOCKED, f"category: {category}")
