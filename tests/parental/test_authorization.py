"""Object-level authorisation, route by route.

Every route of the API has an entry in ``ROUTES``: who may call it and, for routes that take
an id, a request body that would be valid. The tests then check that every route refuses a
caller without credentials, and that a guardian of one family gets 404 for every id that
belongs to another family — and that the other family's data is unchanged afterwards. A new
route without an entry fails ``test_every_route_is_in_the_table``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from filters.unblock import service as unblock
from parental.app import create_app
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld

Caller = Literal["public", "guardian", "device", "carrier", "staff", "filter", "zone"]


@dataclass(frozen=True)
class Access:
    caller: Caller
    body: dict[str, Any] | None = None


AREA = {"kind": "circle", "center": {"latitude": 43.24, "longitude": 76.89}, "radius_m": 300}
PUSH_TOKEN = {"token": "t:" + "x" * 150, "platform": "android", "app_version": "1", "locale": "ru"}

ROUTES: dict[tuple[str, str], Access] = {
    ("POST", "/v1/auth/sign-in-codes"): Access("public"),
    ("POST", "/v1/auth/tokens"): Access("public"),
    ("POST", "/v1/auth/tokens/refresh"): Access("public"),
    ("POST", "/v1/auth/tokens/revoke"): Access("public"),
    ("GET", "/v1/me"): Access("guardian"),
    ("PATCH", "/v1/me"): Access("guardian"),
    # Notification preferences: the caller's own only, no id is taken.
    ("GET", "/v1/notification-preferences"): Access("guardian"),
    ("PUT", "/v1/notification-preferences"): Access("guardian"),
    ("POST", "/v1/families"): Access("guardian"),
    ("GET", "/v1/families/{family_id}"): Access("guardian"),
    ("PATCH", "/v1/families/{family_id}"): Access("guardian", {"name": "Taken over"}),
    ("DELETE", "/v1/families/{family_id}/guardians/{account_id}"): Access("guardian"),
    ("POST", "/v1/families/{family_id}/invitations"): Access("guardian", {"phone": "+77015550999"}),
    ("GET", "/v1/families/{family_id}/invitations"): Access("guardian"),
    ("DELETE", "/v1/families/{family_id}/invitations/{invitation_id}"): Access("guardian"),
    ("GET", "/v1/invitations"): Access("guardian"),
    ("POST", "/v1/invitations/{invitation_id}/accept"): Access("guardian"),
    ("POST", "/v1/invitations/{invitation_id}/decline"): Access("guardian"),
    ("GET", "/v1/children"): Access("guardian"),
    ("POST", "/v1/children"): Access("guardian"),
    ("GET", "/v1/children/{child_id}"): Access("guardian"),
    ("PATCH", "/v1/children/{child_id}"): Access("guardian", {"name": "Renamed"}),
    ("DELETE", "/v1/children/{child_id}"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/audit-events"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/export"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/pairing-codes"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/devices"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/filter-profile"): Access("guardian"),
    ("PATCH", "/v1/children/{child_id}/filter-profile"): Access(
        "guardian", {"categories": {"gambling": {"mode": "off"}}}
    ),
    ("POST", "/v1/children/{child_id}/filter-profile/entries"): Access(
        "guardian", {"host": "evil.test", "action": "allow"}
    ),
    ("DELETE", "/v1/children/{child_id}/filter-profile/entries/{entry_id}"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/filter-activity"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/filter-activity/queries"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/filter-reports"): Access(
        "guardian", {"kind": "should_be_blocked", "target": "casino.test"}
    ),
    ("GET", "/v1/children/{child_id}/filter-reports"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/unblock-requests"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/unblock-requests/{request_id}/decision"): Access(
        "guardian", {"decision": "allow_always"}
    ),
    ("GET", "/v1/children/{child_id}/alarms"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/device-status"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/usage/today"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/screen-time/rules"): Access("guardian"),
    ("PUT", "/v1/children/{child_id}/screen-time/rules"): Access(
        "guardian", {"blocked": ["com.example.game"], "total_limit": {"minutes": 0}}
    ),
    ("POST", "/v1/children/{child_id}/screen-time/pause"): Access(
        "guardian", {"until": "2026-11-25T12:00:00+00:00"}
    ),
    ("DELETE", "/v1/children/{child_id}/screen-time/pause"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/screen-time/extra-time"): Access(
        "guardian", {"app": "com.example.game", "minutes": 30}
    ),
    ("GET", "/v1/children/{child_id}/usage/report"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/screen-time/requests"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/screen-time/requests/{request_id}/decision"): Access(
        "guardian", {"decision": "approve"}
    ),
    ("GET", "/v1/children/{child_id}/screen-time/tasks"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/screen-time/tasks"): Access(
        "guardian", {"title": "Homework", "reward_minutes": 15}
    ),
    ("DELETE", "/v1/children/{child_id}/screen-time/tasks/{task_id}"): Access("guardian"),
    ("POST", "/v1/children/{child_id}/screen-time/tasks/{task_id}/decision"): Access(
        "guardian", {"decision": "approve"}
    ),
    ("GET", "/v1/children/{child_id}/apps"): Access("guardian"),
    ("PUT", "/v1/children/{child_id}/apps/{app}/category"): Access(
        "guardian", {"category": "games"}
    ),
    ("DELETE", "/v1/children/{child_id}/apps/{app}/category"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/alarm-settings"): Access("guardian"),
    ("PUT", "/v1/children/{child_id}/alarm-settings"): Access(
        "guardian",
        {
            "battery_threshold_pct": 50,
            "silent_after_minutes": 15,
            "low_battery_enabled": False,
            "device_silent_enabled": False,
            "sim_moved_enabled": False,
        },
    ),
    ("POST", "/v1/children/{child_id}/places"): Access(
        "guardian", {"name": "Taken", "shape": AREA}
    ),
    ("GET", "/v1/children/{child_id}/places"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/place-events"): Access("guardian"),
    ("GET", "/v1/places/{place_id}"): Access("guardian"),
    ("PATCH", "/v1/places/{place_id}"): Access("guardian", {"name": "Taken over"}),
    ("DELETE", "/v1/places/{place_id}"): Access("guardian"),
    # Locations: every read is the guardian's own child's (404 otherwise), audited.
    ("GET", "/v1/children/{child_id}/location"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/locations"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/locations/stream"): Access("guardian"),
    # A guardian's own phones for push notifications; another account's token id is 404.
    ("PUT", "/v1/push-tokens"): Access("guardian", PUSH_TOKEN),
    ("GET", "/v1/push-tokens"): Access("guardian"),
    ("DELETE", "/v1/push-tokens/{token_id}"): Access("guardian"),
    ("GET", "/v1/notifications"): Access("guardian"),
    ("GET", "/v1/notifications/stream"): Access("guardian"),
    ("POST", "/v1/notifications/{notification_id}/read"): Access("guardian"),
    ("POST", "/v1/notifications/read"): Access("guardian"),
    # Commands to the child's device: the child's guardians; the audio, its issuer only.
    ("POST", "/v1/children/{child_id}/commands"): Access("guardian", {"kind": "ring"}),
    ("GET", "/v1/children/{child_id}/commands"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/commands/{command_id}"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/commands/{command_id}/audio"): Access("guardian"),
    # The child's messages: alerts for every guardian of the child, transcripts by age band.
    ("GET", "/v1/children/{child_id}/message-alerts"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/message-alerts/{alert_id}"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/conversations"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/conversations/{conversation}/messages"): Access("guardian"),
    ("GET", "/v1/children/{child_id}/messages"): Access("guardian"),
    # Consents: the child's guardians; the device, its own child's only (no id is taken).
    ("GET", "/v1/children/{child_id}/consents"): Access("guardian"),
    ("PUT", "/v1/children/{child_id}/consents"): Access(
        "guardian", {"purpose": "location", "granted": False}
    ),
    ("GET", "/v1/device/consents"): Access("device"),
    ("PUT", "/v1/device/consents"): Access("device", {"purpose": "messages", "granted": False}),
    ("GET", "/v1/device/transparency"): Access("device"),
    ("GET", "/v1/devices/{device_id}"): Access("guardian"),
    ("PATCH", "/v1/devices/{device_id}"): Access("guardian", {"name": "Renamed"}),
    ("DELETE", "/v1/devices/{device_id}"): Access("guardian"),
    ("POST", "/v1/device/pair"): Access("public"),
    # Verdicts: the carrier's resolver, a child's device or staff; no object ids (a profile id
    # will be checked against the caller when per-child profiles are stored).
    ("POST", "/v1/filter/check"): Access("filter", {"items": ["a.test"]}),
    ("GET", "/v1/filter/check"): Access("filter"),
    # RPZ zones: the carrier's resolvers (or staff); the carrier serves every line, so any
    # profile id is theirs (unknown ids are 404: tests/parental/test_rpz.py).
    ("GET", "/v1/filter/rpz/{category}.zone"): Access("zone"),
    ("GET", "/v1/filter/rpz/profiles/{profile_id}.zone"): Access("zone"),
    ("GET", "/v1/device"): Access("device"),
    ("GET", "/v1/device/audit-events"): Access("device"),
    ("PUT", "/v1/device/push-token"): Access("device", {"token": "d:" + "x" * 150}),
    ("DELETE", "/v1/device/push-token"): Access("device"),
    ("GET", "/v1/device/commands"): Access("device"),
    ("POST", "/v1/device/messages"): Access("device"),
    ("GET", "/v1/device/messages/mode"): Access("device"),
    ("POST", "/v1/device/commands/{command_id}/acks"): Access("device", {"state": "received"}),
    ("PUT", "/v1/device/commands/{command_id}/audio"): Access("device"),
    ("POST", "/v1/device/filter-reports"): Access(
        "device", {"kind": "wrongly_blocked", "target": "school.test"}
    ),
    ("GET", "/v1/device/filter-reports"): Access("device"),
    ("GET", "/v1/device/unblock-requests"): Access("device"),
    # A device reads its own child's policy only: the child is the device's, no id is taken.
    ("GET", "/v1/device/policy"): Access("device"),
    ("GET", "/v1/device/screen-time/requests"): Access("device"),
    ("POST", "/v1/device/screen-time/requests"): Access(
        "device", {"kind": "extra_time", "app": "com.example.game", "minutes": 15}
    ),
    ("GET", "/v1/device/screen-time/tasks"): Access("device"),
    ("POST", "/v1/device/screen-time/tasks/{task_id}/done"): Access("device"),
    # A device uploads its own child's usage only: the child is the device's, no id is taken.
    ("POST", "/v1/device/usage"): Access(
        "device",
        {
            "sessions": [
                {
                    "kind": "screen",
                    "started_at": "2026-11-25T08:00:00+05:00",
                    "ended_at": "2026-11-25T08:10:00+05:00",
                }
            ]
        },
    ),
    # A device uploads its own child's fixes only: the child is the device's, no id is taken.
    ("POST", "/v1/device/locations"): Access(
        "device",
        {
            "fixes": [
                {
                    "fixed_at": "2026-11-25T09:00:00+05:00",
                    "latitude": 43.24,
                    "longitude": 76.89,
                    "accuracy_m": 10,
                }
            ]
        },
    ),
    ("POST", "/v1/device/alarms"): Access(
        "device", {"kind": "sos", "pressed_at": "2026-11-25T09:00:00+00:00"}
    ),
    ("POST", "/v1/device/heartbeat"): Access(
        "device", {"battery_pct": 50, "charging": False, "app_version": "1.0.0"}
    ),
    # The block page: no credentials, nothing about the person stored, limited per address.
    ("POST", "/v1/filter/reports"): Access("public"),
    # The carrier's systems act on all of the carrier's lines; a line number is not a secret id.
    ("PUT", "/carrier/v1/lines/{msisdn}"): Access(
        "carrier", {"guardian_phone": "+77015550999", "is_child_sim": True}
    ),
    ("GET", "/carrier/v1/lines/{msisdn}"): Access("carrier"),
    ("DELETE", "/carrier/v1/lines/{msisdn}"): Access("carrier"),
    # Bindings: the carrier's RADIUS accounting and support staff, for any of its lines.
    ("POST", "/carrier/v1/bindings"): Access(
        "carrier",
        {"msisdn": "+77070000001", "ip": "10.0.0.1", "event": "start", "session_id": "s"},
    ),
    ("GET", "/carrier/v1/bindings"): Access("carrier"),
    # Cell positions: the carrier's core, for any of its lines.
    ("POST", "/carrier/v1/lines/{msisdn}/locations"): Access(
        "carrier",
        {
            "positions": [
                {
                    "fixed_at": "2026-11-25T09:00:00Z",
                    "latitude": 43.24,
                    "longitude": 76.89,
                    "accuracy_m": 1500,
                }
            ]
        },
    ),
    # SIM moved: the carrier reports the handset of any of its lines.
    ("POST", "/carrier/v1/lines/{msisdn}/handset"): Access("carrier", {"imei": "490154203237518"}),
    # The age policy: the carrier's one setting for every child, no ids.
    ("GET", "/carrier/v1/age-policy"): Access("carrier"),
    ("PUT", "/carrier/v1/age-policy"): Access(
        "carrier",
        {
            "transcripts_under_age": 13,
            "excerpts_under_age": 18,
            "listen_age_bands": ["under_9"],
            "child_consent_age": 14,
        },
    ),
    ("POST", "/admin/v1/auth/tokens"): Access("public"),
    ("GET", "/admin/v1/me"): Access("staff"),
    ("GET", "/admin/v1/audit-events"): Access("staff"),
    # Curation: any staff member curates every category, source, entry and version (unknown
    # ids are 404: tests/parental/test_curation_api.py).
    ("GET", "/admin/v1/filter/categories"): Access("staff"),
    ("POST", "/admin/v1/filter/categories"): Access("staff"),
    ("PATCH", "/admin/v1/filter/categories/{key}"): Access("staff"),
    ("DELETE", "/admin/v1/filter/categories/{key}"): Access("staff"),
    ("GET", "/admin/v1/filter/sources"): Access("staff"),
    ("POST", "/admin/v1/filter/sources"): Access("staff"),
    ("GET", "/admin/v1/filter/sources/{source_id}"): Access("staff"),
    ("PATCH", "/admin/v1/filter/sources/{source_id}"): Access("staff"),
    ("DELETE", "/admin/v1/filter/sources/{source_id}"): Access("staff"),
    ("POST", "/admin/v1/filter/sources/{source_id}/imports"): Access("staff"),
    ("GET", "/admin/v1/filter/sources/{source_id}/imports"): Access("staff"),
    ("POST", "/admin/v1/filter/sources/{source_id}/refresh"): Access("staff"),
    ("GET", "/admin/v1/filter/entries"): Access("staff"),
    ("POST", "/admin/v1/filter/entries"): Access("staff"),
    ("GET", "/admin/v1/filter/entries/{entry_id}"): Access("staff"),
    ("DELETE", "/admin/v1/filter/entries/{entry_id}"): Access("staff", {"reason": "test"}),
    ("GET", "/admin/v1/filter/versions"): Access("staff"),
    ("POST", "/admin/v1/filter/versions"): Access("staff"),
    ("GET", "/admin/v1/filter/versions/{number}"): Access("staff"),
    ("GET", "/admin/v1/filter/versions/{number}/diff"): Access("staff"),
    ("POST", "/admin/v1/filter/versions/{number}/rollback"): Access("staff"),
    ("GET", "/admin/v1/conversation-lexicon/versions"): Access("staff"),
    ("POST", "/admin/v1/conversation-lexicon/versions"): Access(
        "staff",
        {
            "lexicon": {
                "version": "t.1",
                "rules": [{"id": "d.w", "label": "drugs", "severity": "low", "forms": ["weed"]}],
            }
        },
    ),
    ("GET", "/admin/v1/conversation-lexicon/in-force"): Access("staff"),
    ("GET", "/admin/v1/conversation-lexicon/versions/{number}"): Access("staff"),
    ("POST", "/admin/v1/conversation-lexicon/versions/{number}/publish"): Access("staff"),
    ("POST", "/admin/v1/conversation-lexicon/versions/{number}/rollback"): Access("staff"),
    ("GET", "/admin/v1/conversation-lexicon/versions/{number}/diff"): Access("staff"),
    ("POST", "/admin/v1/conversation-lexicon/explain"): Access("staff", {"text": "hello"}),
    ("GET", "/admin/v1/apps"): Access("staff"),
    ("POST", "/admin/v1/apps/import"): Access("staff"),
    ("GET", "/admin/v1/apps/{app}"): Access("staff"),
    ("PUT", "/admin/v1/apps/{app}"): Access("staff"),
    ("DELETE", "/admin/v1/apps/{app}"): Access("staff"),
    ("GET", "/admin/v1/filter-reports"): Access("staff"),
    ("GET", "/admin/v1/filter-reports/{report_id}"): Access("staff"),
    ("POST", "/admin/v1/filter-reports/{report_id}/decision"): Access(
        "staff", {"decision": "reject", "note": "No."}
    ),
    ("GET", "/healthz"): Access("public"),
    ("GET", "/readyz"): Access("public"),
}

UNAUTHENTICATED_ERRORS = {
    "guardian": "InvalidAccessToken",
    "device": "InvalidDeviceToken",
    "carrier": "InvalidServiceKey",
    "staff": "InvalidStaffToken",
    "filter": "InvalidFilterCaller",
    "zone": "InvalidZoneCaller",
}


def api_routes() -> set[tuple[str, str]]:
    spec = create_app().openapi()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_every_route_is_in_the_table() -> None:
    routes = api_routes()
    assert routes - ROUTES.keys() == set(), "add these routes to ROUTES"
    assert ROUTES.keys() - routes == set(), "these ROUTES entries no longer exist"


@pytest.mark.parametrize(
    ("method", "path"), sorted(k for k, v in ROUTES.items() if v.caller != "public")
)
async def test_routes_refuse_missing_and_garbage_credentials(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    url = re.sub(r"\{(\w+)\}", "00000000-0000-4000-8000-000000000000", path)
    url = url.replace("/lines/00000000-0000-4000-8000-000000000000", "/lines/+77070000001")
    body = ROUTES[(method, path)].body or {}
    for headers in ({}, {"Authorization": "Bearer garbage"}):
        response = await client.request(method, url, headers=headers, json=body or None)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"] == UNAUTHENTICATED_ERRORS[ROUTES[(method, path)].caller]


@dataclass
class Victim:
    world: FamilyWorld
    invitation_id: str
    entry_id: str
    request_id: str
    place_id: str
    screen_time_request_id: str
    task_id: str
    push_token_id: str
    notification_id: str
    command_id: str
    alert_id: str
    conversation: str


@pytest.fixture
async def victim(client: httpx.AsyncClient, runtime: Runtime, other_family: FamilyWorld) -> Victim:
    invited = await client.post(
        f"/v1/families/{other_family.family_id}/invitations",
        headers=other_family.guardian.headers,
        json={"phone": "+77015550888"},
    )
    assert invited.status_code == 201
    entry = await client.post(
        f"/v1/children/{other_family.child_id}/filter-profile/entries",
        headers=other_family.guardian.headers,
        json={"host": "blocked-by-them.test", "action": "block"},
    )
    assert entry.status_code == 201, entry.text
    async with transaction(runtime.sessions) as session:  # as the block page files it
        request = await unblock.ask(
            session,
            child_id=uuid.UUID(other_family.child_id),
            host="asked-by-them.test",
            category=None,
            now=runtime.clock.now(),
            bus=runtime.bus,
        )
    place = await client.post(
        f"/v1/children/{other_family.child_id}/places",
        headers=other_family.guardian.headers,
        json={"name": "Their school", "shape": AREA},
    )
    assert place.status_code == 201, place.text
    asked = await client.post(
        "/v1/device/screen-time/requests",
        headers=other_family.device_headers,
        json={"kind": "extra_time", "app": "com.example.game", "minutes": 15},
    )
    assert asked.status_code == 201, asked.text
    task = await client.post(
        f"/v1/children/{other_family.child_id}/screen-time/tasks",
        headers=other_family.guardian.headers,
        json={"title": "Their homework", "reward_minutes": 15},
    )
    assert task.status_code == 201, task.text
    phone = await client.put(
        "/v1/push-tokens", headers=other_family.guardian.headers, json=PUSH_TOKEN
    )
    assert phone.status_code == 200, phone.text
    told = await client.get("/v1/notifications", headers=other_family.guardian.headers)
    assert told.json()["unread"] == 1, told.text  # the child's request
    command = await client.post(
        f"/v1/children/{other_family.child_id}/commands",
        headers=other_family.guardian.headers,
        json={"kind": "ring"},
    )
    assert command.status_code == 201, command.text
    risky = {
        "app": "org.telegram.messenger",
        "conversation_id": "their-chat",
        "message_id": "1",
        "direction": "incoming",
        "text": "хочу покончить с собой",
        "sent_at": runtime.clock.now().isoformat(),
    }
    sent = await client.post(
        "/v1/device/messages", headers=other_family.device_headers, json={"messages": [risky]}
    )
    assert sent.json()["accepted"] == 1, sent.text
    alerted = await client.get(
        f"/v1/children/{other_family.child_id}/message-alerts",
        headers=other_family.guardian.headers,
    )
    [alert] = alerted.json()["items"]
    return Victim(
        other_family,
        invited.json()["id"],
        entry.json()["id"],
        str(request.id),
        place.json()["id"],
        asked.json()["id"],
        task.json()["id"],
        phone.json()["id"],
        told.json()["items"][0]["id"],
        command.json()["id"],
        alert["id"],
        alert["conversation"],
    )


def foreign_urls(path: str, own: FamilyWorld, victim: Victim) -> list[str]:
    """The route filled with the victim's ids, and with mixes of own and victim ids."""
    theirs = {
        "family_id": victim.world.family_id,
        "child_id": victim.world.child_id,
        "device_id": victim.world.device_id,
        "account_id": victim.world.guardian.account_id,
        "invitation_id": victim.invitation_id,
        "entry_id": victim.entry_id,
        "request_id": (
            victim.screen_time_request_id if "/screen-time/" in path else victim.request_id
        ),
        "place_id": victim.place_id,
        "task_id": victim.task_id,
        "token_id": victim.push_token_id,
        "notification_id": victim.notification_id,
        "command_id": victim.command_id,
        "alert_id": victim.alert_id,
        "conversation": victim.conversation,
        "app": "com.whatsapp",
    }
    mine = {"family_id": own.family_id, "child_id": own.child_id}
    names = re.findall(r"\{(\w+)\}", path)
    urls = [path.format(**{n: theirs[n] for n in names})]
    # An app id names no family's object: with one's own child, any app id may be given.
    if names[0] in mine and set(names[1:]) - {"app"}:
        # Own family or child, the victim's inner id: it must be checked against the outer one.
        urls.append(path.format(**{n: mine[n] if n == names[0] else theirs[n] for n in names}))
    return urls


FOREIGN_ID_ROUTES = sorted(
    (method, path)
    for (method, path), access in ROUTES.items()
    if access.caller == "guardian" and "{" in path
)


@pytest.mark.parametrize(("method", "path"), FOREIGN_ID_ROUTES)
async def test_a_guardian_never_reaches_another_familys_objects(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    victim: Victim,
    method: str,
    path: str,
) -> None:
    body = ROUTES[(method, path)].body
    for url in foreign_urls(path, family, victim):
        response = await client.request(method, url, headers=family.guardian.headers, json=body)
        assert response.status_code in (403, 404), (method, url, response.text)
        assert response.json()["error"].endswith(("NotFound", "Forbidden", "OwnerOnly"))

    # The victim's family is exactly as it was.
    theirs = victim.world.guardian.headers
    fam = await client.get(f"/v1/families/{victim.world.family_id}", headers=theirs)
    assert fam.json()["name"] == "Family"
    assert len(fam.json()["guardians"]) == 1
    child = await client.get(f"/v1/children/{victim.world.child_id}", headers=theirs)
    assert child.status_code == 200
    assert child.json()["name"] == "Aigerim"
    device = await client.get(f"/v1/devices/{victim.world.device_id}", headers=theirs)
    assert device.json()["name"] == "Phone"
    assert device.json()["revoked_at"] is None
    invitations = await client.get(
        f"/v1/families/{victim.world.family_id}/invitations", headers=theirs
    )
    assert [(i["id"], i["status"]) for i in invitations.json()["items"]] == [
        (victim.invitation_id, "pending")
    ]
    profile = await client.get(
        f"/v1/children/{victim.world.child_id}/filter-profile", headers=theirs
    )
    assert [e["id"] for e in profile.json()["entries"]] == [victim.entry_id]
    assert profile.json()["categories"]["gambling"]["mode"] == "always"
    asked = await client.get(
        f"/v1/children/{victim.world.child_id}/unblock-requests", headers=theirs
    )
    assert [(r["id"], r["status"]) for r in asked.json()["items"]] == [(victim.request_id, "open")]
    places = await client.get(f"/v1/children/{victim.world.child_id}/places", headers=theirs)
    assert [(p["id"], p["name"]) for p in places.json()["items"]] == [
        (victim.place_id, "Their school")
    ]
    screen_time = f"/v1/children/{victim.world.child_id}/screen-time"
    their_asks = await client.get(f"{screen_time}/requests", headers=theirs)
    assert [(r["id"], r["status"]) for r in their_asks.json()["items"]] == [
        (victim.screen_time_request_id, "pending")
    ]
    tasks = await client.get(f"{screen_time}/tasks", headers=theirs)
    assert [(t["id"], t["status"]) for t in tasks.json()["items"]] == [(victim.task_id, "open")]
    phones = await client.get("/v1/push-tokens", headers=theirs)
    assert [t["id"] for t in phones.json()["items"]] == [victim.push_token_id]
    told = await client.get("/v1/notifications", headers=theirs)
    assert sorted((n["kind"], n["read_at"]) for n in told.json()["items"]) == [
        ("messages.self_harm", None),
        ("screen_time.extra_time_request", None),
    ]
    assert victim.notification_id in {n["id"] for n in told.json()["items"]}
    commands = await client.get(f"/v1/children/{victim.world.child_id}/commands", headers=theirs)
    assert [(c["id"], c["kind"]) for c in commands.json()["items"]] == [(victim.command_id, "ring")]
    codes = await client.get(f"/v1/children/{victim.world.child_id}/audit-events", headers=theirs)
    assert "device.pairing_code_created" in [e["action"] for e in codes.json()["items"]]
    assert sum(e["actor_id"] == family.guardian.account_id for e in codes.json()["items"]) == 0


async def test_a_device_sees_only_its_own_child(
    client: httpx.AsyncClient, family: FamilyWorld, victim: Victim
) -> None:
    mine = await client.get("/v1/device", headers=family.device_headers)
    assert mine.json()["child"]["id"] == family.child_id
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert {e["child_id"] for e in events.json()["items"]} == {family.child_id}
    # Guardian routes with ids are not reachable with a device token at all.
    for url in (f"/v1/children/{family.child_id}", f"/v1/devices/{family.device_id}"):
        assert (await client.get(url, headers=family.device_headers)).status_code == 401
    # Another child's command is unknown to the device.
    answered = await client.post(
        f"/v1/device/commands/{victim.command_id}/acks",
        headers=family.device_headers,
        json={"state": "received"},
    )
    assert answered.status_code == 404, answered.text
