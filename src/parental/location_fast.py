"""The location fast paths' backends (``telemetry.locations.fast`` and ``fast_upload``): what
lets them answer a guardian's latest-position read or store a device's upload without the
framework, once the documented route (``parental.locations``) has left a grant that still
holds: the grant, the audit row, the device's rate limit and its group of uploads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from parental import locations
from parental.audit import service as audit
from parental.children import grants
from parental.children.grants import ReadGrant
from parental.kit.cache import Cache
from parental.kit.events import Event
from parental.notifications.notify import notify
from parental.runtime import Runtime
from telemetry.locations import stream
from telemetry.locations.schemas import FixCreate
from telemetry.locations.service import Outlets, Policy, Stored, Upload


@dataclass
class GrantedViewer:
    """The fast path's ``Audit``: a guardian vouched for by a read grant."""

    runtime: Runtime
    grant: ReadGrant
    ip: str

    @property
    def check_key(self) -> str:
        return grants.access_key(self.grant.child_id)

    def holds(self, value: bytes | None) -> bool:
        return self.grant.holds(value)

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        await self.runtime.audit.record(
            at=self.runtime.clock.now(),
            action=action,
            actor=audit.Actor("guardian", str(self.grant.account_id)),
            family_id=self.grant.family_id,
            child_id=self.grant.child_id,
            subject_type="child",
            subject_id=self.grant.child_id,
            child_visible=True,
            ip=self.ip,
            details=details,
        )


@dataclass
class FastLocations:
    """The fast path's ``Backend``: read grants, the cache, and the audit writer."""

    runtime: Runtime

    @property
    def cache(self) -> Cache:
        return self.runtime.cache

    @property
    def policy(self) -> Policy:
        return locations.location_policy(self.runtime.settings)

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def viewer(
        self, scope: Scope, token: str, child_id: uuid.UUID, now: datetime
    ) -> GrantedViewer | None:
        grant = self.runtime.grants.get(token, child_id, now)
        if grant is None:
            return None
        client = scope.get("client")
        return GrantedViewer(self.runtime, grant, client[0] if client else "unknown")


@dataclass
class GrantedDevice:
    """The upload fast path's ``Device``: a child's device vouched for by its grant."""

    runtime: Runtime
    grant: ReadGrant

    @property
    def check_key(self) -> str:
        return grants.access_key(self.grant.child_id)

    def holds(self, value: bytes | None) -> bool:
        return self.grant.holds(value)

    @property
    def watched_key(self) -> str:
        return stream.watched_key(self.grant.child_id)

    @property
    def outlets(self) -> Outlets:
        return Outlets(self.runtime.cache, self.runtime.notices, self.runtime.bus)

    @property
    def cache_seconds(self) -> int:
        return self.runtime.settings.location_latest_cache_seconds

    async def admit(self) -> None:
        rule = locations.upload_rule(self.runtime.settings)
        await self.runtime.limiter.hit(rule, str(self.device_id))

    @property
    def device_id(self) -> uuid.UUID:
        return self.grant.account_id

    async def store(self, fixes: Sequence[FixCreate]) -> Stored:
        runtime = self.runtime
        upload = Upload(
            self.grant.child_id,
            self.device_id,
            fixes,
            locations.location_policy(runtime.settings).limits(carrier=False),
            locations.fix_listeners(runtime, timezone=self.grant.timezone),
        )

        async def keep_events(session: AsyncSession, events: Sequence[Event]) -> None:
            await notify(session, runtime, events)

        return await runtime.uploads.store(upload, keep_events=keep_events)


@dataclass
class FastUploads:
    """The upload fast path's ``Backend``: device grants and the cache."""

    runtime: Runtime

    @property
    def cache(self) -> Cache:
        return self.runtime.cache

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def device(self, token: str, now: datetime) -> GrantedDevice | None:
        grant = self.runtime.grants.get_device(token, now)
        return GrantedDevice(self.runtime, grant) if grant is not None else None


def fast_upload_backend(scope: Scope) -> FastUploads | None:
    runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
    return FastUploads(runtime) if runtime is not None else None


def fast_location_backend(scope: Scope) -> FastLocations | None:
    runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
    return FastLocations(runtime) if runtime is not None else None
