"""Who a DNS query is from, and so which filter subject applies: what the DNS front end calls.

A query names its line in one of three ways, most explicit first:

1. the private EDNS0 option (``line_edns_option_code``) with the MSISDN or a device id, set by
   a resolver of the carrier in front of us;
2. EDNS Client Subnet with the client's full address (an IPv4 /32, or an IPv6 prefix at least
   as long as the binding it should match), looked up in the binding index;
3. the query's source address, looked up in the binding index.

The line's child gets the child's profile, counted for the child only while monitoring applies
(``FilterCaller.subject``: an adult, an ended contract or a line that is no longer a child SIM
counts for nobody). A line without a child record, or a source nobody claims, gets the default
profile, or ``None`` (refuse the query) when ``line_unknown_sources`` says so.

Subjects are remembered per line (and per MSISDN or device) like the HTTP check path's
(``filters.check.subjects``): until the child's next change, heard through notices. Without
shared notices (no Redis) this process hears of no change made elsewhere, and re-reads a
subject after ``UNHEARD_SECONDS``, as it does a line no child is on yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from filters.check.router import Subject
from filters.check.service import default_profile
from filters.check.subjects import UNHEARD_SECONDS, Following, SubjectCache
from parental.children import repository as children
from parental.devices import repository as devices
from parental.filtering import FilterCaller, Resolved
from parental.kit.db import transaction
from parental.kit.notices import Subscription
from parental.kit.phone import InvalidPhoneNumber, normalize_e164
from parental.lines import repository
from parental.lines.addresses import MIN_V6_PREFIX
from parental.lines.edns import parse_client_subnet, parse_line_option
from parental.lines.index_store import BindingIndexStore
from parental.runtime import Runtime, subject_seconds
from parental.settings import UnknownSources

Key = tuple[str, None]


class LineIdentity:
    """One per DNS front-end process: ``start`` it, then ask ``subject`` for every query."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.option_code = settings.line_edns_option_code
        self.index = BindingIndexStore(
            runtime.sessions,
            runtime.clock,
            poll_seconds=settings.line_binding_poll_seconds,
            rebuild_seconds=settings.line_binding_rebuild_seconds,
        )
        self._subjects = SubjectCache(subject_seconds(settings, runtime.notices))
        self._following: Following | None = None
        self._unknown: Subject | None = None
        if settings.line_unknown_sources is UnknownSources.DEFAULT:
            self._unknown = Subject(default_profile(settings.default_child_timezone))
        self._watcher: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        """Load the index and follow binding changes until ``stop``."""
        await self.index.rebuild()
        self._subscription = await self.index.open_notices(self.runtime.notices)
        self._watcher = asyncio.create_task(self.index.watch(self._subscription))
        self._following = await self._subjects.listen(self.runtime.notices)

    async def stop(self) -> None:
        if self._following is not None:
            await self._following.stop()
            self._following = None
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None

    async def subject(
        self,
        source: str | bytes,
        *,
        line_option: bytes | None = None,
        client_subnet: bytes | None = None,
    ) -> Subject | None:
        """The subject for a query from ``source`` (text, or packed 4/16 bytes) with these
        EDNS0 option payloads; None to refuse it. A malformed payload raises ``ValueError``
        (answer FORMERR)."""
        if line_option is not None:
            hint = parse_line_option(line_option)
            if hint.msisdn is not None:
                return await self._by_msisdn(hint.msisdn)
            assert hint.device_id is not None
            return await self._by_device(hint.device_id)
        address, widest = source, 128
        if client_subnet is not None:
            subnet = parse_client_subnet(client_subnet)
            wide_enough = subnet.full_width or (
                subnet.family == 2 and subnet.source_prefix >= MIN_V6_PREFIX
            )
            if not wide_enough:
                return self._unknown  # a /24 of many clients names no line
            address, widest = subnet.address, subnet.source_prefix
        now = self.runtime.clock.now().timestamp()
        bound = self.index.current.lookup(address, now=now, widest=widest)
        if bound is None:
            return self._unknown
        return await self._cached(("line:" + str(bound.line_id), None), bound.line_id)

    async def _by_msisdn(self, raw: str) -> Subject | None:
        key: Key = ("msisdn:" + raw, None)
        if (hit := self._subjects.get(key, self.runtime.clock.now())) is not None:
            return hit
        try:
            msisdn = normalize_e164(raw, regions=self.runtime.settings.carrier_regions)
        except InvalidPhoneNumber:
            return self._unknown
        async with transaction(self.runtime.sessions) as session:
            line = await repository.get_line_by_msisdn(session, msisdn)
        return self._unknown if line is None else await self._cached(key, line.id)

    async def _by_device(self, device_id: uuid.UUID) -> Subject | None:
        key: Key = ("device:" + str(device_id), None)
        if (hit := self._subjects.get(key, self.runtime.clock.now())) is not None:
            return hit
        epoch = self._subjects.epoch()
        async with transaction(self.runtime.sessions) as session:
            device = await devices.get_device(session, device_id)
            if device is None or device.revoked_at is not None:
                return self._unknown
            caller = FilterCaller("carrier", "dns", device.child_id, session, self.runtime)
            resolved = await caller.resolve(None)
        self._keep(key, resolved, epoch, device.child_id)
        return resolved.subject

    async def _cached(self, key: Key, line_id: uuid.UUID) -> Subject:
        if (hit := self._subjects.get(key, self.runtime.clock.now())) is not None:
            return hit
        epoch = self._subjects.epoch()
        async with transaction(self.runtime.sessions) as session:
            child = await children.by_line(session, line_id)
            child_id = child.id if child else None
            caller = FilterCaller("carrier", "dns", child_id, session, self.runtime)
            resolved = await caller.resolve(None)
        self._keep(key, resolved, epoch, child_id)
        return resolved.subject

    def _keep(self, key: Key, resolved: Resolved, epoch: int, child_id: uuid.UUID | None) -> None:
        """Remember a line's or device's subject until its child changes; a line no child is
        on yet is read again after ``UNHEARD_SECONDS`` (adding a child voids nothing kept)."""
        ttl = None if child_id is not None else UNHEARD_SECONDS
        self._subjects.put(
            key, resolved.subject, child_id=child_id, epoch=epoch, until=resolved.until, ttl=ttl
        )
