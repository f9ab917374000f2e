"""Turning events into notifications for the guardians, in the transaction that records them.

For each event a guardian should hear about (``kinds``), every guardian of the child's family
gets one outbox row, keyed by the event's dedup key and the guardian (so an event recorded
twice, or a request retried, notifies once), with the title and body in the guardian's
language and the child's local time (``texts``): the language the guardian chose in their
preferences, else the account's for the inbox and, for each phone whose app registered another
language, that one too (the phone gets it: ``PushMessage.translations``), as the guardian's
preferences say
(``preferences.service.deliver_now``): sent now, held until quiet hours end (the row waits
until then), or not at all for a kind the guardian switched off. A notice gathering message
alerts waits for the end of its period, and is rewritten by each later one of the period
(``kinds.gathered_until``). The caller commits: the
notification exists exactly when the event's own rows do. The dispatcher sends it.

Events recorded in no transaction are notified in one of their own: a page blocked for
self-harm (``subscribe``, from the filter's in-memory activity recorder, which publishes on the
bus as it answers).

A batch of events costs one query per child concerned (the child, its guardians, their
preferences and their phones' languages together) and one insert for all rows, however many
events: an upload of fixes may cross several places' borders at once.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.activity.events import SelfHarmBlocked
from parental.auth.models import Account
from parental.children.models import Child
from parental.families.models import Guardian
from parental.i18n import Locale
from parental.kit.db import transaction
from parental.kit.events import Event, EventBus
from parental.notifications import kinds, outbox, texts
from parental.notifications.models import PushToken
from parental.notifications.preferences import service as preferences
from parental.notifications.preferences.models import NotificationPreferencesRow as PreferencesRow
from parental.runtime import Runtime


async def notify(session: AsyncSession, runtime: Runtime, events: Sequence[Event]) -> int:
    """Outbox rows for the guardians of each event's child (module doc); how many were added."""
    by_child: dict[uuid.UUID, list[kinds.NotifiableEvent]] = {}
    for event in events:
        if kinds.is_notifiable(event):
            by_child.setdefault(kinds.child_of(event), []).append(event)
    if not by_child:
        return 0
    now = runtime.clock.now()
    notices: list[outbox.Notice] = []
    for child_id, told in by_child.items():
        notices += await _notices(session, runtime, child_id, told, now)
    return await outbox.enqueue_many(session, notices, now=now)


async def _notices(
    session: AsyncSession,
    runtime: Runtime,
    child_id: uuid.UUID,
    events: Sequence[kinds.NotifiableEvent],
    now: datetime,
) -> list[outbox.Notice]:
    heard = await _audience(session, child_id)
    if not heard:
        return []  # a child removed, or without guardians
    child_name, zone = heard[0].child_name, ZoneInfo(heard[0].child_timezone)
    default_zone = runtime.settings.notification_default_timezone
    guardians = [row.account for row in heard]
    wanted = {
        row.account.id: preferences.of_row(row.preferences, row.account, default_zone)
        for row in heard
    }
    phones = {row.account.id: set((row.phone_locales or "").split(",")) for row in heard}
    notices: list[outbox.Notice] = []
    for event in events:
        kind = kinds.kind_of(event)
        until = kinds.gathered_until(event)
        rendered: dict[Locale, texts.Rendered] = {}  # once per language, not per guardian
        for account in guardians:
            prefs = wanted[account.id]
            # A gathering notice goes out when its period ends: the quiet hours then count.
            decision = preferences.deliver_now(prefs, kind, until or now)
            if decision.action == "drop":
                continue
            # A language the guardian chose is every phone's; else each phone gets its own.
            others = [] if prefs.locale_chosen else _locales(phones.get(account.id, ()))
            for locale in (prefs.locale, *others):
                if locale not in rendered:
                    rendered[locale] = texts.render(
                        event, child_name=child_name, zone=zone, locale=locale
                    )
            shown = rendered[prefs.locale]
            message = outbox.PushMessage(
                title=shown.title,
                body=shown.body,
                data=shown.data,
                collapse_key=kinds.collapse_key(event),
                ttl_seconds=int(kind.ttl.total_seconds()),
                priority=kind.priority,
                # Without a sound an iPhone shows an alert silently, an SOS included.
                sound="default",
                translations={
                    locale: {"title": rendered[locale].title, "body": rendered[locale].body}
                    for locale in others
                    if locale != prefs.locale
                },
            )
            notices.append(
                outbox.Notice(
                    key=f"{kinds.dedup_key(event)}:{account.id}",
                    account_id=account.id,
                    kind=kind.name,
                    message=message,
                    not_before=decision.until if decision.action == "hold" else until,
                    rewrites=until is not None,
                )
            )
    return notices


class _Heard(NamedTuple):
    child_name: str
    child_timezone: str
    account: Account
    preferences: PreferencesRow | None
    phone_locales: str | None  # the languages of the guardian's phones, comma-separated


# Built once: every notified event runs it. The child, each guardian's account, preferences
# and the languages their phones registered, in one statement (four queries before).
_AUDIENCE = (
    select(
        Child.name,
        Child.timezone,
        Account,
        PreferencesRow,
        select(func.aggregate_strings(PushToken.locale, ","))
        .where(PushToken.account_id == Account.id)
        .correlate(Account)
        .scalar_subquery(),
    )
    .select_from(Child)
    .join(Guardian, Guardian.family_id == Child.family_id)
    .join(Account, Account.id == Guardian.account_id)
    .outerjoin(PreferencesRow, PreferencesRow.account_id == Account.id)
    .where(Child.id == bindparam("child_id"))
    .order_by(Guardian.joined_at)
)


async def _audience(session: AsyncSession, child_id: uuid.UUID) -> list[_Heard]:
    """Who hears of the child's events: the child's name and zone with each guardian."""
    result = await session.execute(_AUDIENCE, {"child_id": child_id})
    return [_Heard(*row) for row in result.all()]


def _locales(names: Iterable[str]) -> list[Locale]:
    """The languages among ``names`` that notices are written in, in a stable order."""
    named = set(names)
    return [locale for locale in get_args(Locale) if locale in named]


_SUBSCRIBED: weakref.WeakSet[EventBus] = weakref.WeakSet()


def subscribe(runtime: Runtime) -> None:
    """Notify the events that no transaction records (module doc), once per bus."""
    if runtime.bus in _SUBSCRIBED:
        return
    _SUBSCRIBED.add(runtime.bus)

    async def on_self_harm(event: SelfHarmBlocked) -> None:
        async with transaction(runtime.sessions) as session:
            await notify(session, runtime, [event])

    runtime.bus.subscribe(SelfHarmBlocked, on_self_harm)
