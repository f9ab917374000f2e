"""The catalogue of what guardians are told: one ``Kind`` per event class that reaches them.

Pure: no I/O. For each kind:

- ``name``: stable, stored in outbox rows and preferences, sent to the app (``place.exit``).
- ``priority``: ``high`` wakes the guardian's phone at once (FCM/APNs high priority); ``normal``
  may be batched by the phone's power saving.
- ``ttl``: how long FCM keeps trying to reach an offline phone before the notice is stale.
- ``collapse_key``: notices with the same key replace each other on a phone that was offline
  (the latest battery level, not every reading); ``None`` for notices that must each arrive.
- ``through_quiet_hours``: SOS, a child not arriving where expected, a self-harm block and a
  message about self-harm are sent at once even in the guardian's quiet hours.
- ``may_switch_off``: a guardian may turn any kind off except SOS and self-harm: the child asked
  for help, or may need it.

``dedup_key`` names the event itself from its own ids (the alarm, the request, the stored
mark), so the same event published twice makes one outbox row per guardian, never two.
Message alerts past a child's hourly cap are gathered (``telemetry.conversations.notices``):
their notice is of the self-harm or risk kind by what it gathers, keyed by the child and the
period whatever its kind, sent at the period's end and rewritten until then (``gathered_until``).
``SelfHarmBlocked`` has no id: it is published at most once a minute per child and name, so the
child, that minute and a digest of the name name it. A key is at most 100 characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeGuard
from uuid import UUID

from filters.activity.events import SelfHarmBlocked
from filters.unblock.events import UnblockRequested
from parental.children.events import ChildCameOfAge
from parental.kit.events import Event
from telemetry.alarms.events import DeviceSilent, LowBattery, SimMoved, SosPressed
from telemetry.conversations.events import (
    MessageAlertsGathered,
    RiskyMessage,
    RiskyMessagesGathered,
    SelfHarmMessage,
    SelfHarmMessagesGathered,
)
from telemetry.geofences.events import PlaceEntered, PlaceLeft, PlaceNotArrived
from telemetry.usage.events import (
    AppInstallRequested,
    ExtraTimeRequested,
    ScreenTimeLimitReached,
    TaskDone,
    WeeklyUsageSummary,
)

Priority = Literal["high", "normal"]

NotifiableEvent = (
    PlaceEntered
    | PlaceLeft
    | PlaceNotArrived
    | SosPressed
    | LowBattery
    | DeviceSilent
    | SimMoved
    | SelfHarmBlocked
    | UnblockRequested
    | ExtraTimeRequested
    | AppInstallRequested
    | TaskDone
    | ScreenTimeLimitReached
    | WeeklyUsageSummary
    | SelfHarmMessage
    | RiskyMessage
    | SelfHarmMessagesGathered
    | RiskyMessagesGathered
    | ChildCameOfAge
)

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Kind:
    """What guardians are told about one event class, and how."""

    name: str
    event: type[Event]
    priority: Priority
    ttl: timedelta
    through_quiet_hours: bool = False
    may_switch_off: bool = True


KINDS: tuple[Kind, ...] = (
    # Where the child is: current for about an hour.
    Kind("place.enter", PlaceEntered, "high", _HOUR),
    Kind("place.exit", PlaceLeft, "high", _HOUR),
    # A child not where expected stays worth knowing for longer than an arrival does.
    Kind("place.not_arrived", PlaceNotArrived, "high", 3 * _HOUR, through_quiet_hours=True),
    Kind("alarm.sos", SosPressed, "high", _HOUR, through_quiet_hours=True, may_switch_off=False),
    Kind("alarm.low_battery", LowBattery, "high", _HOUR),
    Kind("alarm.device_silent", DeviceSilent, "high", 6 * _HOUR),
    Kind("alarm.sim_moved", SimMoved, "high", 24 * _HOUR),
    Kind(
        "filter.self_harm",
        SelfHarmBlocked,
        "high",
        24 * _HOUR,
        through_quiet_hours=True,
        may_switch_off=False,
    ),
    Kind("filter.unblock_request", UnblockRequested, "normal", 24 * _HOUR),
    # Extra time is for the child's today, and the child is waiting for the answer.
    Kind("screen_time.extra_time_request", ExtraTimeRequested, "high", 4 * _HOUR),
    Kind("screen_time.app_install_request", AppInstallRequested, "normal", 24 * _HOUR),
    Kind("screen_time.task_done", TaskDone, "normal", 24 * _HOUR),
    Kind("screen_time.limit_reached", ScreenTimeLimitReached, "normal", 4 * _HOUR),
    Kind("usage.weekly_summary", WeeklyUsageSummary, "normal", 72 * _HOUR),
    # A risky message in the child's conversations: self-harm like the blocked site.
    Kind(
        "messages.self_harm",
        SelfHarmMessage,
        "high",
        24 * _HOUR,
        through_quiet_hours=True,
        may_switch_off=False,
    ),
    Kind("messages.risk", RiskyMessage, "high", 24 * _HOUR),
    # Monitoring ended at 18: told once per child, news for days rather than hours.
    Kind("child.adult", ChildCameOfAge, "normal", 72 * _HOUR),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
_BY_EVENT: dict[type[Event], Kind] = {kind.event: kind for kind in KINDS} | {
    SelfHarmMessagesGathered: BY_NAME["messages.self_harm"],
    RiskyMessagesGathered: BY_NAME["messages.risk"],
}
ALWAYS_ON: frozenset[str] = frozenset(k.name for k in KINDS if not k.may_switch_off)


def kind_of(event: Event) -> Kind:
    """The kind of ``event``; KeyError for an event class guardians are not told about."""
    return _BY_EVENT[type(event)]


def is_notifiable(event: Event) -> TypeGuard[NotifiableEvent]:
    return type(event) in _BY_EVENT


def child_of(event: NotifiableEvent) -> UUID:
    """The child whose guardians are told."""
    return event.child_id


def dedup_key(event: NotifiableEvent) -> str:
    """A name of the event itself, the same however many times it is published."""
    if isinstance(event, MessageAlertsGathered):
        # One notice per child and period, whether it gathers self-harm yet or not.
        return f"messages.gathered:{event.child_id}:{event.since.astimezone(UTC):%Y%m%dT%H%M}"
    return f"{kind_of(event).name}:{_event_id(event)}"


def gathered_until(event: NotifiableEvent) -> datetime | None:
    """For a notice that gathers events until a time: that time (it is sent then, and each
    later event of the period rewrites it until then); None for any other."""
    return event.until if isinstance(event, MessageAlertsGathered) else None


def _event_id(event: NotifiableEvent) -> str:
    match event:
        case PlaceEntered() | PlaceLeft() | PlaceNotArrived():
            return str(event.event_id)
        case SosPressed() | LowBattery() | DeviceSilent() | SimMoved():
            return str(event.alarm_id)
        case SelfHarmBlocked():
            minute = event.occurred_at.astimezone(UTC).strftime("%Y%m%dT%H%M")
            return f"{event.child_id}:{minute}:{_digest(event.host)}"
        case UnblockRequested():
            # Asking again for an open request is a new notice (the count went up).
            return f"{event.request_id}:{event.ask_count}"
        case ExtraTimeRequested() | AppInstallRequested():
            return str(event.request_id)
        case TaskDone():
            return str(event.task_id)  # a task is marked done once: done is final until answered
        case ScreenTimeLimitReached():
            return str(event.notice_id)
        case WeeklyUsageSummary():
            return f"{event.child_id}:{event.week_start.isoformat()}"
        case SelfHarmMessage() | RiskyMessage():
            return str(event.alert_id)  # grouped per conversation and label already
        case SelfHarmMessagesGathered() | RiskyMessagesGathered():
            return str(event.since)  # dedup_key names these itself
        case ChildCameOfAge():
            return str(event.child_id)  # a child turns 18 once


def collapse_key(event: NotifiableEvent) -> str | None:
    """Notices with the same key replace each other on a phone that was offline; None: never.

    At most 64 bytes (APNs refuses a longer ``apns-collapse-id``): the kind of story and a
    digest of what it is about.
    """
    match event:
        case PlaceEntered() | PlaceLeft():
            # Where the child is now: an arrival and the departure after it are one story.
            return _collapse("place", event.child_id, event.place_id)
        case LowBattery():
            return _collapse("battery", event.device_id)
        case DeviceSilent():
            return _collapse("silent", event.device_id)
        case SimMoved():
            return _collapse("sim", event.line_id)
        case UnblockRequested():
            return _collapse("unblock", event.request_id)  # asking again replaces the last
        case ScreenTimeLimitReached():
            target = event.app or event.category or "total"
            return _collapse("limit", event.child_id, event.day, event.limit, target)
        case WeeklyUsageSummary():
            return _collapse("weekly", event.child_id, event.week_start)
        case _:
            # SOS, self-harm, a missed arrival, each request and task, the 18th birthday:
            # every one must arrive.
            return None


def _collapse(story: str, *about: object) -> str:
    return f"{story}:{_digest('|'.join(map(str, about)))}"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
