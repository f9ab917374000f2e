"""Line bindings: which address a child line holds now, from the carrier's RADIUS accounting.

Start and Interim create or refresh a session's binding until ``now + ttl``; Stop ends it.
Events are idempotent per session: a retried Start or Interim refreshes the same binding, a
retried Stop changes nothing, and an event of a session that has ended (stopped, replaced, or
its line deactivated) is ignored, so a late retransmission never revives an old session.

Addresses are reused by the carrier's pool: a new session on an address ends every other live
binding of that same network, whichever line held it.

Only child SIMs are bound. An event for a registered line that is not a child SIM is accepted
and ignored (202): the carrier's bridge may forward accounting of every registered line, and a
4xx would only make it retry, while storing such an address would keep personal data we have
no use for. Unknown lines (404) and inactive ones (409) are errors: the carrier's own register
disagrees with its accounting, which its staff should hear about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parental.lines import repository
from parental.lines.addresses import candidate_networks, parse_address, parse_network
from parental.lines.errors import (
    BindingNotFound,
    InvalidBindingAddress,
    LineInactive,
    LineNotFound,
    SessionMismatch,
)
from parental.lines.models import Line, LineBinding
from parental.lines.schemas import BindingEventKind, BindingStatus

CHANNEL = "lines.bindings"


@dataclass(frozen=True)
class Outcome:
    status: BindingStatus
    binding: LineBinding | None = None
    line: Line | None = None
    reason: str | None = None
    changed: bool = False  # whether other processes must reload


def network_of(raw: str) -> str:
    """The canonical network of a binding's address; 400 if it is not one we bind."""
    try:
        return parse_network(raw).text
    except ValueError as exc:
        raise InvalidBindingAddress(f"{InvalidBindingAddress.message} ({exc})") from exc


async def record_event(
    session: AsyncSession,
    *,
    msisdn: str,
    ip: str,
    event: BindingEventKind,
    session_id: str,
    ttl: timedelta,
    now: datetime,
) -> Outcome:
    """Apply one accounting event; every check comes before the first change."""
    network = network_of(ip)
    line = await repository.get_line_by_msisdn(session, msisdn)
    if line is None:
        raise LineNotFound()
    if not line.active:
        raise LineInactive()
    if not line.is_child_sim:
        return Outcome(BindingStatus.IGNORED, reason="not_child_sim")
    binding = await repository.binding_by_session(session, session_id)
    if binding is not None and (binding.line_id != line.id or binding.network != network):
        raise SessionMismatch()
    if event is BindingEventKind.STOP:
        if binding is None:
            return Outcome(BindingStatus.IGNORED, reason="unknown_session")
        if binding.ended_at is not None:
            return Outcome(BindingStatus.ENDED, binding, line)
        binding.ended_at = binding.updated_at = now
        binding.expires_at = min(binding.expires_at, now)
        binding.end_reason = "stop"
        return Outcome(BindingStatus.ENDED, binding, line, changed=True)
    if binding is not None and (binding.ended_at is not None or binding.expires_at <= now):
        return Outcome(BindingStatus.IGNORED, binding, line, reason="session_ended")
    if binding is None:
        await repository.end_bindings(
            session, now=now, reason="replaced", network=network, keep_session=session_id
        )
        binding = LineBinding(
            session_id=session_id,
            line_id=line.id,
            network=network,
            started_at=now,
            expires_at=now + ttl,
            updated_at=now,
        )
        await repository.add(session, binding)
    else:
        binding.expires_at = max(binding.expires_at, now + ttl)
        binding.updated_at = now
    return Outcome(BindingStatus.ACTIVE, binding, line, changed=True)


async def end_line_bindings(session: AsyncSession, line: Line, now: datetime) -> int:
    """The line was deactivated or is no longer a child SIM: its addresses map to nothing."""
    return await repository.end_bindings(session, now=now, reason="line", line_id=line.id)


async def binding_for_address(
    session: AsyncSession, ip: str, now: datetime
) -> tuple[LineBinding, Line]:
    """The live binding an address maps to now, as the DNS front end's index would pick it
    (IPv4 exact, IPv6 the longest prefix); 404 when none."""
    try:
        version, value = parse_address(ip.strip())
    except ValueError as exc:
        raise InvalidBindingAddress(f"{InvalidBindingAddress.message} ({exc})") from exc
    candidates = candidate_networks(version, value)
    rank = {network: i for i, network in enumerate(candidates)}
    found = await repository.live_bindings_in(session, candidates, now)
    if not found:
        raise BindingNotFound()
    # Newest first from SQL; a stable sort keeps that order among equal prefixes.
    return sorted(found, key=lambda pair: rank[pair[0].network])[0]


async def purge(session: AsyncSession, *, before: datetime) -> int:
    return await repository.purge_bindings(session, before)
