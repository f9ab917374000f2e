"""Removing a child removes the filter's data about the child in the same request: counts,
blocked names, query log, unblock requests, profile and entries, report submissions, the
line's bindings. The family's other child keeps all of theirs."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.activity.models import BlockedHost, LoggedQuery, VerdictCount
from filters.profiles.models import FilterProfile, FilterProfileEntry
from filters.reports.models import FilterReport, FilterReportSubmission
from filters.unblock.models import UnblockRequest
from parental.commands.models import DeviceCommand
from parental.consent.models import ConsentRecord
from parental.kit.db import Base, transaction
from parental.lines.models import Line, LineBinding
from parental.models import AuditEvent, Device, PairingCode
from parental.runtime import Runtime
from parental.usage import send_weekly_summaries
from telemetry.alarms.models import Alarm, AlarmSettings, DeviceStatus
from telemetry.conversations.models import ConversationMessage, MessageAlert
from telemetry.geofences.models import Place, PlaceEventRow
from telemetry.locations.models import LocationFix
from telemetry.usage.catalogue.models import ChildAppCategory
from telemetry.usage.models import UsageApp, UsageSession
from telemetry.usage.reports.models import LimitReachedMark, WeeklySummaryMark
from telemetry.usage.requests.models import ScreenTimeRequest
from telemetry.usage.rules.models import ScreenTimePolicy
from telemetry.usage.tasks.models import ScreenTimeTask
from tests.parental.factories import FamilyWorld, add_child, register_line

SECOND_LINE = "+77071234568"
# Tables holding a child id, and what removing the child does to them.
ERASED = {
    "filter_verdict_counts": VerdictCount,
    "filter_blocked_hosts": BlockedHost,
    "filter_query_log": LoggedQuery,
    "unblock_requests": UnblockRequest,
    "filter_profiles": FilterProfile,
    "filter_report_submissions": FilterReportSubmission,
    "location_fixes": LocationFix,
    "geofence_places": Place,
    "geofence_events": PlaceEventRow,
    "alarms": Alarm,
    "alarm_settings": AlarmSettings,
    "alarm_device_status": DeviceStatus,
    "usage_sessions": UsageSession,
    "usage_apps": UsageApp,
    "screen_time_policies": ScreenTimePolicy,
    "child_app_categories": ChildAppCategory,
    "screen_time_requests": ScreenTimeRequest,
    "screen_time_tasks": ScreenTimeTask,
    "usage_weekly_summaries": WeeklySummaryMark,
    "usage_limit_reached": LimitReachedMark,
    "conversation_messages": ConversationMessage,
    "message_alerts": MessageAlert,
    "consent_records": ConsentRecord,
}
FILTER_KINDS = {
    "verdict_counts", "blocked_names", "query_log", "unblock_requests", "profile_entries",
    "profiles", "report_submissions", "reports", "line_bindings",
}  # fmt: skip
CASCADED = {"devices": Device, "pairing_codes": PairingCode, "device_commands": DeviceCommand}
KEPT = {"audit_events": AuditEvent}  # the family's record, the removal included


def test_every_table_with_a_child_id_is_accounted_for() -> None:
    holding = {t.name for t in Base.metadata.tables.values() if "child_id" in t.columns}
    assert holding - {"children"} == set(ERASED) | set(CASCADED) | set(KEPT)


def open_report(host: str, at: datetime) -> FilterReport:
    return FilterReport(
        kind="wrongly_blocked",
        target=f"https://{host}/",
        host=host,
        path="",
        open_key=host,
        status="open",
        reporter_count=0,
        created_at=at,
        last_reported_at=at,
    )


def submission(
    report: FilterReport, child_id: uuid.UUID | None, text: str, at: datetime
) -> FilterReportSubmission:
    report.reporter_count += 1
    return FilterReportSubmission(
        report_id=report.id,
        reporter_type="device" if child_id else "block_page",
        reporter_id=None,
        child_id=child_id,
        target=text,
        created_at=at,
    )


async def seed(
    session: AsyncSession, child_id: uuid.UUID, line_id: uuid.UUID, at: datetime
) -> None:
    """A row in every filter table about ``child_id``, and a binding of its line."""
    day = at.date()
    session.add_all(
        [
            VerdictCount(child_id=child_id, day=day, category="", action="allow", count=7),
            BlockedHost(
                child_id=child_id,
                day=day,
                host="casino.test",
                category="gambling",
                count=2,
                last_at=at,
            ),
            LoggedQuery(
                id=uuid.uuid4(),
                child_id=child_id,
                occurred_at=at,
                host="casino.test",
                action="block",
                category="gambling",
                count=1,
            ),
            UnblockRequest(
                child_id=child_id,
                host="casino.test",
                category="gambling",
                open_key=None,
                status="denied",
                ask_count=1,
                created_at=at,
                last_asked_at=at,
            ),
            LineBinding(
                session_id=f"s-{child_id}",
                line_id=line_id,
                network=f"10.{child_id.int % 250}.2.3",
                started_at=at,
                expires_at=at + timedelta(minutes=30),
                updated_at=at,
            ),
        ]
    )
    profile = FilterProfile(
        child_id=child_id, timezone="Asia/Almaty", categories={}, created_at=at, updated_at=at
    )
    session.add(profile)
    await session.flush()
    session.add(
        FilterProfileEntry(
            profile_id=profile.id,
            host="games.test",
            scope="subtree",
            action="allow",
            created_by="guardian",
            created_at=at,
        )
    )
    await session.flush()


async def seed_telemetry(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, child_id: uuid.UUID
) -> None:
    """A place, two fixes (outside, then inside: an enter event), a screen-on session, a
    heartbeat, an SOS, the alarm settings, the screen-time rules, an app's category, a request
    for extra time and a task of the family's child, through the API as the device and guardian
    send them; then an upload past the game's limit and the worker's weekly summary round."""
    guardian, device = family.guardian.headers, family.device_headers
    place = {
        "name": "School",
        "shape": {
            "kind": "circle",
            "center": {"latitude": 43.2389, "longitude": 76.8897},
            "radius_m": 300,
        },
    }
    created = await client.post(f"/v1/children/{child_id}/places", headers=guardian, json=place)
    assert created.status_code == 201, created.text
    now = runtime.clock.now()
    fixes = [
        {"fixed_at": (now - timedelta(minutes=m)).isoformat(), "latitude": lat,
         "longitude": 76.8897, "accuracy_m": 10, "battery_pct": 80}
        for m, lat in ((10, 43.30), (5, 43.2389))
    ]  # fmt: skip
    stored = await client.post("/v1/device/locations", headers=device, json={"fixes": fixes})
    assert stored.status_code == 200, stored.text
    screen = {"kind": "screen", "started_at": (now - timedelta(minutes=10)).isoformat(),
              "ended_at": now.isoformat()}  # fmt: skip
    app = {**screen, "kind": "app", "app": "com.example.game", "app_name": "Game"}
    used = await client.post("/v1/device/usage", headers=device, json={"sessions": [screen, app]})
    assert used.status_code == 200, used.text
    beat = {"battery_pct": 80, "charging": False, "app_version": "1.0.0"}
    assert (await client.post("/v1/device/heartbeat", headers=device, json=beat)).is_success
    sos = {"kind": "sos", "pressed_at": now.isoformat()}
    assert (await client.post("/v1/device/alarms", headers=device, json=sos)).is_success
    settings = {
        "battery_threshold_pct": 20,
        "silent_after_minutes": 120,
        "low_battery_enabled": True,
        "device_silent_enabled": True,
        "sim_moved_enabled": True,
    }
    put = await client.put(
        f"/v1/children/{child_id}/alarm-settings", headers=guardian, json=settings
    )
    assert put.is_success, put.text
    rules = {"app_limits": {"com.example.game": {"minutes": 30}}}
    put = await client.put(
        f"/v1/children/{child_id}/screen-time/rules", headers=guardian, json=rules
    )
    assert put.is_success, put.text
    put = await client.put(
        f"/v1/children/{child_id}/apps/com.example.game/category",
        headers=guardian,
        json={"category": "games"},
    )
    assert put.is_success, put.text
    asked = {"kind": "extra_time", "app": "com.example.game", "minutes": 15}
    post = await client.post("/v1/device/screen-time/requests", headers=device, json=asked)
    assert post.is_success, post.text
    task = {"title": "Tidy your room", "reward_minutes": 20}
    post = await client.post(
        f"/v1/children/{child_id}/screen-time/tasks", headers=guardian, json=task
    )
    assert post.is_success, post.text
    longer = {**app, "started_at": (now - timedelta(minutes=45)).isoformat()}
    used = await client.post("/v1/device/usage", headers=device, json={"sessions": [longer]})
    assert used.json()["sync_policy"], used.text  # the game's 30 minutes used up: a mark
    await send_weekly_summaries(runtime)  # last week's mark (of both children)
    risky = {
        "app": "org.telegram.messenger",
        "conversation_id": "chat",
        "message_id": "1",
        "direction": "incoming",
        "text": "хочу покончить с собой",
        "sent_at": now.isoformat(),
    }
    sent = await client.post("/v1/device/messages", headers=device, json={"messages": [risky]})
    assert sent.json()["accepted"] == 1, sent.text
    ring = await client.post(
        f"/v1/children/{child_id}/commands", headers=guardian, json={"kind": "ring"}
    )
    assert ring.status_code == 201, ring.text


async def rows_of(session: AsyncSession, child_id: uuid.UUID, line_id: uuid.UUID) -> dict[str, int]:
    counts = {}
    for name, model in ERASED.items():
        column: Any = model.child_id  # type: ignore[attr-defined]
        counts[name] = await session.scalar(
            select(func.count()).select_from(model).where(column == child_id)
        )
    counts["filter_profile_entries"] = await session.scalar(
        select(func.count())
        .select_from(FilterProfileEntry)
        .join(FilterProfile, FilterProfile.id == FilterProfileEntry.profile_id)
        .where(FilterProfile.child_id == child_id)
    )
    counts["line_bindings"] = await session.scalar(
        select(func.count()).select_from(LineBinding).where(LineBinding.line_id == line_id)
    )
    return {name: int(count or 0) for name, count in counts.items()}


async def line_id(session: AsyncSession, msisdn: str) -> uuid.UUID:
    found = await session.scalar(select(Line.id).where(Line.msisdn == msisdn))
    assert found is not None
    return found


@pytest.fixture
async def two_children(
    client: httpx.AsyncClient, carrier: dict[str, str], family: FamilyWorld
) -> tuple[str, str]:
    await register_line(client, carrier, SECOND_LINE, family.guardian.phone)
    second = await add_child(client, family.guardian, SECOND_LINE, name="Dana")
    return family.child_id, second["id"]


async def test_removing_a_child_removes_the_childs_filter_data_and_only_theirs(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    two_children: tuple[str, str],
) -> None:
    gone, stays = (uuid.UUID(c) for c in two_children)
    at = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        gone_line, stays_line = (
            await line_id(session, family.line),
            await line_id(session, SECOND_LINE),
        )
        await seed(session, gone, gone_line, at)
        await seed(session, stays, stays_line, at)
        # Reports: one only the removed child made, one both children made (the removed
        # child first), one the removed child and the block page made.
        alone, shared, mixed = (open_report(h, at) for h in ("a.test", "b.test", "c.test"))
        session.add_all([alone, shared, mixed])
        await session.flush()
        later = at + timedelta(minutes=1)
        session.add_all(
            [
                submission(alone, gone, "https://a.test/private?q=1", at),
                submission(shared, gone, "https://b.test/the-removed-childs-words", at),
                submission(shared, stays, "https://b.test/", later),
                submission(mixed, gone, "c.test/x", at),
                submission(mixed, None, "c.test", later),
            ]
        )
    await seed_telemetry(client, runtime, family, gone)
    async with runtime.sessions() as session:
        before = await rows_of(session, stays, stays_line)
        assert min((await rows_of(session, gone, gone_line)).values()) >= 1

    removed = await client.delete(f"/v1/children/{gone}", headers=family.guardian.headers)
    assert removed.status_code == 204, removed.text

    async with runtime.sessions() as session:
        assert set((await rows_of(session, gone, gone_line)).values()) == {0}
        assert await rows_of(session, stays, stays_line) == before
        reports = {
            r.host: (r.reporter_count, r.target)
            for r in await session.scalars(select(FilterReport))
        }
        assert reports == {"b.test": (1, "https://b.test/"), "c.test": (1, "c.test")}
        assert await session.get(Line, gone_line) is not None  # the carrier's line stays
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "child.removed"))
        assert event is not None
        erased = event.details["erased"]
        assert {k: v for k, v in erased.items() if k in FILTER_KINDS} == {
            "verdict_counts": 1,
            "blocked_names": 1,
            "query_log": 1,
            "unblock_requests": 1,
            "profile_entries": 1,
            "profiles": 1,
            "report_submissions": 3,
            "reports": 1,
            "line_bindings": 1,
        }
        assert erased["location_fixes"] == 2
        assert set(erased) - FILTER_KINDS  # the places, events and alarms went too
    other = await client.get(f"/v1/children/{stays}", headers=family.guardian.headers)
    assert other.status_code == 200


async def test_a_child_added_again_on_the_line_starts_with_no_filter_data(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    async with transaction(runtime.sessions) as session:
        line = await line_id(session, family.line)
        await seed(session, uuid.UUID(family.child_id), line, runtime.clock.now())
    removed = await client.delete(
        f"/v1/children/{family.child_id}", headers=family.guardian.headers
    )
    assert removed.status_code == 204, removed.text

    again = await add_child(client, family.guardian, family.line, birthdate=str(date(2016, 1, 1)))

    async with runtime.sessions() as session:
        left = await rows_of(session, uuid.UUID(again["id"]), line)
    assert left.pop("consent_records") == 2  # only the consents given with adding the child
    assert set(left.values()) == {0}
