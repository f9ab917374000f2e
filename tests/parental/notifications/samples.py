"""One event of each kind guardians are told about, with fixed ids and times.

The child lives in Asia/Almaty (UTC+5): 09:00 UTC is 14:00 on the child's clock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from filters.activity.events import SelfHarmBlocked
from filters.unblock.events import UnblockRequested
from parental.children.events import ChildCameOfAge
from parental.notifications.kinds import NotifiableEvent
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
    SummaryAppFigure,
    TaskDone,
    WeeklyUsageSummary,
)
from telemetry.usage.policy import Category

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CHILD = uuid.UUID("00000000-0000-4000-8000-00000000c41d")
DEVICE = uuid.UUID("00000000-0000-4000-8000-0000000de71c")
PLACE = uuid.UUID("00000000-0000-4000-8000-0000000091ac")
LINE = uuid.UUID("00000000-0000-4000-8000-00000000011e")


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=0x1000 + n)


def place_entered(**changes: object) -> PlaceEntered:
    values: dict[str, object] = {
        "occurred_at": AT,
        "event_id": uid(1),
        "child_id": CHILD,
        "place_id": PLACE,
        "place_name": "School No. 12",
        "fixed_at": AT,
        "latitude": 43.24,
        "longitude": 76.89,
        "accuracy_m": 12.0,
    }
    return PlaceEntered.model_validate(values | changes)


def sample_events() -> list[NotifiableEvent]:
    """One event of every kind, in the catalogue's order."""
    fix = {"fixed_at": AT, "latitude": 43.24, "longitude": 76.89, "accuracy_m": 12.0}
    place = {"child_id": CHILD, "place_id": PLACE, "place_name": "School No. 12"}
    return [
        place_entered(),
        PlaceLeft(occurred_at=AT, event_id=uid(2), **place, **fix),  # type: ignore[arg-type]
        PlaceNotArrived(
            occurred_at=AT,
            event_id=uid(3),
            **place,  # type: ignore[arg-type]
            deadline=AT,
            local_date=date(2026, 11, 25),
            by=time(14, 0),
            timezone="Asia/Almaty",
        ),
        SosPressed(
            occurred_at=AT,
            alarm_id=uid(4),
            child_id=CHILD,
            device_id=DEVICE,
            latitude=43.24,
            longitude=76.89,
            accuracy_m=20.0,
        ),
        LowBattery(
            occurred_at=AT,
            alarm_id=uid(5),
            child_id=CHILD,
            device_id=DEVICE,
            battery_pct=9,
            threshold_pct=15,
        ),
        DeviceSilent(
            occurred_at=AT,
            alarm_id=uid(6),
            child_id=CHILD,
            device_id=DEVICE,
            last_seen_at=AT - timedelta(minutes=45),
            silent_after_minutes=30,
        ),
        SimMoved(occurred_at=AT, alarm_id=uid(7), child_id=CHILD, line_id=LINE),
        SelfHarmBlocked(occurred_at=AT, child_id=CHILD, category="self-harm", host="harm.test"),
        UnblockRequested(
            occurred_at=AT,
            request_id=uid(9),
            child_id=CHILD,
            host="school-wiki.test",
            category="social",
            ask_count=1,
        ),
        ExtraTimeRequested(
            occurred_at=AT,
            request_id=uid(10),
            child_id=CHILD,
            app="com.example.game",
            category=None,
            minutes=30,
            message="Please, one more level",
        ),
        AppInstallRequested(
            occurred_at=AT,
            request_id=uid(11),
            child_id=CHILD,
            app="org.example.chess",
            app_name="Chess Club",
            message=None,
        ),
        TaskDone(
            occurred_at=AT, task_id=uid(12), child_id=CHILD, title="Homework", reward_minutes=20
        ),
        ScreenTimeLimitReached(
            occurred_at=AT,
            notice_id=uid(13),
            child_id=CHILD,
            day=date(2026, 11, 25),
            timezone="Asia/Almaty",
            limit="app",
            app="com.example.game",
            app_name="Example Game",
            minutes=60,
        ),
        WeeklyUsageSummary(
            occurred_at=AT,
            summary_id=uid(14),
            child_id=CHILD,
            week_start=date(2026, 11, 16),
            week_end=date(2026, 11, 22),
            timezone="Asia/Almaty",
            total_minutes=750.0,
            previous_total_minutes=600.0,
            categories={Category.GAMES: 400.0},
            previous_categories={Category.GAMES: 300.0},
            top_apps=[
                SummaryAppFigure(
                    app="com.example.game",
                    name="Example Game",
                    category=Category.GAMES,
                    minutes=400.0,
                    share=0.53,
                )
            ],
        ),
        SelfHarmMessage(
            occurred_at=AT,
            alert_id=uid(20),
            child_id=CHILD,
            label="self_harm",
            labels=("self_harm",),
            severity="high",
            app="org.telegram.messenger",
            sent_at=AT - timedelta(minutes=2),
        ),
        RiskyMessage(
            occurred_at=AT,
            alert_id=uid(21),
            child_id=CHILD,
            label="grooming",
            labels=("grooming",),
            severity="medium",
            app="com.whatsapp",
            sent_at=AT - timedelta(minutes=3),
        ),
        ChildCameOfAge(
            occurred_at=AT,
            child_id=CHILD,
            adult_on=date(2026, 11, 25),
            erase_on=date(2026, 12, 25),
        ),
    ]


def message_notices() -> list[NotifiableEvent]:
    """The other notices of message alerts: several labels at once (without and with
    self-harm), and alerts gathered past the hourly cap (without and with self-harm)."""
    since = AT - timedelta(minutes=15)  # 13:45 on the child's clock
    return [
        RiskyMessage(
            occurred_at=AT,
            alert_id=uid(22),
            child_id=CHILD,
            label="grooming",
            labels=("grooming", "sexual", "drugs"),
            severity="high",
            app="com.whatsapp",
            sent_at=AT - timedelta(minutes=3),
        ),
        SelfHarmMessage(
            occurred_at=AT,
            alert_id=uid(23),
            child_id=CHILD,
            label="self_harm",
            labels=("self_harm", "bullying"),
            severity="high",
            app="org.telegram.messenger",
            sent_at=AT - timedelta(minutes=2),
        ),
        RiskyMessagesGathered(
            occurred_at=AT,
            child_id=CHILD,
            since=since,
            until=AT,
            alerts=12,
            conversations=7,
            labels=("bullying", "violence"),
        ),
        SelfHarmMessagesGathered(
            occurred_at=AT,
            child_id=CHILD,
            since=since,
            until=AT,
            alerts=30,
            conversations=25,
            labels=("self_harm", "drugs"),
        ),
    ]
