"""Settings of the parent-facing service (env prefix ``PARENTAL_``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from filters.categories.catalog import AgeBand
from parental.i18n import Locale
from parental.kit.settings import Environment, get_kit_settings


class SmsBackend(StrEnum):
    LOG = "log"  # development sink: writes the text (codes included) to the log
    HTTP = "http"  # the carrier's SMS gateway over HTTPS


class UnknownSources(StrEnum):
    """What the DNS front end does for a source address no binding or EDNS option names."""

    DEFAULT = "default"  # filter it with the default profile, counted for nobody
    REFUSE = "refuse"  # answer REFUSED: only identified child lines are served


class Helpline(BaseModel):
    """A crisis line the block page shows instead of a plain refusal (self-harm)."""

    number: str
    label: dict[Locale, str]


# Operators must verify these for their country before going live: numbers and their hours
# change. 150 is Kazakhstan's national helpline for children and young people (free, 24/7).
DEFAULT_HELPLINES = {
    "KZ": Helpline(
        number="150",
        label={
            "kk": "Балалар мен жастарға арналған ұлттық сенім телефоны (тегін, тәулік бойы)",
            "ru": "Национальный телефон доверия для детей и молодёжи (бесплатно, круглосуточно)",
            "en": "National helpline for children and young people (free, 24/7)",
        },
    )
}


class BlockMode(StrEnum):
    """How the DNS front end answers a blocked name."""

    ADDRESS = "address"  # A/AAAA of the block page (NODATA for other types)
    NXDOMAIN = "nxdomain"  # the name does not exist


class ParentalSettings(BaseSettings):
    """Tokens, codes, limits and the SMS gateway of the parent and device API."""

    model_config = SettingsConfigDict(env_prefix="PARENTAL_", extra="ignore")

    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    sign_in_code_ttl_seconds: int = 300
    sign_in_code_digits: int = 6
    sign_in_code_max_attempts: int = 5
    pairing_code_ttl_seconds: int = 600
    pairing_code_length: int = 10
    invitation_ttl_days: int = 7

    # The carrier's own lines must be numbers of these regions (ISO 3166 codes).
    carrier_regions: list[str] = ["KZ"]
    default_child_timezone: str = "Asia/Almaty"
    # Quiet hours of a guardian who has not named a zone are read on this wall clock.
    notification_default_timezone: str = "Asia/Almaty"

    max_body_bytes: int = 1_048_576
    # Strict-Transport-Security on every answer: only when clients reach this service over
    # HTTPS (a TLS proxy in front); over plain HTTP the header would be a promise not kept.
    behind_tls: bool = False
    # Every write without a limit of its own (parental/write_limits.py), per credential's
    # subject, or per address without credentials.
    limit_writes_per_caller: str = "600/minute"

    limit_code_requests_per_phone: str = "3/10minutes"
    limit_code_requests_per_phone_daily: str = "10/day"
    limit_code_requests_per_ip: str = "30/hour"
    limit_code_attempts_per_phone: str = "10/10minutes"
    limit_code_attempts_per_ip: str = "60/hour"
    limit_pairing_attempts_per_ip: str = "10/minute"
    limit_admin_logins_per_ip: str = "10/10minutes"
    limit_filter_reports_per_ip: str = "20/hour"  # the block page, without credentials
    limit_filter_reports_per_reporter: str = "60/hour"  # a guardian or a device
    # Lockouts against guessing codes (parental.auth.lockout): after this many wrong sign-in
    # codes for one phone or from one address, or wrong pairing codes from one address, every
    # attempt (the right code too) is refused with 429 for lockout_base_seconds, doubled at
    # each further lockout up to lockout_max_seconds; one left alone for
    # lockout_forget_seconds starts afresh. Addresses get more room than phones: many parents
    # share one behind a carrier's NAT.
    sign_in_lockout_failures_per_phone: int = Field(default=10, ge=1)
    sign_in_lockout_failures_per_ip: int = Field(default=30, ge=1)
    pairing_lockout_failures_per_ip: int = Field(default=10, ge=1)
    lockout_base_seconds: int = Field(default=60, ge=1)
    lockout_max_seconds: int = Field(default=3600, ge=1)
    lockout_forget_seconds: int = Field(default=86_400, ge=60)
    # Sign-in SMS the whole service sends in any 24 hours: beyond it code requests are refused
    # (503, nothing sent), so no mix of phones and addresses can run up the carrier's bill.
    sms_daily_budget: int = Field(default=10_000, ge=1)

    sms_backend: SmsBackend = SmsBackend.LOG
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    sms_sender_id: str = "ChildSIM"
    sms_timeout_seconds: float = 5.0

    cors_origins: list[str] = []

    # Decided filter reports (with reporters' comments and child ids) are deleted this long
    # after the decision; open ones this long after they were last reported, decided or not.
    filter_report_retention_days: int = 90
    filter_report_open_retention_days: int = Field(default=365, ge=30)

    # The audit log (what guardians, devices, staff and the carrier did; what the child's
    # device shows) keeps each event this long.
    audit_retention_days: int = Field(default=365, ge=30)

    # Filter activity: how often each process writes its verdict counts, and how long the
    # counts (for reports over weeks) and the blocked names (more personal) are kept.
    filter_activity_flush_seconds: float = 5.0
    # How long a process may answer filter checks and DNS queries from what it last read of a
    # caller and their profile (0: read it on every request). A change reaches every process at
    # once through notices, and a process whose notices were cut off (Redis away) forgets all
    # once it hears them again; this bounds how long a change goes unseen when its one notice
    # is lost. A subject in use is read again in the background after half of it.
    filter_subject_cache_seconds: float = Field(default=600.0, ge=0)
    filter_counts_retention_days: int = 90
    filter_blocked_names_retention_days: int = 30
    # The query log (which names, when): every blocked lookup, one in N allowed ones per child,
    # at most this many rows of each per child and local day per process; the most personal of
    # the three, so kept the shortest.
    filter_query_log_allowed_one_in: int = Field(default=20, ge=1)
    filter_query_log_rows_per_day: int = Field(default=2000, ge=0)
    filter_query_log_retention_days: int = Field(default=7, ge=1)

    # Line bindings (the carrier's RADIUS accounting: which address a child line holds now).
    # A binding lapses this long after its last Start/Interim unless the event gives its own
    # ttl_seconds: twice a typical 15-minute interim interval, so one lost Interim is forgiven.
    line_binding_ttl_seconds: int = 1800
    # Ended and expired bindings say which child used an address when (personal data): the
    # worker deletes them this long after they ended. Until then a late or retried event of an
    # ended session is recognised and cannot revive it.
    line_binding_retention_hours: int = 24
    # How often each process checks SQL for binding changes it got no notice of (Redis down,
    # or no Redis), and how often it rebuilds its index from scratch (dropping expired ones).
    line_binding_poll_seconds: float = 0.5
    line_binding_rebuild_seconds: float = 3600.0
    # The EDNS0 option a resolver in front of us may put the line in (payload: the MSISDN in
    # E.164 ASCII, or a device id); 65001-65534 is the range RFC 6891 leaves for local use.
    line_edns_option_code: int = Field(default=65001, ge=1, le=65535)
    line_unknown_sources: UnknownSources = UnknownSources.DEFAULT

    # RPZ export: zones are named "<category>.<suffix>." (a name under the carrier's domain);
    # zone transfers are answered only to these addresses or networks, others get REFUSED.
    rpz_zone_suffix: str = "rpz.child-sim.invalid"
    rpz_ttl_seconds: int = 300
    rpz_transfer_clients: list[str] = ["127.0.0.1", "::1"]
    rpz_ixfr_window: int = 10  # versions an IXFR client may be behind; further: AXFR
    # Published versions whose snapshot and zone files the worker keeps besides the one in
    # force (never fewer than rpz_ixfr_window: IXFR answers from them). A version pruned from
    # disk can still be rolled back to, and its zone written again: both come from SQL.
    filter_snapshot_keep_versions: int = Field(default=10, ge=1)

    # URL sources are fetched only from public addresses (see filters.curation.egress); these
    # networks are allowed as well, e.g. ["10.20.0.0/16"] for an internal mirror of the lists.
    curation_source_private_networks: list[IPv4Network | IPv6Network] = []

    # The block page (``parental blockpage``): the address the DNS front end answers blocked
    # names with serves it, for HTTP only (see parental.blockpage). Its own name shows a short
    # page about the filter. Pages are in the browser's language among kk/ru/en, else this one.
    blockpage_hostname: str = "block.child-sim.invalid"
    blockpage_default_locale: Locale = "kk"
    blockpage_country: str = "KZ"  # whose helpline a self-harm block shows
    blockpage_helplines: dict[str, Helpline] = DEFAULT_HELPLINES
    blockpage_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    limit_unblock_requests_per_line: str = "10/hour"
    # A device agent uploads its fixes every few minutes (up to 1,000 a batch); this only stops
    # a broken or hostile agent from flooding the database.
    limit_location_uploads_per_device: str = "120/minute"
    # The same for screen-time usage uploads (telemetry.usage).
    limit_usage_uploads_per_device: str = "120/minute"
    # "Allow once" opens the name for this long; decided requests (and open ones nobody
    # answered) are deleted this long after their decision or the child's last ask.
    unblock_allow_once_minutes: int = Field(default=60, ge=1, le=1440)
    unblock_request_retention_days: int = 90

    # Location fixes (telemetry.locations). A fix is refused (alone, with a reason) when it is
    # dated more than the skew ahead, older than the retention (the worker deletes fixes that
    # old), or less accurate than the limit: the device's own, or the carrier's for its cell
    # positions (a rural cell reaches tens of kilometres). Guardians are shown the carrier's
    # position only once the device has sent no fix for the fallback period. The latest
    # positions are cached for this long (SQL answers after that); a live stream sends a
    # comment after heartbeat seconds of silence, and ends after max seconds (the guardian's
    # access is checked again when it reconnects).
    location_retention_days: int = Field(default=30, ge=1)
    location_max_future_skew_seconds: int = Field(default=300, ge=0)
    location_max_accuracy_m: float = Field(default=5_000.0, gt=0)
    location_carrier_max_accuracy_m: float = Field(default=50_000.0, gt=0)
    location_carrier_fallback_seconds: int = Field(default=900, ge=0)
    location_latest_cache_seconds: int = Field(default=300, ge=1)
    # How long a process answers a guardian's frequent reads (where the child is), and stores a
    # device's location uploads, from what the full check of the token, the child's family and
    # monitoring last found. A change (a guardian removed, a line ended, a device revoked)
    # voids grants in every process at once through the cache; this bounds how long one goes
    # unseen if the cache was down when it happened (0: check every request). See
    # parental/children/grants.py.
    guardian_read_grant_seconds: float = Field(default=60.0, ge=0)
    location_stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    location_stream_max_seconds: float = Field(default=3600.0, gt=0)

    # Screen-time usage sessions (telemetry.usage). Kept this long after they started (reports
    # compare 30 days with the 30 before), and a session is refused (alone, with a reason)
    # when it started before that or ends more than the skew ahead of the server's clock.
    usage_retention_days: int = Field(default=90, ge=1)
    usage_max_future_skew_seconds: int = Field(default=300, ge=0)

    # The child's screen-time requests and tasks (telemetry.usage.requests.service, .tasks). A child
    # has at most this many requests waiting for an answer; a device's asks and tasks marked
    # done are limited to this rate. Requests and tasks are deleted this long after their last
    # change (asked, done or answered), except each app's install answer still in force.
    screen_time_max_pending_requests: int = Field(default=20, ge=1, le=200)
    limit_screen_time_requests_per_device: str = "30/hour"
    screen_time_request_retention_days: int = Field(default=90, ge=1)
    screen_time_task_retention_days: int = Field(default=90, ge=1)

    # Alarms (telemetry.alarms). A child's battery threshold and silence limit start at these
    # until a guardian sets them. Alarm rows (an SOS keeps where the child was) are deleted
    # this long after they happened; a device's status (last sign of life, battery) this long
    # after it was last seen (longer than the longest silence limit, 7 days, or a silence
    # would be forgotten before it is raised); a line's handset hash this long after the
    # carrier last reported it. A carrier handset report may be dated at most
    # alarm_clock_skew_seconds ahead.
    alarm_default_battery_threshold_pct: int = Field(default=15, ge=1, le=90)
    alarm_default_silent_after_minutes: int = Field(default=60, ge=15, le=7 * 24 * 60)
    alarm_retention_days: int = Field(default=90, ge=1)
    alarm_device_status_retention_days: int = Field(default=30, ge=8)
    alarm_handset_retention_days: int = Field(default=365, ge=1)
    alarm_clock_skew_seconds: int = Field(default=300, ge=0)

    # Geofences (telemetry.geofences). A fix counts as inside (or outside) a place only when
    # its accuracy circle widened by the hysteresis margin is wholly inside (or outside): the
    # band of 2 * (accuracy + margin) along the boundary never flips the state. A "not arrived
    # by" deadline the worker reaches more than the grace late (it was down) is not told.
    # Enter, exit and not-arrived events are deleted this long after they happened.
    geofence_hysteresis_m: float = Field(default=25.0, ge=0, le=1000)
    geofence_max_places_per_child: int = Field(default=50, ge=1, le=500)
    geofence_arrival_grace_minutes: int = Field(default=60, ge=1, le=24 * 60)
    geofence_event_retention_days: int = Field(default=90, ge=1)

    # DNS front end (`parental dns`). Upstreams are "host", "host:port" or "[v6]:port"; each is
    # given an equal share of the timeout in turn, and when none answers the client gets
    # SERVFAIL. Blocked A/AAAA questions get the block page's addresses in "address" mode.
    dns_host: str = "127.0.0.1"
    dns_port: int = Field(default=8053, ge=0, le=65535)
    dns_upstreams: list[str] = ["127.0.0.1:53"]
    dns_upstream_timeout_seconds: float = Field(default=2.0, gt=0)
    dns_block_mode: BlockMode = BlockMode.ADDRESS
    dns_block_page_ipv4: IPv4Address = IPv4Address("0.0.0.0")  # noqa: S104 - an answer, not a bind
    dns_block_page_ipv6: IPv6Address = IPv6Address("::")
    dns_block_ttl_seconds: int = Field(default=60, ge=0)  # short: schedules change verdicts
    dns_cache_size: int = Field(default=100_000, ge=0)  # upstream answers kept (LRU)
    dns_cache_max_ttl_seconds: int = Field(default=86_400, ge=0)
    dns_tcp_idle_seconds: float = Field(default=10.0, gt=0)
    # Prometheus metrics (docs/operations.md): the API's GET /metrics when enabled, behind
    # `Authorization: Bearer <metrics_token>` when a token is set; `parental worker` serves its
    # own at http://<metrics_host>:<metrics_port>/metrics (0: no listener).
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Prometheus text at http://<host>:<port>/metrics from `parental dns` (0: no listener).
    # Process-wide counters only, nothing about a line; still, keep it off the public side.
    dns_metrics_host: str = "127.0.0.1"
    dns_metrics_port: int = Field(default=0, ge=0, le=65535)
    # Questions and lines the UDP fast path remembers (each); 0 answers everything in Python.
    dns_fast_path_size: int = Field(default=200_000, ge=0, le=10_000_000)
    # UDP queries a second per source address (0: no limit) and how many at once; sources in
    # the exempt networks (a carrier resolver in front of us, which asks for every line) are
    # not limited. Over the limit a query is dropped.
    dns_udp_rate_per_source: float = Field(default=100.0, ge=0)
    dns_udp_burst: int = Field(default=200, ge=1)
    dns_rate_limit_exempt: list[IPv4Network | IPv6Network] = []
    # TCP connections open at once, in all and from one source address.
    dns_tcp_max_connections: int = Field(default=1000, ge=1)
    dns_tcp_max_per_source: int = Field(default=20, ge=1)

    # Push notifications to guardians' phones (parental.notifications). Without a project id
    # push is off and notifications wait in the outbox. The credentials file is a service
    # account's JSON (none: Google's application default credentials). fcm_url replaces
    # https://fcm.googleapis.com (an on-premise relay, a test server): messages go to
    # <fcm_url>/v1/projects/<project>/messages:send. The SDK retries a 500/503 at once this
    # many times (backoff factor in seconds) before the dispatcher's own schedule takes over.
    fcm_project_id: str | None = None
    fcm_credentials_file: Path | None = None
    fcm_url: str | None = None
    fcm_timeout_seconds: float = Field(default=10.0, gt=0)
    fcm_http_retries: int = Field(default=1, ge=0, le=5)
    fcm_http_backoff_factor: float = Field(default=0.5, ge=0)
    # The dispatcher claims up to push_batch_size due rows a round (every push_interval_seconds)
    # for push_lease_seconds: a worker that dies mid-batch leaves them to be sent again after
    # that. A failed attempt is tried again after base * 2**(attempts-1) seconds (jittered,
    # at most the cap); after push_max_attempts the row is failed. Rows are deleted
    # push_outbox_retention_days after they were written (sent or not); a phone's token
    # push_token_stale_days after the app last refreshed it (FCM's own limit is 270).
    push_batch_size: int = Field(default=200, ge=1, le=5000)
    push_interval_seconds: float = Field(default=5.0, gt=0)
    push_lease_seconds: int = Field(default=120, ge=10)
    push_backoff_base_seconds: float = Field(default=30.0, gt=0)
    push_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    push_max_attempts: int = Field(default=10, ge=1)
    push_outbox_retention_days: int = Field(default=30, ge=1)
    push_token_stale_days: int = Field(default=270, ge=1)
    limit_push_token_writes_per_account: str = "30/hour"  # noqa: S105 - a rate, not a secret
    # A commit that wrote notifications wakes the dispatchers at once (push_interval_seconds is
    # then only the fallback when the wake-up notice is lost); off: pure polling. The inbox
    # stream (GET /v1/notifications/stream) sends a comment after heartbeat seconds without an
    # event and ends after max seconds, so the token is checked again on reconnecting.
    push_wake_on_commit: bool = True
    notification_stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    notification_stream_max_seconds: float = Field(default=3600.0, gt=0)

    # Commands to the child's device. A command waits for the device command_wait_seconds
    # (re-sent when the device checks in, at most every command_resend_seconds); each FCM data
    # message lives command_push_ttl_seconds (a ring an hour late is worse than none). Quotas
    # are per child and kind, counted over a moving window ("3/day"); over quota is a 429 and
    # nothing is sent. A listening session records at most command_listen_max_seconds; its
    # audio (at most command_audio_max_bytes, one of the audio types) may be fetched for
    # command_audio_retention_hours. Listening is offered for the age bands in
    # command_listen_age_bands (the default of the carrier's age policy, parental.age_policy,
    # until the carrier sets its own) and not to a guardian who joined the
    # family less than command_listen_guardian_min_hours ago. Commands are kept
    # command_retention_days.
    command_wait_seconds: int = Field(default=600, ge=30, le=86400)
    command_resend_seconds: int = Field(default=30, ge=1)
    command_push_ttl_seconds: int = Field(default=60, ge=1, le=3600)
    command_quota_locate_now: str = "30/hour"
    command_quota_ring: str = "10/hour"
    command_quota_message: str = "30/hour"
    command_quota_listen: str = "3/day"
    command_quota_sync_policy: str = "30/hour"
    command_listen_max_seconds: int = Field(default=60, ge=5, le=600)
    command_listen_age_bands: list[AgeBand] = [AgeBand.UNDER_9, AgeBand.AGE_9_12, AgeBand.AGE_13_15]
    command_listen_guardian_min_hours: int = Field(default=72, ge=0)
    command_audio_max_bytes: int = Field(default=2_097_152, ge=1024)
    command_audio_retention_hours: int = Field(default=24, ge=1)
    command_retention_days: int = Field(default=30, ge=1)

    # Messages the child's device agent saw in messenger apps: the text, the sender's name and
    # the conversation's title are sealed with AES-256-GCM under message_key_id, one of
    # message_keys (id -> base64 of 32 random bytes; keep the old ones until `parental
    # messages rekey` has moved every row). Without keys, a key derived from the service's
    # secret is used (the embedded default). Messages go conversation_retention_days after
    # they were sent.
    message_keys: dict[str, SecretStr] = {}
    message_key_id: str | None = None
    conversation_retention_days: int = Field(default=30, ge=1)
    conversation_max_future_skew_seconds: int = Field(default=300, ge=0)
    limit_message_uploads_per_device: str = "120/minute"
    # Risky messages of one label in one conversation within message_alert_group_minutes of
    # each other are one alert (the guardians are told once); alerts are kept
    # message_alert_retention_days. Guardians read whole conversations only while the child
    # is younger than messages_transcripts_under_age (older children's guardians get alerts
    # with excerpts only, and nothing from 18): the default of the carrier's age policy
    # (parental.age_policy), which the carrier changes through /carrier/v1/age-policy.
    message_alert_group_minutes: int = Field(default=60, ge=1)
    message_alert_retention_days: int = Field(default=90, ge=1)
    # The guardians get one notice per conversation and upload, at most
    # message_alert_notices_per_hour an hour per child (the first self-harm alert of an hour
    # always); the rest are gathered into one notice per message_alert_gather_minutes, sent at
    # the end of that period (telemetry.conversations.notices). Every alert is still listed.
    message_alert_notices_per_hour: int = Field(default=5, ge=1)
    message_alert_gather_minutes: int = Field(default=15, ge=1, le=60)
    messages_transcripts_under_age: int = Field(default=13, ge=0, le=18)

    # The 18th birthday (parental.child_data.step_down): monitoring stops at local midnight;
    # the worker then tells the guardians and the child's device, and deletes the child's
    # monitored data adult_data_grace_days after that. Guardians download everything held
    # about a child (GET /v1/children/{id}/export) at most limit_child_exports_per_account.
    adult_data_grace_days: int = Field(default=30, ge=0, le=365)
    limit_child_exports_per_account: str = "5/hour"

    # Consent (parental.consent): a grant names the consent text it was given to, which must
    # be consent_text_version (what the app shows now); consents given to an earlier text stay
    # in force, and each shows its text's version. From child_consent_age (the child's
    # birthday, in the child's zone) the child must also consent, on the device, to message
    # excerpts and listening (the default of the carrier's age policy, parental.age_policy).
    consent_text_version: str = Field(default="2026-12", min_length=1, max_length=32)
    child_consent_age: int = Field(default=14, ge=0, le=18)

    @model_validator(mode="after")
    def _check_sms(self) -> ParentalSettings:
        if self.sms_backend is SmsBackend.HTTP and not self.sms_gateway_url:
            raise ValueError("PARENTAL_SMS_GATEWAY_URL is required with PARENTAL_SMS_BACKEND=http")
        if (
            get_kit_settings().environment is Environment.PRODUCTION
            and self.sms_backend is SmsBackend.LOG
        ):
            raise ValueError("the log SMS sink writes codes to the log; use http in production")
        return self


@lru_cache
def get_parental_settings() -> ParentalSettings:
    """Read the service settings once per process."""
    return ParentalSettings()
