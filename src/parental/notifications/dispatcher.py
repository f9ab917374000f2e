"""The outbox dispatcher: one round claims due rows, sends them to every phone of their
recipient through FCM, and records what each phone's answer means.

Per phone (token), by the SDK's exception on its ``SendResponse``:

- none: delivered.
- ``UnregisteredError``, ``SenderIdMismatchError``, or ``InvalidArgumentError`` about the
  token (FCM names the field ``message.token``, or says the registration token is not
  valid): the token no longer reaches a phone and is deleted.
- ``QuotaExceededError`` (429): tried again after the answer's ``Retry-After``; and since
  FCM's quota is the project's, every dispatcher pauses until then (``pause``: in this process
  and, through the kit cache, in every other): a round claims nothing before. Without
  ``Retry-After`` the pause is ``push_backoff_base_seconds``.
- a 5xx (``UnavailableError``, ``InternalError``...) or no answer at all (connection refused,
  timeout): tried again after ``push_backoff_base_seconds * 2**(attempt - 1)``, at most
  ``push_backoff_max_seconds``, the second half of it random (so workers that failed
  together do not retry together), or the answer's ``Retry-After`` if longer.
- any other 4xx: the message is refused as it is; never tried again.

Per row: any phone to try again -> pending again (``failed`` once ``push_max_attempts`` are
spent; phones already answered are not sent to again); else -> ``sent`` if a phone took it or
nothing was refused (a recipient without phones counts: the inbox keeps the notification),
``failed`` if every phone refused it. A message's TTL counts from when its row became due (the
end of a quiet-hours hold: ``Claimed.due_at``); one whose TTL ran out while it waited is
failed without sending. Each phone gets the message in the language its app registered with
when the row has it (``PushMessage.in_locale``), else in the row's.

The claim commits before sending and the answers commit after it; a worker killed in
between leaves its lease to run out, and the rows are sent again by whoever claims them next.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

from firebase_admin import exceptions, messaging

from parental.kit.db import transaction
from parental.notifications import outbox, pause, tokens
from parental.notifications.fcm import build_message
from parental.notifications.metrics import backlog_gauges, error_name, sends
from parental.notifications.outbox import Claimed, PushMessage, Settlement, State
from parental.runtime import Runtime
from parental.settings import ParentalSettings

log = logging.getLogger(__name__)


class Verdict(Enum):
    DELIVERED = "delivered"
    TOKEN_GONE = "token_gone"  # noqa: S105 - a verdict, not a secret
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    error: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait
    quota: bool = False  # the project's quota ran out (429): every dispatcher waits


def classify(exc: BaseException | None, *, now: datetime) -> Answer:
    """What an exception on a ``SendResponse`` means for the row and the token."""
    if exc is None:
        return Answer(Verdict.DELIVERED)
    response = getattr(exc, "http_response", None)
    status = getattr(response, "status_code", None)
    error = type(exc).__name__ + (f" {status}" if status else "")
    if isinstance(exc, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return Answer(Verdict.TOKEN_GONE, error)
    if isinstance(exc, exceptions.InvalidArgumentError) and _about_token(exc, response):
        return Answer(Verdict.TOKEN_GONE, error)
    if isinstance(exc, messaging.QuotaExceededError) or status == 429:
        return Answer(Verdict.RETRY, error, _retry_after(response, now), quota=True)
    if status is None or status >= 500:
        return Answer(Verdict.RETRY, error, _retry_after(response, now))
    return Answer(Verdict.REFUSED, error)


def _about_token(exc: BaseException, response: Any) -> bool:
    if "registration token" in str(exc).lower():
        return True
    try:
        details = response.json()["error"].get("details", [])
    except Exception:
        return False
    return any(
        str(violation.get("field", "")).endswith("token")
        for detail in details
        if isinstance(detail, dict)
        for violation in detail.get("fieldViolations", [])
        if isinstance(violation, dict)
    )


def _retry_after(response: Any, now: datetime) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1, 2, ...): half fixed, half random."""
    delay = min(cap, base * 2.0 ** (attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


@dataclass
class RoundReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    tokens_removed: int = 0


@dataclass
class _Job:
    row: Claimed
    message: PushMessage
    delivered: list[str]
    answers: list[Answer] = field(default_factory=list)
    settlement: Settlement | None = None


async def dispatch_round(
    runtime: Runtime, *, worker: str | None = None, rng: random.Random | None = None
) -> RoundReport:
    """Claim the due rows, send them, settle them; returns what happened."""
    sender = runtime.push
    report = RoundReport()
    if not sender.enabled:
        sender.tell_disabled()
        return report
    settings = runtime.settings
    worker = worker or sender.worker_id
    rng = rng or _rng
    now = runtime.clock.now()
    paused = await pause.paused_until(runtime)
    if paused is not None and now < paused:
        return report  # FCM asked the project to wait: the rows stay due
    await sender.prepare()
    async with transaction(runtime.sessions) as session:
        rows = await outbox.claim(
            session,
            now=now,
            limit=settings.push_batch_size,
            worker=worker,
            lease=timedelta(seconds=settings.push_lease_seconds),
        )
        phones = await tokens.of_accounts(session, {row.account_id for row in rows})
    report.claimed = len(rows)
    if not rows:
        return report

    jobs: list[_Job] = []
    messages: list[Any] = []
    sent_to: list[tuple[_Job, uuid.UUID]] = []
    for row in rows:
        job = _Job(row, PushMessage.from_payload(row.payload), list(row.delivered_to))
        jobs.append(job)
        for phone in phones.get(row.account_id, []):
            if str(phone.id) in job.delivered:
                continue
            message = job.message.in_locale(phone.locale)
            built = build_message(message, phone.token, due_at=row.due_at, now=now)
            if built is None:
                job.settlement = Settlement(State.FAILED, job.delivered, "expired before sent")
                break
            try:
                messaging._MessagingService.encode_message(built)
            except ValueError as exc:
                job.settlement = Settlement(State.FAILED, job.delivered, f"not sendable: {exc}")
                break
            messages.append(built)
            sent_to.append((job, phone.id))
    # A row settled while building sends nothing.
    pairs = [(i, job, phone_id) for i, (job, phone_id) in enumerate(sent_to) if not job.settlement]
    gone: set[uuid.UUID] = set()
    if pairs:
        try:
            responses = await sender.send([messages[i] for i, _, _ in pairs])
        except Exception as exc:  # the whole batch: try every row again
            log.warning("sending %d push messages failed: %s", len(pairs), type(exc).__name__)
            responses = [_Failed(exc)] * len(pairs)
        for (_, job, phone_id), response in zip(pairs, responses, strict=True):
            answer = classify(response.exception, now=now)
            sends(answer.verdict.value, error_name(response.exception)).inc()
            job.answers.append(answer)
            if answer.verdict in (Verdict.DELIVERED, Verdict.REFUSED):
                job.delivered.append(str(phone_id))
            elif answer.verdict is Verdict.TOKEN_GONE:
                gone.add(phone_id)
    waits = [_quota_wait(a, settings) for job in jobs for a in job.answers if a.quota]
    if waits:
        await pause.pause(runtime, now + timedelta(seconds=max(waits)), now=now)

    outcomes = [
        (job.row.id, job.settlement or _settle(job, now=now, runtime=runtime, rng=rng))
        for job in jobs
    ]
    async with transaction(runtime.sessions) as session:
        report.tokens_removed = await tokens.delete_ids(session, gone)
        ours = await outbox.settle_many(session, outcomes, worker=worker, now=now)
    request_ids = {job.row.id: job.row.request_id for job in jobs}
    for row_id, outcome in outcomes:
        # One line a row, with the id of the request that wrote it: an SOS can be followed
        # from the device's upload to the guardian's phone.
        log.info(
            "push row %s: %s",
            row_id,
            outcome.state.value if row_id in ours else "lease lost",
            extra={"request_id": request_ids[row_id]},
        )
        if row_id not in ours:
            log.warning("push row %s was no longer leased to %s", row_id, worker)
        elif outcome.state is State.SENT:
            report.sent += 1
        elif outcome.state is State.FAILED:
            report.failed += 1
        else:
            report.retried += 1
    if report.failed or report.retried or report.tokens_removed:
        log.info("push round: %s", report)
    return report


def _quota_wait(answer: Answer, settings: ParentalSettings) -> float:
    """Seconds every dispatcher waits after a 429: its ``Retry-After``, else the base backoff."""
    if answer.retry_after is not None:
        return answer.retry_after
    return float(settings.push_backoff_base_seconds)


def _settle(job: _Job, *, now: datetime, runtime: Runtime, rng: random.Random) -> Settlement:
    settings = runtime.settings
    errors = sorted({a.error for a in job.answers if a.error})
    error = ", ".join(errors) or None
    retries = [a for a in job.answers if a.verdict is Verdict.RETRY]
    if retries:
        attempt = job.row.attempts + 1
        if attempt >= settings.push_max_attempts:
            return Settlement(State.FAILED, job.delivered, f"gave up: {error}")
        wait = backoff(
            attempt,
            base=settings.push_backoff_base_seconds,
            cap=settings.push_backoff_max_seconds,
            rng=rng,
        )
        wait = max([wait, *(a.retry_after for a in retries if a.retry_after is not None)])
        return Settlement(State.PENDING, job.delivered, error, now + timedelta(seconds=wait))
    verdicts = {a.verdict for a in job.answers}
    if (
        Verdict.REFUSED in verdicts
        and Verdict.DELIVERED not in verdicts
        and not job.row.delivered_to
    ):
        return Settlement(State.FAILED, job.delivered, error)
    return Settlement(State.SENT, job.delivered, error)


@dataclass(frozen=True)
class _Failed:
    """Stands for a ``SendResponse`` when the whole batch failed."""

    exception: BaseException


_rng = random.SystemRandom()


MAX_ROUNDS_AT_ONCE = 50


async def dispatch_due(runtime: Runtime) -> None:
    """Rounds for the worker loop, back to back while they find full batches (a backlog);
    a failure is logged and the next turn of the loop tries again."""
    try:
        for _ in range(MAX_ROUNDS_AT_ONCE):
            report = await dispatch_round(runtime)
            if report.claimed < runtime.settings.push_batch_size:
                break
        await backlog_gauges.refresh(runtime)  # for the worker's own metrics listener
    except Exception:
        log.exception("push dispatch failed; trying again next round")
