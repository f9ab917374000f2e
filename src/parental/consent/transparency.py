"""The child's transparency feed (``GET /v1/device/transparency``): what is collected about
the child now and why not when it is not, the consents in force, and every child-visible
audit entry (the same rows as ``GET /v1/device/audit-events``), each said in the child's
language with who did it.

The feed has no filter: a page size and a cursor are its only parameters, so no caller can
leave an entry out.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.categories.catalog import age_band
from parental.age_policy import service as age_policy
from parental.audit import service as audit
from parental.audit.schemas import AuditEventRead
from parental.auth.models import Account
from parental.children import service as children
from parental.children.models import Child
from parental.children.monitoring import Monitoring, local_today
from parental.children.schemas import MonitoringRead
from parental.consent import service as consent
from parental.consent import texts
from parental.consent.models import Purpose
from parental.consent.schemas import (
    ConsentState,
    FeatureRead,
    FilterCategoryRead,
    MessagesRead,
    MonitoredRead,
    PurposeConsentRead,
    TransparencyEntry,
    TransparencyRead,
    WhoRead,
)
from parental.conversations import messages_mode
from parental.filtering import child_profile
from parental.i18n import Locale
from parental.kit.phone import mask
from parental.runtime import Runtime
from parental.settings import ParentalSettings
from telemetry.conversations.schemas import MessagesMode

WHO_TYPES = {"guardian": "guardian", "device": "device", "staff": "admin"}  # else the carrier


async def consent_state(
    session: AsyncSession,
    settings: ParentalSettings,
    child: Child,
    states: list[consent.PurposeConsent],
) -> ConsentState:
    age = await consent.consent_age(session, settings)
    return ConsentState(
        text_version=settings.consent_text_version,
        child_consent_age=age,
        child_consent_from=consent.own_consent_from(age, child),
        purposes=[PurposeConsentRead.of(s) for s in states],
    )


def _reasons(status: Monitoring, state: consent.PurposeConsent) -> list[str]:
    """Why a purpose is not collected: monitoring does not apply, or whose consent lacks."""
    out = [] if status.active else ["monitoring_inactive"]
    return out + [f"no_{party}_consent" for party in state.missing]


async def monitored(
    session: AsyncSession,
    runtime: Runtime,
    child: Child,
    status: Monitoring,
    states: dict[Purpose, consent.PurposeConsent],
    now: datetime,
) -> MonitoredRead:
    """What is collected about the child now, as the upload and command routes decide it."""
    settings = runtime.settings

    def feature(purpose: Purpose, *extra: str) -> FeatureRead:
        reasons = _reasons(status, states[purpose]) + list(extra)
        return FeatureRead(on=not reasons, reasons=reasons)

    policy = await age_policy.current(session, settings)
    message_reasons = _reasons(status, states[Purpose.MESSAGES])
    # The same function as GET /v1/device/messages/mode, told whether messages are collected.
    mode = messages_mode(runtime, policy, child, active=not message_reasons)
    if mode is MessagesMode.OFF and not message_reasons:  # the carrier's band ended it
        message_reasons = ["not_for_this_age"]
    band = age_band(child.birthdate, local_today(now, child.timezone))
    listen_age = [] if policy.listens_to(band) else ["not_for_this_age"]
    profile = await child_profile(session, runtime, child)
    blocked = [
        FilterCategoryRead(category=key, mode=value["mode"])
        for key, value in sorted(profile.categories.items())
        if value.get("mode") in ("always", "scheduled")
    ]
    return MonitoredRead(
        location=feature(Purpose.LOCATION),
        app_usage=feature(Purpose.APP_USAGE),
        messages=MessagesRead(mode=mode, reasons=message_reasons),
        listening=feature(Purpose.LISTENING, *listen_age),
        filter_categories=blocked,
        safesearch=profile.safesearch,
    )


async def _guardian_phones(session: AsyncSession, events: list[AuditEventRead]) -> dict[str, str]:
    ids = set()
    for event in events:
        if event.actor_type == "guardian" and event.actor_id:
            try:
                ids.add(uuid.UUID(event.actor_id))
            except ValueError:
                continue
    if not ids:
        return {}
    rows = await session.execute(select(Account.id, Account.phone).where(Account.id.in_(ids)))
    return {str(account_id): phone for account_id, phone in rows.all()}


def entry(event: AuditEventRead, locale: Locale, phones: dict[str, str]) -> TransparencyEntry:
    kind = WHO_TYPES.get(event.actor_type, "carrier")
    if kind == "guardian":
        phone = phones.get(event.actor_id or "")
        name = (
            texts.who("guardian", locale, mask(phone))
            if phone
            else texts.who("former_guardian", locale)
        )
    else:
        name = texts.who(kind, locale)
    purpose = event.details.get("purpose")
    return TransparencyEntry(
        id=event.id,
        at=event.occurred_at,
        action=event.action,
        who=WhoRead(type=kind, id=event.actor_id, name=name),  # type: ignore[arg-type]
        text=texts.describe(
            event.action, locale, who=name, purpose=purpose if isinstance(purpose, str) else None
        ),
        details=event.details,
    )


async def feed(
    session: AsyncSession,
    runtime: Runtime,
    child: Child,
    *,
    locale: Locale,
    limit: int,
    cursor: str | None,
) -> TransparencyRead:
    now = runtime.clock.now()
    status = await children.monitoring_of(session, child, now)
    states = await consent.current(session, runtime.settings, child, now)
    page = await audit.child_page(
        session, child.id, limit=limit, cursor=cursor, child_visible_only=True
    )
    phones = await _guardian_phones(session, page.items)
    return TransparencyRead(
        locale=locale,
        monitoring=MonitoringRead(
            active=status.active, ends_on=status.ends_on, reasons=status.reasons
        ),
        monitored=await monitored(
            session, runtime, child, status, {s.purpose: s for s in states}, now
        ),
        consents=await consent_state(session, runtime.settings, child, states),
        entries=[entry(e, locale, phones) for e in page.items],
        next_cursor=page.next_cursor,
    )
