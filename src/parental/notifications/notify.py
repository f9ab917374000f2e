"""Turning events into notifications for the guardians, in the transaction that records them.

For each event a guardian should hear about (``kinds``), every guardian of the child's family
gets one outbox row, keyed by the event's dedup key and the guardian (so an event recorded
twice, or a request retried, notifies once), with the title and body in the guardian's
language and the child's local time (``texts``), as the guardian's preferences say
(``preferences.service.deliver_now``): sent now, held until quiet hours end (the row waits
until then), or not at all for a kind the guardian switched off. The caller commits: the
notification exists exactly when the event's own rows do. The dispatcher sends it.

Wired so far: the alarms the API records (SOS, low battery from a heartbeat, a SIM moved to
another handset). Other events are still published after commit on the in-process bus only.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parental.children import repository as children_repository
from parental.families import repository as families_repository
from parental.kit.events import Event
from parental.notifications import kinds, outbox, texts
from parental.notifications.preferences import service as preferences
from parental.runtime import Runtime


async def notify(session: AsyncSession, runtime: Runtime, events: Sequence[Event]) -> int:
    """Outbox rows for the guardians of each event's child (module doc); how many were added."""
    added = 0
    now = runtime.clock.now()
    for event in events:
        if not kinds.is_notifiable(event):
            continue
        kind = kinds.kind_of(event)
        child = await children_repository.get(session, kinds.child_of(event))
        if child is None:
            continue
        guardians = [
            account
            for _, account in await families_repository.guardians_with_accounts(
                session, child.family_id
            )
        ]
        wanted = await preferences.preferences_of(
            session,
            accounts=guardians,
            default_zone=runtime.settings.notification_default_timezone,
        )
        for account in guardians:
            prefs = wanted[account.id]
            decision = preferences.deliver_now(prefs, kind, now)
            if decision.action == "drop":
                continue
            shown = texts.render(
                event,
                child_name=child.name,
                zone=ZoneInfo(child.timezone),
                locale=prefs.locale,
            )
            message = outbox.PushMessage(
                title=shown.title,
                body=shown.body,
                data=shown.data,
                collapse_key=kinds.collapse_key(event),
                ttl_seconds=int(kind.ttl.total_seconds()),
                priority=kind.priority,
            )
            added += await outbox.enqueue(
                session,
                key=f"{kinds.dedup_key(event)}:{account.id}",
                account_id=account.id,
                kind=kind.name,
                message=message,
                now=now,
                not_before=decision.until if decision.action == "hold" else None,
            )
    return added
