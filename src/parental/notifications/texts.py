"""What a guardian's phone shows for each kind of notice, in Kazakh, Russian or English.

Pure: no I/O. The texts themselves live in ``parental.i18n`` under ``push.<kind>.title`` and
``push.<kind>.body`` (with variants such as ``body_category``), beside the SMS texts: one
catalogue of everything the service says to a person, checked whole by one test. This module
picks the variant and fills it in:

- the child's name and the event's details (place, battery %, minutes, app, site);
- times as ``HH:MM`` on the wall clock of the child's zone (with ``DD.MM`` in front when the
  day is not the event's own), durations as hours and minutes in the guardian's language;
- a title of at most 50 characters and a body of at most 180: the longest names (a child's,
  a place's, a task's) are shortened with "…" until it fits;
- ``data``: strings only (FCM's rule), the kind and the ids the app needs to open the screen.

A self-harm notice names no site, and a message alert quotes nothing: a phone's lock screen is
read by others, and the app shows the details to the guardian. A message alert names its
labels (several when one conversation raised several at once); a notice gathering alerts past
the hourly cap gives how many since when, and their labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from filters.activity.events import SelfHarmBlocked
from filters.unblock.events import UnblockRequested
from parental import i18n
from parental.children.events import ChildCameOfAge
from parental.notifications.kinds import NotifiableEvent, kind_of
from telemetry.alarms.events import DeviceSilent, LowBattery, SimMoved, SosPressed
from telemetry.conversations.events import (
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

TITLE_MAX = 50
BODY_MAX = 180
_SHORTEST = 6  # a name is never cut below this (and "…")
# A weekly change smaller than this is "about the same".
_SAME_WEEK_MINUTES = 15


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str
    data: dict[str, str]


def render(
    event: NotifiableEvent, *, child_name: str, zone: ZoneInfo, locale: i18n.Locale
) -> Rendered:
    """The title, body and data of ``event``'s notice, in ``locale``."""
    kind = kind_of(event)
    values: dict[str, str] = {"child": child_name}
    variant, title = "body", "title"
    data = {"kind": kind.name, "child_id": str(event.child_id)}
    match event:
        case PlaceEntered() | PlaceLeft():
            values |= {"place": event.place_name, "time": _clock(event.fixed_at, zone)}
            data |= {"place_id": str(event.place_id), "event_id": str(event.event_id)}
        case PlaceNotArrived():
            values |= {"place": event.place_name, "by": event.by.strftime("%H:%M")}
            data |= {"place_id": str(event.place_id), "event_id": str(event.event_id)}
        case SosPressed():
            values["time"] = _clock(event.occurred_at, zone)
            data |= {"alarm_id": str(event.alarm_id), "device_id": str(event.device_id)}
        case LowBattery():
            values["battery"] = str(event.battery_pct)
            data |= {"alarm_id": str(event.alarm_id), "device_id": str(event.device_id)}
        case DeviceSilent():
            values["since"] = _clock(event.last_seen_at, zone, day_of=event.occurred_at)
            data |= {"alarm_id": str(event.alarm_id), "device_id": str(event.device_id)}
        case SimMoved():
            values["time"] = _clock(event.occurred_at, zone)
            data |= {"alarm_id": str(event.alarm_id), "line_id": str(event.line_id)}
        case SelfHarmBlocked():
            values["time"] = _clock(event.occurred_at, zone)
        case UnblockRequested():
            values |= {"host": event.host, "count": str(event.ask_count)}
            variant = "body_again" if event.ask_count > 1 else "body"
            data["request_id"] = str(event.request_id)
        case ExtraTimeRequested():
            values["minutes"] = str(event.minutes)
            if event.app is not None:
                values["app"], variant = event.app, "body_app"
            elif event.category is not None:
                values["category"] = _category(event.category, locale)
                variant = "body_category"
            else:
                variant = "body_total"
            data["request_id"] = str(event.request_id)
        case AppInstallRequested():
            values["app"] = event.app_name or event.app
            data |= {"request_id": str(event.request_id), "app": event.app}
        case TaskDone():
            values |= {"task": event.title, "minutes": str(event.reward_minutes)}
            variant = "body" if event.reward_minutes > 0 else "body_no_reward"
            data["task_id"] = str(event.task_id)
        case ScreenTimeLimitReached():
            values["minutes"] = str(event.minutes)
            if event.limit == "app":
                values["app"] = event.app_name or event.app or "?"
            elif event.limit == "category":
                values["category"] = _category(event.category or "other", locale)
            variant = f"body_{event.limit}"
            data |= {"notice_id": str(event.notice_id), "day": event.day.isoformat()}
        case WeeklyUsageSummary():
            return _weekly(event, child_name, locale, data)
        case SelfHarmMessage() | RiskyMessage():
            # What was written stays out of the notice: the app shows the excerpt, and the
            # child's device shows that the guardian looked.
            values |= {"time": _clock(event.sent_at, zone), "app": _app_name(event.app)}
            others = [label for label in event.labels if label != event.label]
            if isinstance(event, RiskyMessage):
                variant = "body_several" if others else f"body_{event.label}"
                values["labels"] = _labels(event.labels, locale)
            elif others:
                variant = "body_also"
                values["labels"] = _labels(others, locale)
            data |= {
                "alert_id": str(event.alert_id),
                "label": event.label,
                "labels": ",".join(event.labels),
            }
        case SelfHarmMessagesGathered() | RiskyMessagesGathered():
            values |= {
                "time": _clock(event.since, zone, day_of=event.until),
                "count": str(event.alerts),
                "labels": _labels(event.labels, locale),
            }
            variant = "body_gathered"
            if isinstance(event, RiskyMessagesGathered):
                title = "title_gathered"
            data |= {
                "since": event.since.isoformat(),
                "until": event.until.isoformat(),
                "alerts": str(event.alerts),
                "conversations": str(event.conversations),
                "labels": ",".join(event.labels),
            }
        case ChildCameOfAge():
            values["date"] = event.erase_on.strftime("%d.%m.%Y")
            data |= {"adult_on": event.adult_on.isoformat(), "erase_on": event.erase_on.isoformat()}
    prefix = f"push.{kind.name}."
    return Rendered(
        title=_fit(prefix + title, locale, TITLE_MAX, values),
        body=_fit(prefix + variant, locale, BODY_MAX, values),
        data=data,
    )


def _labels(labels: Sequence[str], locale: i18n.Locale) -> str:
    """The classifier's labels as the guardian reads them, in order."""
    return ", ".join(i18n.text(f"push.messages.label.{label}", locale) for label in labels)


def _weekly(
    event: WeeklyUsageSummary, child_name: str, locale: i18n.Locale, data: dict[str, str]
) -> Rendered:
    week = f"{event.week_start:%d.%m}–{event.week_end:%d.%m}"
    values = {"child": child_name, "week": week, "total": _duration(event.total_minutes, locale)}
    change = event.total_minutes - event.previous_total_minutes
    if event.previous_total_minutes <= 0:
        variant = "body"
    elif abs(change) < _SAME_WEEK_MINUTES:
        variant = "body_same"
    else:
        variant = "body_more" if change > 0 else "body_less"
        values["diff"] = _duration(abs(change), locale)
    body = _fit("push.usage.weekly_summary." + variant, locale, BODY_MAX, values)
    if event.top_apps:
        top = event.top_apps[0]
        extra = i18n.text("push.usage.weekly_summary.top_app", locale, app=top.name or top.app)
        if len(body) + len(extra) <= BODY_MAX:
            body += extra
    data |= {
        "summary_id": str(event.summary_id),
        "week_start": event.week_start.isoformat(),
    }
    return Rendered(
        title=_fit("push.usage.weekly_summary.title", locale, TITLE_MAX, values),
        body=body,
        data=data,
    )


def _clock(instant: datetime, zone: ZoneInfo, *, day_of: datetime | None = None) -> str:
    """``HH:MM`` in ``zone``; ``DD.MM HH:MM`` when that is not the local day of ``day_of``."""
    local = instant.astimezone(zone)
    if day_of is not None and day_of.astimezone(zone).date() != local.date():
        return local.strftime("%d.%m %H:%M")
    return local.strftime("%H:%M")


def _duration(minutes: float, locale: i18n.Locale) -> str:
    hours, rest = divmod(round(minutes), 60)
    if hours == 0:
        return i18n.text("push.duration.minutes", locale, minutes=rest)
    return i18n.text("push.duration.hours", locale, hours=hours, minutes=rest)


def _category(category: str, locale: i18n.Locale) -> str:
    return i18n.text(f"push.category.{category}", locale)  # every usage category has one


def _fit(key: str, locale: i18n.Locale, limit: int, values: dict[str, str]) -> str:
    """``key`` filled in, the longest values shortened with "…" until it is ``limit`` long."""
    values = dict(values)
    text = i18n.text(key, locale, **values)
    while len(text) > limit:
        name = max(values, key=lambda n: len(values[n]))
        longest = values[name]
        if len(longest) <= _SHORTEST + 1:
            return text[: limit - 1] + "…"
        # Each placeholder may appear more than once: cut by at least the excess once.
        keep = max(_SHORTEST, len(longest) - (len(text) - limit) - 1)
        values[name] = longest[:keep].rstrip() + "…"
        text = i18n.text(key, locale, **values)
    return text


_KNOWN_APPS = {
    "org.telegram.messenger": "Telegram",
    "ph.telegra.Telegraph": "Telegram",
    "com.whatsapp": "WhatsApp",
    "net.whatsapp.WhatsApp": "WhatsApp",
    "com.instagram.android": "Instagram",
    "com.burbn.instagram": "Instagram",
    "com.vkontakte.android": "VK",
    "com.discord": "Discord",
    "com.snapchat.android": "Snapchat",
    "com.zhiliaoapp.musically": "TikTok",
}


def _app_name(app: str) -> str:
    """A messenger's usual name, or its id."""
    return _KNOWN_APPS.get(app, app)
