"""The catalogue of notification kinds: one per event class, stable names, the rules of each
(priority, TTL, quiet hours, switching off), and the keys derived from an event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from filters.activity.events import SelfHarmBlocked
from filters.unblock.events import UnblockRequested
from parental.kit.events import Event
from parental.notifications import kinds
from parental.notifications.kinds import (
    ALWAYS_ON,
    BY_NAME,
    KINDS,
    NotifiableEvent,
    child_of,
    collapse_key,
    dedup_key,
    kind_of,
)
from telemetry.alarms.events import AlarmRaised, LowBattery
from telemetry.usage.events import ScreenTimeLimitReached, WeeklyUsageSummary
from tests.parental.notifications.samples import (
    AT,
    CHILD,
    DEVICE,
    message_notices,
    place_entered,
    sample_events,
)

NAMES = [
    "place.enter",
    "place.exit",
    "place.not_arrived",
    "alarm.sos",
    "alarm.low_battery",
    "alarm.device_silent",
    "alarm.sim_moved",
    "filter.self_harm",
    "filter.unblock_request",
    "screen_time.extra_time_request",
    "screen_time.app_install_request",
    "screen_time.task_done",
    "screen_time.limit_reached",
    "usage.weekly_summary",
    "messages.self_harm",
    "messages.risk",
    "child.adult",
]


def test_every_event_class_has_one_kind_with_a_stable_name() -> None:
    assert [kind_of(event).name for event in sample_events()] == NAMES
    assert [k.name for k in KINDS] == NAMES
    assert len({k.event for k in KINDS}) == len(KINDS)
    assert set(BY_NAME) == set(NAMES)


def test_an_event_guardians_are_not_told_about_has_no_kind() -> None:
    base = AlarmRaised(occurred_at=AT, alarm_id=CHILD, child_id=CHILD)
    with pytest.raises(KeyError):
        kind_of(base)
    with pytest.raises(KeyError):
        kind_of(Event(occurred_at=AT))
    assert not kinds.is_notifiable(base)
    assert all(kinds.is_notifiable(e) for e in sample_events())


def test_sos_and_self_harm_always_go_through_and_cannot_be_switched_off() -> None:
    assert {"alarm.sos", "filter.self_harm", "messages.self_harm"} == ALWAYS_ON
    through = {k.name for k in KINDS if k.through_quiet_hours}
    assert through == {"alarm.sos", "filter.self_harm", "messages.self_harm", "place.not_arrived"}
    # "Not arrived" goes through quiet hours, but a guardian may turn it off.
    assert BY_NAME["place.not_arrived"].may_switch_off


def test_priorities_and_ttls() -> None:
    assert BY_NAME["alarm.sos"].priority == "high"
    assert BY_NAME["alarm.sos"].ttl == timedelta(hours=1)
    assert BY_NAME["place.exit"].ttl == timedelta(hours=1)
    assert BY_NAME["usage.weekly_summary"].priority == "normal"
    assert BY_NAME["usage.weekly_summary"].ttl == timedelta(days=3)
    for kind in KINDS:
        # FCM keeps a message at most four weeks; ours are all stale long before.
        assert timedelta(minutes=10) <= kind.ttl <= timedelta(days=3), kind.name


def test_child_of_names_the_child_of_every_event() -> None:
    assert {child_of(event) for event in sample_events()} == {CHILD}


def test_dedup_keys_are_unique_per_event_and_stable_across_republishing() -> None:
    events = sample_events()
    keys = [dedup_key(e) for e in events]
    assert len(set(keys)) == len(keys)
    assert all(len(key) <= 100 for key in keys)
    # The same event, published again (a copy), has the same key.
    assert [dedup_key(e.model_copy()) for e in events] == keys
    assert all(key.startswith(kind_of(e).name + ":") for e, key in zip(events, keys, strict=True))
    # The ids of the event are what names it, not its time of publication.
    later = place_entered(occurred_at=AT + timedelta(seconds=5))
    assert dedup_key(later) == dedup_key(place_entered())
    other = place_entered(event_id=CHILD)
    assert dedup_key(other) != dedup_key(place_entered())


def test_self_harm_is_named_by_child_host_and_minute() -> None:
    def blocked(seconds: int, host: str = "harm.test") -> SelfHarmBlocked:
        return SelfHarmBlocked(
            occurred_at=AT + timedelta(seconds=seconds),
            child_id=CHILD,
            category="self-harm",
            host=host,
        )

    assert dedup_key(blocked(0)) == dedup_key(blocked(59))
    assert dedup_key(blocked(0)) != dedup_key(blocked(60))
    assert dedup_key(blocked(0)) != dedup_key(blocked(0, "other.test"))
    assert len(dedup_key(blocked(0, "a" * 63 + "." + "b" * 189))) <= 100


def test_asking_again_is_a_new_notice_that_replaces_the_last() -> None:
    first, again = (
        UnblockRequested(
            occurred_at=AT,
            request_id=CHILD,
            child_id=CHILD,
            host="a.test",
            category=None,
            ask_count=count,
        )
        for count in (1, 2)
    )
    assert dedup_key(first) != dedup_key(again)
    assert collapse_key(first) == collapse_key(again) is not None


def test_collapse_keys() -> None:
    by_kind = {kind_of(e).name: collapse_key(e) for e in sample_events()}
    never = {
        "alarm.sos",
        "filter.self_harm",
        "place.not_arrived",
        "screen_time.extra_time_request",
        "screen_time.app_install_request",
        "screen_time.task_done",
        "messages.self_harm",
        "messages.risk",
        "child.adult",
    }
    assert {name for name, key in by_kind.items() if key is None} == never
    for key in by_kind.values():
        # APNs refuses an apns-collapse-id longer than 64 bytes.
        assert key is None or len(key.encode()) <= 64
    # Arriving at a place and leaving it are one story on the phone.
    assert by_kind["place.enter"] == by_kind["place.exit"]
    assert by_kind["place.enter"] != collapse_key(place_entered(place_id=DEVICE))


def test_low_battery_collapses_per_device() -> None:
    def battery(pct: int, device: object = DEVICE) -> LowBattery:
        return LowBattery(
            occurred_at=AT,
            alarm_id=CHILD,
            child_id=CHILD,
            device_id=device,  # type: ignore[arg-type]
            battery_pct=pct,
            threshold_pct=15,
        )

    assert collapse_key(battery(9)) == collapse_key(battery(4))
    assert collapse_key(battery(9)) != collapse_key(battery(9, CHILD))


def test_weekly_report_collapses_and_dedups_per_child_and_week() -> None:
    weekly = next(e for e in sample_events() if isinstance(e, WeeklyUsageSummary))
    again = weekly.model_copy(update={"summary_id": CHILD})  # the mark stored anew
    next_week = weekly.model_copy(update={"week_start": weekly.week_start + timedelta(days=7)})
    assert dedup_key(again) == dedup_key(weekly)
    assert collapse_key(again) == collapse_key(weekly)
    assert dedup_key(next_week) != dedup_key(weekly)
    assert collapse_key(next_week) != collapse_key(weekly)


def test_limits_collapse_per_day_and_limit() -> None:
    limit = next(e for e in sample_events() if isinstance(e, ScreenTimeLimitReached))
    total = limit.model_copy(update={"limit": "total", "app": None, "app_name": None})
    tomorrow = limit.model_copy(update={"day": limit.day + timedelta(days=1)})
    keys: list[str | None] = [collapse_key(e) for e in (limit, total, tomorrow)]
    assert len(set(keys)) == 3


def _events_by_kind() -> dict[str, NotifiableEvent]:
    return {kind_of(e).name: e for e in sample_events()}


def test_samples_cover_every_kind() -> None:
    assert set(_events_by_kind()) == set(BY_NAME)


def test_gathered_message_alerts_are_one_notice_per_child_and_period_whatever_their_kind() -> None:
    several, also, risky, harm = message_notices()
    assert (kind_of(several).name, kind_of(also).name) == ("messages.risk", "messages.self_harm")
    assert (kind_of(risky).name, kind_of(harm).name) == ("messages.risk", "messages.self_harm")
    # Self-harm joining a period's gathered alerts rewrites the same notice.
    assert dedup_key(risky) == dedup_key(harm) == "messages.gathered:" + f"{CHILD}:20261125T0845"
    later = risky.model_copy(update={"since": AT, "until": AT + timedelta(minutes=15)})
    assert dedup_key(later) != dedup_key(risky)
    assert kinds.gathered_until(risky) == AT
    assert kinds.gathered_until(several) is None
    assert all(kinds.is_notifiable(e) for e in message_notices())
    assert all(collapse_key(e) is None for e in message_notices())
