"""The process's shared resources, built once from settings and closed on shutdown."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from filters.activity.querylog import QueryLogSampler
from filters.activity.recorder import ActivityRecorder
from filters.check import subjects
from filters.check.subjects import SubjectCache
from filters.curation.progress import ImportTasks
from filters.engine.store import SnapshotStore
from parental.audit.writer import AuditWriter
from parental.children.grants import ReadGrants, revoke_reads
from parental.kit.cache import Cache, create_cache
from parental.kit.clock import Clock, SystemClock
from parental.kit.db import create_engine, create_session_factory, transaction
from parental.kit.events import EventBus
from parental.kit.notices import Notices, create_notices, reaches_other_processes
from parental.kit.ratelimit import RateLimiter
from parental.kit.settings import KitSettings, get_kit_settings
from parental.notifications import live
from parental.notifications.fcm import PushSender
from parental.settings import ParentalSettings, SmsBackend, get_parental_settings
from parental.sms.sender import HttpSmsGateway, LogSmsSender, SmsSender
from telemetry.locations.groups import UploadGroups

log = logging.getLogger(__name__)

SPAWNED_GRACE_SECONDS = 5.0


@dataclass
class Runtime:
    kit: KitSettings
    settings: ParentalSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cache: Cache
    limiter: RateLimiter
    clock: Clock
    sms: SmsSender
    notices: Notices
    snapshots: SnapshotStore
    bus: EventBus = field(default_factory=EventBus)
    activity: ActivityRecorder = field(init=False)
    subjects: SubjectCache = field(init=False)
    grants: ReadGrants = field(init=False)
    audit: AuditWriter = field(init=False)
    uploads: UploadGroups = field(init=False)
    push: PushSender = field(init=False)
    imports: ImportTasks = field(init=False)  # list imports started from the console
    _spawned: set[asyncio.Task[None]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.activity = ActivityRecorder(
            self.bus,
            QueryLogSampler(
                allowed_one_in=self.settings.filter_query_log_allowed_one_in,
                rows_per_day=self.settings.filter_query_log_rows_per_day,
            ),
        )
        self.subjects = SubjectCache(subject_seconds(self.settings, self.notices))
        self.grants = ReadGrants(self.settings.guardian_read_grant_seconds)
        self.audit = AuditWriter(self.sessions)
        self.uploads = UploadGroups(
            lambda: transaction(self.sessions), now=lambda: self.clock.now()
        )
        self.push = PushSender(self.settings)
        self.imports = ImportTasks()
        # Commits that wrote notifications wake the dispatchers and the inbox streams.
        live.bind(self.sessions, lambda: self.notices)

    def forget_subjects(self, child_ids: Iterable[uuid.UUID] | None) -> None:
        """What decides how these children's traffic is filtered (None: anyone's) has changed
        and committed: this process filters with what the database holds now at once, the
        others when the notice reaches them (``filters.check.subjects``). Call after commit,
        as ``kit.db.after_commit`` does; needs a running event loop for the notice."""
        ids = None if child_ids is None else list(child_ids)
        if ids is None:
            self.subjects.clear()
        elif ids:
            self.subjects.forget(ids)
        else:
            return
        self.spawn(self.tell_subjects(ids))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on this process's loop without waiting for it (it logs its own
        failures); ``close`` waits for what is still running."""
        task = asyncio.get_running_loop().create_task(work)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def tell_subjects(self, child_ids: list[uuid.UUID] | None) -> None:
        """The other processes' part of ``forget_subjects``; a failure is logged (they
        forget within ``filter_subject_cache_seconds``)."""
        try:
            notice = subjects.message(child_ids, origin=self.subjects.origin)
            await self.notices.publish(subjects.CHANNEL, notice)
        except Exception:
            log.warning("telling other processes of a filter change failed", exc_info=True)

    async def revoke_access(self, child_ids: Iterable[uuid.UUID]) -> None:
        """Something that decides access to these children changed (a guardian, the child,
        the line, a device, consent) and has committed: void the fast paths' read grants
        (``children.grants``) and the filter's subjects, in every process."""
        ids = list(child_ids)
        await revoke_reads(self.grants, self.cache, ids)
        self.forget_subjects(ids)

    @property
    def secret(self) -> str:
        return self.kit.secret_key.get_secret_value()

    @property
    def is_embedded_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def close(self) -> None:
        if self._spawned:  # a notice being sent, a subject read again: a few seconds at most
            _, late = await asyncio.wait(self._spawned, timeout=SPAWNED_GRACE_SECONDS)
            for task in late:
                task.cancel()
        await self.imports.close()  # first: they record their interruption in the database
        await self.uploads.close()
        await self.audit.close()
        await self.push.close()
        await self.sms.close()
        await self.cache.close()
        await self.limiter.close()
        await self.notices.close()
        await self.engine.dispose()


def subject_seconds(settings: ParentalSettings, notices: Notices) -> float:
    """How long a process remembers a filter subject: ``filter_subject_cache_seconds``, or
    ``UNHEARD_SECONDS`` without shared notices (no Redis), when a change made by another
    process (``parental carrier revoke-key``, the API for the DNS front end) is not heard."""
    seconds = settings.filter_subject_cache_seconds
    if not reaches_other_processes(notices):
        seconds = min(seconds, subjects.UNHEARD_SECONDS)
    return seconds


def create_sms_sender(settings: ParentalSettings) -> SmsSender:
    if settings.sms_backend is SmsBackend.HTTP:
        assert settings.sms_gateway_url is not None
        token = (
            settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        )
        return HttpSmsGateway(
            settings.sms_gateway_url,
            token=token,
            sender_id=settings.sms_sender_id,
            timeout=settings.sms_timeout_seconds,
        )
    return LogSmsSender()


def build_runtime(
    kit: KitSettings | None = None,
    settings: ParentalSettings | None = None,
    *,
    clock: Clock | None = None,
    sms: SmsSender | None = None,
) -> Runtime:
    """Resources for one process; arguments override what the environment says (tests, CLI)."""
    kit = kit or get_kit_settings()
    settings = settings or get_parental_settings()
    engine = create_engine(
        kit.resolved_database_url,
        echo=kit.sql_echo,
        pool_size=kit.db_pool_size,
        max_overflow=kit.db_pool_overflow,
    )
    snapshot_dir = kit.data_dir / "snapshots"
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    return Runtime(
        kit=kit,
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        cache=create_cache(kit.redis_url),
        limiter=RateLimiter(kit.redis_url),
        clock=clock or SystemClock(),
        sms=sms or create_sms_sender(settings),
        notices=create_notices(kit.redis_url),
        snapshots=SnapshotStore(snapshot_dir),
    )
