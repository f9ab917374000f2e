"""Wiring the content filter into the API: who may ask for verdicts with which profile, and
the guardian's routes for a child's filter profile."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from filters.activity.recorder import ActivityRecorder
from filters.check.errors import ProfileNotFound
from filters.check.router import Subject, create_router
from filters.check.service import default_profile
from filters.check.subjects import Key
from filters.engine.store import SnapshotStore
from filters.profiles import repository as profiles_repository
from filters.profiles import service as profiles
from filters.profiles.errors import EntryNotFound, InvalidEntry, InvalidSchedule, UnknownCategory
from filters.profiles.models import FilterProfile
from filters.profiles.schemas import EntryCreate, EntryRead, ProfileRead, ProfileUpdate
from parental.admin import service as staff
from parental.admin.errors import InvalidStaffToken
from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children
from parental.children import service as children_service
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound
from parental.children.grants import monitoring_ends_at
from parental.children.models import Child
from parental.children.monitoring import local_today
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices import service as devices
from parental.devices.errors import InvalidDeviceToken
from parental.kit.db import after_commit, transaction
from parental.kit.errors import Unauthorized, error_responses
from parental.kit.security import keyed_hash
from parental.lines import service as lines
from parental.lines.errors import InvalidServiceKey
from parental.runtime import Runtime

log = logging.getLogger(__name__)

filter_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="FilterCaller",
    description="A carrier service key (sk_...), a device token (dt_...) or a staff token",
)


class InvalidFilterCaller(Unauthorized):
    message = "A carrier service key, a device token or a staff token is required."


async def child_profile(session: AsyncSession, runtime: Runtime, child: Child) -> FilterProfile:
    now = runtime.clock.now()
    return await profiles.profile_for_child(
        session,
        child_id=child.id,
        birthdate=child.birthdate,
        timezone=child.timezone,
        today=local_today(now, child.timezone),
        now=now,
    )


@dataclass(frozen=True)
class Resolved:
    """A caller's subject, and what decides how long it holds (``filters.check.subjects``)."""

    subject: Subject
    child_id: uuid.UUID | None  # the child whose profile it is: their changes void it
    until: datetime | None  # when the clock alone changes it


@dataclass
class FilterCaller:
    """Who asks for verdicts: the carrier, a child's device (its own child only) or staff."""

    kind: str
    name: str
    child_id: uuid.UUID | None
    session: AsyncSession
    runtime: Runtime
    expires: datetime | None = None  # the caller's token, when it expires (staff)

    async def subject(self, profile_id: str | None) -> Subject:
        """The profile for this request, and the child its verdicts count for."""
        return (await self.resolve(profile_id)).subject

    async def resolve(self, profile_id: str | None) -> Resolved:
        """``subject``, with what voids it.

        Verdicts count for a child only when they are the child's own traffic (the carrier's
        resolver or the child's device asking) and monitoring applies to the child; a curator
        trying a child's profile counts for nobody.
        """
        if profile_id is None:
            child = await children.get(self.session, self.child_id) if self.child_id else None
            if child is None:
                profile = default_profile(self.runtime.settings.default_child_timezone)
                return Resolved(Subject(profile), None, self.expires)
            row = await child_profile(self.session, self.runtime, child)
        else:
            try:
                wanted = uuid.UUID(profile_id)
            except ValueError as exc:
                raise ProfileNotFound() from exc
            found = await profiles_repository.get(self.session, wanted)
            if found is None or (self.child_id is not None and found.child_id != self.child_id):
                raise ProfileNotFound()
            row = found
        profile = await profiles.engine_profile(self.session, row)
        counted, ends = await self._counted_child(row.child_id)
        now = self.runtime.clock.now()
        moments = [e.expires_at for e in profile.entries if e.expires_at and e.expires_at > now]
        moments += [m for m in (ends, self.expires) if m is not None]
        return Resolved(Subject(profile, counted), row.child_id, min(moments, default=None))

    async def _counted_child(self, child_id: uuid.UUID) -> tuple[uuid.UUID | None, datetime | None]:
        """The child verdicts count for (None: nobody), and when that ends by age."""
        if self.kind == "staff":
            return None, None
        child = await children.get(self.session, child_id)
        if child is None:
            return None, None
        status = await children_service.monitoring_of(self.session, child, self.runtime.clock.now())
        if not status.active:
            return None, None
        return child.id, monitoring_ends_at(child, status)


async def authenticate_caller(session: AsyncSession, runtime: Runtime, token: str) -> FilterCaller:
    """The carrier's resolver, a child's device (in-app browsing) or staff, by their token."""
    try:
        if token.startswith("sk_"):
            key = await lines.authenticate_service_key(session, key=token, secret=runtime.secret)
            return FilterCaller("carrier", key.name, None, session, runtime)
        if token.startswith("dt_"):
            device = await devices.authenticate(session, runtime, token)
            return FilterCaller("device", str(device.id), device.child_id, session, runtime)
        member, expires = await staff.authenticate_until(session, runtime, token)
        return FilterCaller("staff", str(member.id), None, session, runtime, expires)
    except (InvalidServiceKey, InvalidDeviceToken, InvalidStaffToken) as exc:
        raise InvalidFilterCaller() from exc


async def filter_caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(filter_bearer)],
    session: SessionDep,
    runtime: RuntimeDep,
) -> FilterCaller:
    if credentials is None:
        raise InvalidFilterCaller()
    return await authenticate_caller(session, runtime, credentials.credentials)


class FastBackend:
    """What the framework-free ``/v1/filter/check`` path needs of this process.

    Who a token is and which subject it gets are remembered (``runtime.subjects``) until a
    change voids them, so a process answering thousands of checks a second asks the database
    about a caller once, not on every check. A device's token is remembered under its child:
    revoking the device voids it. A carrier key is remembered until any key is revoked.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.snapshots
        self.activity = runtime.activity

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def subject(self, token: str, profile_id: str | None) -> Subject | None:
        cache = self.runtime.subjects
        key = (keyed_hash(self.runtime.secret, token), profile_id)
        cached = cache.get(key, self.now())
        if cached is None:
            return await self._read(key, token, profile_id)
        if cache.renewing(key):
            self.runtime.spawn(self._renew(key, token, profile_id))
        return cached

    async def _read(self, key: Key, token: str, profile_id: str | None) -> Subject | None:
        """The caller's subject from the database, remembered; None (and nothing remembered)
        when the token or the profile is not valid for this caller."""
        cache = self.runtime.subjects
        epoch = cache.epoch()
        try:
            async with transaction(self.runtime.sessions) as session:
                caller = await authenticate_caller(session, self.runtime, token)
                resolved = await caller.resolve(profile_id)
        except (InvalidFilterCaller, ProfileNotFound):
            cache.discard(key)
            return None
        # A device's token is voided with its child even when it gets the default profile.
        follows = resolved.child_id or caller.child_id
        cache.put(key, resolved.subject, child_id=follows, epoch=epoch, until=resolved.until)
        return resolved.subject

    async def _renew(self, key: Key, token: str, profile_id: str | None) -> None:
        try:
            await self._read(key, token, profile_id)
        except Exception:  # the one in use stays until it expires; the next check tries again
            log.warning("reading a filter subject again failed", exc_info=True)


def fast_backend(scope: Scope) -> FastBackend | None:
    runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
    return FastBackend(runtime) if runtime is not None else None


async def snapshot_store(runtime: RuntimeDep) -> SnapshotStore:
    return runtime.snapshots


async def clock_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


async def activity_recorder(runtime: RuntimeDep) -> ActivityRecorder:
    return runtime.activity


def filter_check_router() -> APIRouter:
    return create_router(
        caller=filter_caller,
        store=snapshot_store,
        recorder=activity_recorder,
        now=clock_now,
        caller_errors=(InvalidFilterCaller,),
    )


profile_router = APIRouter(
    tags=["filter profiles"], responses=error_responses(InvalidAccessToken, ChildNotFound)
)
PROFILE = "/children/{child_id}/filter-profile"


async def _record(
    session: AsyncSession,
    runtime: Runtime,
    child: Child,
    account_id: uuid.UUID,
    action: str,
    ip: str,
    details: dict[str, object] | None = None,
) -> None:
    """Audit a profile edit; once it commits, every process filters the child's traffic with
    the new profile."""
    after_commit(session, lambda: runtime.forget_subjects([child.id]))
    await audit.record(
        session,
        at=runtime.clock.now(),
        action=action,
        actor=audit.Actor("guardian", str(account_id)),
        family_id=child.family_id,
        child_id=child.id,
        subject_type="filter_profile",
        subject_id=child.id,
        child_visible=True,
        ip=ip,
        details=details,
    )


@profile_router.get(PROFILE)
async def get_filter_profile(
    child: OwnedChild, session: SessionDep, runtime: RuntimeDep
) -> ProfileRead:
    """The child's filter profile: categories, schedules and the guardian's own entries."""
    return await profiles.read(session, await child_profile(session, runtime, child))


@profile_router.patch(PROFILE, responses=error_responses(UnknownCategory, InvalidSchedule))
async def update_filter_profile(
    body: ProfileUpdate,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> ProfileRead:
    """Turn categories on or off, schedule them, or change SafeSearch."""
    row = await child_profile(session, runtime, child)
    await profiles.update(session, row, body, now=runtime.clock.now())
    changed = sorted((body.categories or {}).keys())
    await _record(
        session,
        runtime,
        child,
        account.id,
        "filter.profile_updated",
        ip,
        {"categories": changed, "safesearch": body.safesearch},
    )
    return await profiles.read(session, row)


@profile_router.post(
    PROFILE + "/entries",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(InvalidEntry),
)
async def create_filter_entry(
    body: EntryCreate,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> EntryRead:
    """Allow or block a name for this child, for good or until ``expires_at``."""
    row = await child_profile(session, runtime, child)
    entry = await profiles.add_entry(
        session, row, body, actor=f"guardian:{account.id}", now=runtime.clock.now()
    )
    await _record(
        session,
        runtime,
        child,
        account.id,
        "filter.entry_added",
        ip,
        {"host": entry.host, "action": entry.action},
    )
    return profiles.entry_read(entry)


@profile_router.delete(
    PROFILE + "/entries/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(EntryNotFound),
)
async def delete_filter_entry(
    entry_id: uuid.UUID,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> None:
    """Remove one of the guardian's entries."""
    row = await child_profile(session, runtime, child)
    await profiles.remove_entry(session, row, entry_id, now=runtime.clock.now())
    await _record(session, runtime, child, account.id, "filter.entry_removed", ip)
