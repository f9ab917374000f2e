"""Background work of ``parental worker``: purging credentials that can no longer be used.

Sign-in codes, pairing codes, refresh tokens and invitations are kept a while after they stop
working (so a support question can still be answered), then deleted. Children's data classes are
deleted when their retention limit (in the settings) has passed.

Line bindings (which child used which address when) are deleted ``line_binding_retention_hours``
after they ended or lapsed. Unblock requests go ``unblock_request_retention_days`` after their
decision (or the child's last ask, when nobody answered). The filter's query log goes
``filter_query_log_retention_days`` after the minute it records. Alarms go
``alarm_retention_days`` after they happened, a device's alarm status
``alarm_device_status_retention_days`` after its last sign of life, a line's handset hash
``alarm_handset_retention_days`` after the carrier last reported it. Each round also raises the
alarms of devices gone silent (``parental.alarms.check_silent_devices``). Geofence events
(enter, exit, not arrived) go ``geofence_event_retention_days`` after they happened; each round
also tells the "not arrived by" deadlines that have come (``parental.places``). Location fixes
go ``location_retention_days`` after they were taken, screen-time usage sessions
``usage_retention_days`` after they started, and with them the marks of weekly usage summaries
and limits reached (of weeks and days that long ago). Each timer round also publishes the
weekly usage summaries of the weeks that have ended (``parental.usage.send_weekly_summaries``).
The child's screen-time requests go ``screen_time_request_retention_days`` after their last
change (each app's install answer in force stays, without its texts), tasks
``screen_time_task_retention_days`` after theirs. Push notifications go
``push_outbox_retention_days`` after they were written, guardians' phone tokens
``push_token_stale_days`` after the app last refreshed them; the push outbox is dispatched
as soon as a commit wrote to it (``parental.notifications.live``), and every
``push_interval_seconds`` in case that notice was lost (``parental.notifications.dispatcher``).
The recording of a listening session goes ``command_audio_retention_hours`` after it was
uploaded; messages ``conversation_retention_days`` after they were sent, alerts on them
``message_alert_retention_days`` after they were raised.

Children who turned 18 are stepped down each maintenance round: guardians and the child's
device are told once, and the monitored data goes ``adult_data_grace_days`` later
(``parental.child_data.step_down``).

Blocklists fetched from a URL are refreshed when their interval has passed (see
``filters.curation.refresh``). Snapshot and RPZ zone files of versions more than
``filter_snapshot_keep_versions`` behind the one in force are deleted with each purge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from filters.activity import service as filter_activity
from filters.curation import refresh
from filters.curation import repository as curation
from filters.reports import service as filter_reports
from filters.unblock import service as unblock_requests
from parental.alarms import check_silent_devices
from parental.audit import service as audit
from parental.auth import repository as auth
from parental.child_data.step_down import step_down_adults
from parental.commands import audio as command_audio
from parental.commands import service as device_commands
from parental.console import sessions as console_sessions
from parental.curation import source_egress
from parental.devices import repository as devices
from parental.families import repository as families
from parental.kit.db import transaction
from parental.kit.metrics import count_purged
from parental.lines import bindings as line_bindings
from parental.notifications import live
from parental.notifications import outbox as push_outbox
from parental.notifications import tokens as push_tokens
from parental.notifications.dispatcher import dispatch_due
from parental.places import check_arrival_deadlines
from parental.rpz import runtime_zone_cache
from parental.runtime import Runtime
from parental.usage import send_weekly_summaries
from telemetry.alarms import handsets as alarm_handsets
from telemetry.alarms import liveness as alarm_liveness
from telemetry.alarms import service as alarms
from telemetry.conversations import alerts as message_alerts
from telemetry.conversations import service as conversations
from telemetry.geofences import service as geofences
from telemetry.locations import service as locations
from telemetry.usage import service as usage
from telemetry.usage.reports import notices as usage_notices
from telemetry.usage.requests import service as screen_time_requests
from telemetry.usage.tasks import service as screen_time_tasks

log = logging.getLogger(__name__)

CREDENTIAL_GRACE = timedelta(days=1)
REVOKED_TOKEN_RETENTION = timedelta(days=30)
CLOSED_INVITATION_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class PurgeReport:
    codes_and_tokens: int
    pairing_codes: int
    invitations: int
    filter_activity: int = 0
    filter_reports: int = 0
    line_bindings: int = 0
    unblock_requests: int = 0
    filter_query_log: int = 0
    alarms: int = 0
    alarm_device_statuses: int = 0
    alarm_handsets: int = 0
    geofence_events: int = 0
    location_fixes: int = 0
    usage: int = 0  # screen-time sessions and the app names they reported
    usage_notices: int = 0  # marks of weekly summaries and limits reached, told once
    screen_time_requests: int = 0  # extra time and app installs the child asked for
    screen_time_tasks: int = 0
    push_outbox: int = 0  # notifications written push_outbox_retention_days ago, sent or not
    push_tokens: int = 0  # phones whose app has not refreshed its token for push_token_stale_days
    device_commands: int = 0  # commands to children's devices, given command_retention_days ago
    command_audio: int = 0  # listening sessions' recordings, kept command_audio_retention_hours
    conversation_messages: int = 0  # messages sent conversation_retention_days ago
    message_alerts: int = 0  # alerts on risky messages, raised message_alert_retention_days ago
    place_states: int = 0  # places whose state no fix within location_retention_days supports
    audit_events: int = 0  # the audit log's events, audit_retention_days old
    console_sessions: int = 0  # curators' console sessions past their idle or absolute expiry
    published_files: int = 0  # snapshot and zone files, not rows: not in the total

    @property
    def total(self) -> int:
        return (
            self.codes_and_tokens
            + self.pairing_codes
            + self.invitations
            + self.filter_activity
            + self.filter_reports
            + self.line_bindings
            + self.unblock_requests
            + self.filter_query_log
            + self.alarms
            + self.alarm_device_statuses
            + self.alarm_handsets
            + self.geofence_events
            + self.location_fixes
            + self.usage
            + self.usage_notices
            + self.screen_time_requests
            + self.screen_time_tasks
            + self.push_outbox
            + self.push_tokens
            + self.device_commands
            + self.command_audio
            + self.conversation_messages
            + self.message_alerts
            + self.place_states
            + self.audit_events
            + self.console_sessions
        )


async def purge_expired(runtime: Runtime) -> PurgeReport:
    """Delete expired credentials and data in one transaction, then old published files."""
    now = runtime.clock.now()
    settings = runtime.settings
    async with transaction(runtime.sessions) as session:
        report = PurgeReport(
            codes_and_tokens=await auth.purge_expired(
                session,
                codes_before=now - CREDENTIAL_GRACE,
                tokens_before=now - REVOKED_TOKEN_RETENTION,
            ),
            pairing_codes=await devices.purge_pairing_codes(session, now - CREDENTIAL_GRACE),
            invitations=await families.purge_closed_invitations(
                session, now - CLOSED_INVITATION_RETENTION
            ),
            filter_activity=await filter_activity.purge(
                session,
                counts_before=(now - timedelta(days=settings.filter_counts_retention_days)).date(),
                blocks_before=(
                    now - timedelta(days=settings.filter_blocked_names_retention_days)
                ).date(),
            ),
            filter_reports=await filter_reports.purge(
                session,
                decided_before=now - timedelta(days=settings.filter_report_retention_days),
                open_before=now - timedelta(days=settings.filter_report_open_retention_days),
            ),
            line_bindings=await line_bindings.purge(
                session, before=now - timedelta(hours=settings.line_binding_retention_hours)
            ),
            unblock_requests=await unblock_requests.purge(
                session, before=now - timedelta(days=settings.unblock_request_retention_days)
            ),
            filter_query_log=await filter_activity.purge_query_log(
                session, before=now - timedelta(days=settings.filter_query_log_retention_days)
            ),
            alarms=await alarms.purge(
                session, before=now - timedelta(days=settings.alarm_retention_days)
            ),
            alarm_device_statuses=await alarm_liveness.purge(
                session, before=now - timedelta(days=settings.alarm_device_status_retention_days)
            ),
            alarm_handsets=await alarm_handsets.purge(
                session, before=now - timedelta(days=settings.alarm_handset_retention_days)
            ),
            geofence_events=await geofences.purge(
                session, before=now - timedelta(days=settings.geofence_event_retention_days)
            ),
            place_states=await geofences.forget_states(
                session, before=now - timedelta(days=settings.location_retention_days)
            ),
            location_fixes=await locations.purge(
                session, before=now - timedelta(days=settings.location_retention_days)
            ),
            usage=await usage.purge(
                session, before=now - timedelta(days=settings.usage_retention_days)
            ),
            usage_notices=await usage_notices.purge(
                session, before=(now - timedelta(days=settings.usage_retention_days)).date()
            ),
            screen_time_requests=await screen_time_requests.purge(
                session, before=now - timedelta(days=settings.screen_time_request_retention_days)
            ),
            screen_time_tasks=await screen_time_tasks.purge(
                session, before=now - timedelta(days=settings.screen_time_task_retention_days)
            ),
            push_outbox=await push_outbox.purge(
                session, before=now - timedelta(days=settings.push_outbox_retention_days)
            ),
            push_tokens=await push_tokens.purge_stale(
                session, before=now - timedelta(days=settings.push_token_stale_days)
            ),
            command_audio=await command_audio.purge(session, now=now),
            device_commands=await device_commands.purge(
                session, before=now - timedelta(days=settings.command_retention_days)
            ),
            conversation_messages=await conversations.purge(
                session, before=now - timedelta(days=settings.conversation_retention_days)
            ),
            message_alerts=await message_alerts.purge(
                session, before=now - timedelta(days=settings.message_alert_retention_days)
            ),
            audit_events=await audit.purge(
                session, before=now - timedelta(days=settings.audit_retention_days)
            ),
            console_sessions=await console_sessions.purge_expired(session, now=now),
        )
        await device_commands.sweep_expired(session, now=now)
    report = replace(report, published_files=await prune_published_files(runtime))
    count_purged(asdict(report))
    if report.total:
        log.info("purged %s", report)
    return report


async def prune_published_files(runtime: Runtime) -> int:
    """Delete the snapshot and RPZ zone files of versions more than the kept number behind
    the one in force (never fewer than the IXFR window); returns how many went."""
    settings = runtime.settings
    keep = max(settings.filter_snapshot_keep_versions, settings.rpz_ixfr_window)
    try:
        removed = runtime.snapshots.prune(keep)
        async with runtime.sessions() as session:
            latest = await curation.latest_version(session)
        if latest:
            removed += runtime_zone_cache(runtime).prune(latest - keep)
    except OSError:
        log.exception("pruning published files failed; trying again next round")
        return 0
    if removed:
        log.info("pruned %d published files: %s", len(removed), " ".join(p.name for p in removed))
    return len(removed)


REFRESH_ACTOR = "system:refresh"


@dataclass(frozen=True)
class RefreshReport:
    outcomes: dict[str, str]  # source name -> refresh.Outcome value
    published: list[int]


async def refresh_due_sources(
    runtime: Runtime, *, time_limit: float = refresh.TIMEOUT_SECONDS
) -> RefreshReport:
    """Refresh every URL source whose interval has passed, each in its own transaction.

    Each source is claimed first (committed), so several workers never fetch the same list;
    one whose worker dies is due again after ``refresh.CLAIM_LEASE``. A version a source
    published itself is put in force once its transaction has committed.
    """
    outcomes: dict[str, str] = {}
    published: list[int] = []
    async with transaction(runtime.sessions) as session:
        due = await refresh.due(session, runtime.clock.now())
    async with refresh.new_client(source_egress(runtime.settings)) as client:
        for source_id in due:
            async with transaction(runtime.sessions) as session:
                if not await refresh.claim(session, source_id, runtime.clock.now()):
                    continue
            try:
                async with transaction(runtime.sessions) as session:
                    source = await curation.get_source(session, source_id)
                    if source is None:
                        continue
                    now = runtime.clock.now()
                    result = await refresh.refresh_source(
                        session,
                        source,
                        client=client,
                        actor=REFRESH_ACTOR,
                        now=now,
                        snapshot_path=runtime.snapshots.path_for_number,
                        time_limit=time_limit,
                    )
                    failed = result.outcome is refresh.Outcome.FAILED
                    await audit.record(
                        session,
                        at=now,
                        action="curation.source_refresh_failed"
                        if failed
                        else "curation.source_refreshed",
                        actor=audit.Actor("system", REFRESH_ACTOR),
                        subject_type="filter_source",
                        subject_id=source.id,
                        details=refresh.details(result),
                    )
                outcomes[source.name] = result.outcome.value
                if failed:
                    log.warning("refreshing %s failed: %s", source.name, result.error)
                if result.version is not None:
                    await runtime.snapshots.publish(str(result.version.number), runtime.notices)
                    published.append(result.version.number)
            except Exception:
                log.exception("refreshing source %s failed", source_id)
    return RefreshReport(outcomes, published)


async def run_timers(runtime: Runtime) -> None:
    """The checks that raise alarms when a time has come: devices gone silent, "not arrived
    by" deadlines, weeks whose usage summary is due. A failed check is logged and tried again
    next round."""
    for what, check in (
        ("checking for silent devices", check_silent_devices),
        ("checking arrival deadlines", check_arrival_deadlines),
        ("sending weekly usage summaries", send_weekly_summaries),
    ):
        try:
            await check(runtime)
        except Exception:
            log.exception("%s failed; trying again next round", what)


async def run_maintenance(runtime: Runtime) -> None:
    """Purge what has expired, step down children who turned 18 and refresh lists fetched
    from a URL; a failure is logged."""
    try:
        await purge_expired(runtime)
    except Exception:
        log.exception("purge failed; trying again next round")
    try:
        await step_down_adults(runtime)
    except Exception:
        log.exception("the step-down at 18 failed; trying again next round")
    try:
        await refresh_due_sources(runtime)
    except Exception:
        log.exception("list refresh failed; trying again next round")


async def run_forever(
    runtime: Runtime, *, interval_seconds: float = 300.0, timer_seconds: float = 30.0
) -> None:
    """Maintenance every ``interval_seconds``, the alarm timers every ``timer_seconds`` (an
    alarm is at most that late) and the push outbox every ``push_interval_seconds``, until
    cancelled; a commit that wrote notifications starts a push round at once."""

    async def every(seconds: float, work: Callable[[Runtime], Awaitable[None]]) -> None:
        while True:
            await work(runtime)
            await asyncio.sleep(seconds)

    async def push() -> None:
        # A commit that wrote notifications wakes a round at once (``live``); the interval is
        # the fallback when its notice is lost, or the only schedule with the wake-up off.
        seconds = runtime.settings.push_interval_seconds
        if not runtime.settings.push_wake_on_commit:
            await every(seconds, dispatch_due)
            return
        wakeup = live.PushWakeup(runtime.notices)
        try:
            await wakeup.open()
            while True:
                await dispatch_due(runtime)
                await wakeup.wait(seconds)
        finally:
            await wakeup.close()

    await asyncio.gather(
        every(interval_seconds, run_maintenance),
        every(timer_seconds, run_timers),
        push(),
    )
