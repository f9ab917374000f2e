"""Schemathesis against the committed OpenAPI file, on the app served by uvicorn.

Every operation, every check (all enabled in the config written below): no 5xx, every status
code, content type, header and body as declared, invalid data rejected, and requests without
or with invalid credentials refused. The seeded world gives each security scheme a valid
credential: a guardian with a family, a child on a registered line and a paired device, a
staff admin and a carrier service key. Rate limits are lifted for this server (a 429 would
hide the route behind it) and the event streams end after a second (one never ends otherwise).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from parental.runtime import Runtime
from parental.settings import ParentalSettings
from tests.conftest import api_client
from tests.parental.factories import (
    build_family,
    carrier_headers,
    publish_lists,
    staff_headers,
)
from tests.processes import REPO, app_environment

SCHEMA = REPO / "openapi" / "openapi.json"
# A fixed seed by default (CI reruns the same cases); SCHEMATHESIS_SEED explores others.
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261203")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_environment(data_dir: Path, database_url: str) -> dict[str, str]:
    env = app_environment(data_dir, database_url)
    for name, field in ParentalSettings.model_fields.items():
        if name.startswith("limit_") and field.annotation is str:
            env[f"PARENTAL_{name.upper()}"] = "1000000/minute"
    env["PARENTAL_LOCATION_STREAM_MAX_SECONDS"] = "1"
    env["PARENTAL_NOTIFICATION_STREAM_MAX_SECONDS"] = "1"
    return env


@dataclass
class World:
    """What the API needs for valid credentials: one per security scheme of the schema."""

    credentials: dict[str, str]


@pytest.fixture
async def world(runtime: Runtime) -> World:
    """The family, a staff admin and a published blocklist (the filter routes answer 503
    until one is), made through the app in process, which stops before the server starts:
    nothing else holds the database meanwhile."""
    async with api_client(runtime) as client:
        carrier = await carrier_headers(runtime)
        family = await build_family(
            client, runtime, carrier, guardian_phone="+77011234567", line="+77071234567"
        )
        admin = await staff_headers(client, runtime, username="admin", role="admin")
    await publish_lists(runtime, {"drugs": ["weed.test"], "gambling": ["||casino.test^"]})
    return World(
        credentials={
            "HTTPBearer": bearer(family.guardian.headers),
            "DeviceToken": family.device_token,
            "FilterCaller": family.device_token,
            "ZoneCaller": bearer(carrier),
            "CarrierServiceKey": bearer(carrier),
            "StaffToken": bearer(admin),
        }
    )


@pytest.fixture
def server(world: World, runtime: Runtime, database_url: str) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, on this test's database (seeded first);
    its base URL."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own server, our own arguments
        [sys.executable, "-m", "uvicorn", "parental.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=server_environment(runtime.kit.data_dir, database_url),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def bearer(headers: dict[str, str]) -> str:
    scheme, _, token = headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return token


# A 400 is this API's answer to a rule of the domain that no JSON Schema states (a cursor it
# did not issue, a number outside the carrier's numbering plan, a wrong one-time code): each
# route declares it (status_code_conformance holds them to that), so schema-valid data may get
# one. A 422 is request validation: schema-valid data must not get one, save for the rules
# below, which the schema cannot state.
POSITIVE_DATA_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "410", "429", "5xx"]
NOT_IN_THE_SCHEMA: dict[str, list[tuple[str, str]]] = {
    "a phone number valid in its country's numbering plan (phonenumbers)": [
        ("POST", "/v1/auth/sign-in-codes"),
        ("POST", "/v1/children"),
    ],
    "an app id of printable characters: Unicode categories, beyond an ECMA-262 pattern": [
        ("GET", "/admin/v1/apps/{app}"),
        ("PUT", "/admin/v1/apps/{app}"),
        ("DELETE", "/admin/v1/apps/{app}"),
        ("PUT", "/v1/children/{child_id}/apps/{app}/category"),
        ("DELETE", "/v1/children/{child_id}/apps/{app}/category"),
        ("PUT", "/v1/children/{child_id}/screen-time/rules"),
        ("POST", "/v1/device/screen-time/requests"),
    ],
    "an IANA time zone and a known kind of notification (lists that change with releases)": [
        ("PUT", "/v1/notification-preferences"),
    ],
    "a wall-clock time without a UTC offset (the child's zone applies)": [
        ("PATCH", "/v1/children/{child_id}/filter-profile"),
        ("POST", "/v1/children/{child_id}/places"),
        ("PATCH", "/v1/places/{place_id}"),
    ],
    "rules across fields: one of two, minutes with approve only, null is not absence": [
        ("POST", "/v1/children/{child_id}/screen-time/extra-time"),
        ("POST", "/v1/children/{child_id}/screen-time/requests/{request_id}/decision"),
        ("PATCH", "/v1/places/{place_id}"),
    ],
    "audio whose bytes are of the media type it is sent as (checked by its magic numbers)": [
        ("PUT", "/v1/device/commands/{command_id}/audio"),
    ],
    "a time relative to now, a non-blank title, a default for every age band": [
        ("POST", "/v1/children/{child_id}/screen-time/pause"),
        ("POST", "/v1/children/{child_id}/screen-time/tasks"),
        ("POST", "/admin/v1/filter/categories"),
        ("PATCH", "/admin/v1/filter/categories/{key}"),
    ],
}


def security_schemes() -> set[str]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text())
    return set(schema["components"]["securitySchemes"])


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a TOML basic string


def write_config(path: Path, credentials: dict[str, str]) -> None:
    """Every check, a credential per security scheme, and the exclusions above."""
    statuses = ", ".join(toml_string(status) for status in POSITIVE_DATA_STATUSES)
    lines = [
        "[checks]",
        "enabled = true",
        "",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = [{statuses}]",
        "",
    ]
    for scheme, token in credentials.items():
        lines += [f"[auth.openapi.{scheme}]", f"bearer = {toml_string(token)}", ""]
    excluded = {operation for listed in NOT_IN_THE_SCHEMA.values() for operation in listed}
    for method, route in sorted(excluded):
        lines += [
            "[[operations]]",
            f"include-method = {toml_string(method)}",
            f"include-path = {toml_string(route)}",
            "checks.positive_data_acceptance.enabled = false",
            "",
        ]
    # A URL source's refresh answers 502 when the list's server cannot be reached, as it
    # declares; the sources Schemathesis makes name hosts that do not exist.
    lines += [
        "[[operations]]",
        'include-method = "POST"',
        'include-path = "/admin/v1/filter/sources/{source_id}/refresh"',
        'checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "502"]',
        "",
    ]
    path.write_text("\n".join(lines))


async def test_the_api_keeps_its_schema(world: World, server: str, tmp_path: Path) -> None:
    assert set(world.credentials) == security_schemes(), "a scheme without a credential here"
    config = tmp_path / "schemathesis.toml"
    write_config(config, world.credentials)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(config),
        "run", str(SCHEMA), "--url", server,
        "--seed", SEED, "--max-examples", MAX_EXAMPLES,
        # One worker: hypothesis parses sources to describe strategies, and CPython 3.11's
        # AST constructor fails now and then when threads do it at once (cpython#106905).
        "--workers", "1", "--request-timeout", "10",
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603, ASYNC221 - the schemathesis CLI, run to the end
        command, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
        env={
            **os.environ,
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONPATH": str(REPO),
            "SCHEMATHESIS_HOOKS": "tests.api_contract.hooks",
        },
    )  # fmt: skip
    print(done.stdout, done.stderr)  # noqa: T201
    print(f"schemathesis took {time.monotonic() - started:.0f} s")  # noqa: T201
    assert done.returncode == 0, "schemathesis found failures (output above)"
