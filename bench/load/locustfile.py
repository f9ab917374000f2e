"""Locust users of the load scenario: parents reading, devices uploading, the carrier checking.

Run by ``bench/load/run.py``, which seeds the families and passes them in the JSON file named
by ``LOAD_WORLD``. Each user plays one family (parents and devices) or one of the carrier's
systems; request names are the route templates, which ``run.py`` holds the budgets for.

Time is compressed: a real device uploads its fixes every few minutes and a parent opens the
app a few times an hour; here each simulated user does the same work every few seconds, so a
few hundred users stand for a much larger population. The shapes stay real: 10-50 fixes a
batch spread over the time since the last upload, a random walk that crosses the family's
places now and then (the parents' inbox fills with arrivals and departures), app sessions
that follow each other, and a carrier that asks about names from the real blocklists mixed
with ordinary ones.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser, between, constant_pacing, task

with open(os.environ["LOAD_WORLD"], encoding="utf-8") as _file:
    WORLD: dict[str, Any] = json.load(_file)

CARRIER = {"Authorization": f"Bearer {WORLD['carrier_key']}"}
LISTED: list[str] = WORLD["names"]["listed"]
ORDINARY: list[str] = WORLD["names"]["ordinary"]
APPS = [
    ("com.google.android.youtube", "YouTube"),
    ("com.whatsapp", "WhatsApp"),
    ("org.telegram.messenger", "Telegram"),
    ("com.zhiliaoapp.musically", "TikTok"),
    ("com.roblox.client", "Roblox"),
    ("com.duolingo", "Duolingo"),
    ("kz.kaspi.mobile", "Kaspi.kz"),
    ("com.android.chrome", "Chrome"),
]
# Refresh the parent's access token this long before it expires, as the app does.
REFRESH_MARGIN_SECONDS = 60


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def a_name() -> str:
    """A name the carrier asks about: one in eight from the blocklists, as a URL now and then."""
    name = random.choice(LISTED) if random.random() < 0.125 else random.choice(ORDINARY)
    if random.random() < 0.1:
        return f"https://{name}/watch?v={random.randrange(10**6)}"
    return name


@dataclass
class Family:
    """One seeded family; parents of the same family share its tokens (and their refresh)."""

    child_id: str
    device_token: str
    msisdn: str
    profile_id: str
    ip: str
    home: tuple[float, float]
    access_token: str
    refresh_token: str
    expires_at: float
    # A greenlet lock: locust has monkey-patched threading before this file is imported.
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_world(cls, raw: dict[str, Any]) -> Family:
        guardian = raw["guardian"]
        return cls(
            child_id=raw["child_id"],
            device_token=raw["device_token"],
            msisdn=raw["msisdn"],
            profile_id=raw["profile_id"],
            ip=raw["ip"],
            home=(raw["home"][0], raw["home"][1]),
            access_token=guardian["access_token"],
            refresh_token=guardian["refresh_token"],
            expires_at=guardian["issued_at"] + guardian["expires_in"],
        )


FAMILIES = [Family.from_world(raw) for raw in WORLD["families"]]
_parents = itertools.count()
_devices = itertools.count()


class Parent(FastHttpUser):
    """A guardian's app: the map (latest position), the day's track, the inbox, the report."""

    weight = 3
    # Every wait shorter than uvicorn's keep-alive (5 s): locust does not retry a request on a
    # connection the server closed while idle, as the apps' HTTP clients do.
    wait_time = between(1, 4)

    def on_start(self) -> None:
        self.family = FAMILIES[next(_parents) % len(FAMILIES)]

    def headers(self) -> dict[str, str]:
        family = self.family
        if time.time() > family.expires_at - REFRESH_MARGIN_SECONDS:
            with family.lock:  # one refresh per family: the old refresh token is then spent
                if time.time() > family.expires_at - REFRESH_MARGIN_SECONDS:
                    self.refresh()
        return {"Authorization": f"Bearer {family.access_token}"}

    def refresh(self) -> None:
        family = self.family
        with self.client.post(
            "/v1/auth/tokens/refresh",
            json={"refresh_token": family.refresh_token},
            name="POST /v1/auth/tokens/refresh",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"refresh: {response.status_code}")
                return
            tokens = response.json()
        family.access_token = tokens["access_token"]
        family.refresh_token = tokens["refresh_token"]
        family.expires_at = time.time() + tokens["expires_in"]

    @task(6)
    def latest_position(self) -> None:
        self.client.get(
            f"/v1/children/{self.family.child_id}/location",
            headers=self.headers(),
            name="GET /v1/children/{child_id}/location",
        )

    @task(2)
    def history_page(self) -> None:
        since = iso(datetime.now(UTC) - timedelta(hours=2))
        self.client.get(
            f"/v1/children/{self.family.child_id}/locations",
            params={"since": since, "limit": 100},
            headers=self.headers(),
            name="GET /v1/children/{child_id}/locations",
        )

    @task(2)
    def notifications(self) -> None:
        self.client.get(
            "/v1/notifications",
            params={"limit": 50},
            headers=self.headers(),
            name="GET /v1/notifications",
        )

    @task(1)
    def usage_report(self) -> None:
        self.client.get(
            f"/v1/children/{self.family.child_id}/usage/report",
            params={"days": 7},
            headers=self.headers(),
            name="GET /v1/children/{child_id}/usage/report",
        )


class Device(FastHttpUser):
    """The agent on a child's phone: fixes, app usage, heartbeats."""

    weight = 6
    wait_time = constant_pacing(4)

    def on_start(self) -> None:
        self.family = FAMILIES[next(_devices) % len(FAMILIES)]
        self.auth = {"Authorization": f"Bearer {self.family.device_token}"}
        # Seeding uploaded the hour before it began; the first batch covers the last minutes.
        self.last_fix = self.last_usage = datetime.now(UTC) - timedelta(minutes=5)
        self.position = self.family.home
        self.battery = random.randrange(30, 100)

    def walk(self) -> tuple[float, float]:
        lat, lon = self.position
        home_lat, home_lon = self.family.home
        # A walk with a pull towards home: stays within a few kilometres, crosses the places.
        lat += random.gauss(0, 0.0004) + (home_lat - lat) * 0.02
        lon += random.gauss(0, 0.0006) + (home_lon - lon) * 0.02
        self.position = (lat, lon)
        return self.position

    def batch_result(self, response: Any, what: str) -> None:
        if response.status_code != 200:
            response.failure(f"{what}: {response.status_code} {response.text[:200]}")
            return
        body = response.json()
        if body["rejected"]:
            response.failure(f"{what}: {body['rejected']} rejected: {response.text[:300]}")

    @task(6)
    def upload_locations(self) -> None:
        now = datetime.now(UTC)
        count = random.randint(10, 50)
        step = (now - self.last_fix) / count
        fixes = []
        for i in range(1, count + 1):
            lat, lon = self.walk()
            fixes.append(
                {
                    "fixed_at": iso(self.last_fix + step * i),
                    "latitude": round(lat, 6),
                    "longitude": round(lon, 6),
                    "accuracy_m": round(random.uniform(4, 30), 1),
                    "speed_mps": round(random.uniform(0, 2), 2),
                    "battery_pct": self.battery,
                    "charging": False,
                }
            )
        self.last_fix = now
        with self.client.post(
            "/v1/device/locations",
            json={"fixes": fixes},
            headers=self.auth,
            name="POST /v1/device/locations",
            catch_response=True,
        ) as response:
            self.batch_result(response, "locations")

    @task(2)
    def upload_usage(self) -> None:
        now = datetime.now(UTC)
        start = self.last_usage
        span = (now - start) / 3
        sessions: list[dict[str, Any]] = []
        for i in range(random.randint(1, 3)):
            app, app_name = random.choice(APPS)
            begins = start + span * i
            sessions.append(
                {
                    "kind": "app",
                    "app": app,
                    "app_name": app_name,
                    "started_at": iso(begins),
                    "ended_at": iso(begins + span * random.uniform(0.3, 0.95)),
                }
            )
        sessions.append({"kind": "screen", "started_at": iso(start), "ended_at": iso(now)})
        self.last_usage = now
        with self.client.post(
            "/v1/device/usage",
            json={"sessions": sessions},
            headers=self.auth,
            name="POST /v1/device/usage",
            catch_response=True,
        ) as response:
            self.batch_result(response, "usage")

    @task(2)
    def heartbeat(self) -> None:
        self.battery = max(5, self.battery - random.choice((0, 0, 1)))
        self.client.post(
            "/v1/device/heartbeat",
            json={"battery_pct": self.battery, "charging": False, "app_version": "2.4.1"},
            headers=self.auth,
            name="POST /v1/device/heartbeat",
        )


class Carrier(FastHttpUser):
    """The carrier's systems: its resolver asking for verdicts, its BSS looking lines up."""

    weight = 1
    wait_time = constant_pacing(0.5)

    @task(6)
    def check_one(self) -> None:
        family = random.choice(FAMILIES)
        self.client.get(
            "/v1/filter/check",
            params={"url": a_name(), "profile": family.profile_id},
            headers=CARRIER,
            name="GET /v1/filter/check",
        )

    @task(2)
    def check_batch(self) -> None:
        family = random.choice(FAMILIES)
        items = [a_name() for _ in range(random.randint(20, 100))]
        self.client.post(
            "/v1/filter/check",
            json={"profile": family.profile_id, "items": items},
            headers=CARRIER,
            name="POST /v1/filter/check",
        )

    @task(2)
    def line(self) -> None:
        family = random.choice(FAMILIES)
        self.client.get(
            f"/carrier/v1/lines/{family.msisdn}",
            headers=CARRIER,
            name="GET /carrier/v1/lines/{msisdn}",
        )

    @task(1)
    def binding(self) -> None:
        family = random.choice(FAMILIES)
        self.client.get(
            "/carrier/v1/bindings",
            params={"ip": family.ip},
            headers=CARRIER,
            name="GET /carrier/v1/bindings",
        )
