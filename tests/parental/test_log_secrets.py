"""No secret and no code in the logs (issue 9): a sign-in, a token refresh, a pairing, carrier
calls and a staff login run with every logger at DEBUG, and the captured records hold none of
the codes, tokens, keys or phone numbers in full that went by."""

from __future__ import annotations

import logging

import httpx
import pytest

from parental.kit.access_log import ACCESS_LOGGER
from parental.runner import configure_logging
from parental.runtime import Runtime
from tests.conftest import sms_code
from tests.parental.factories import STAFF_PASSWORD, carrier_headers, staff_headers

GUARDIAN_PHONE = "+77011234567"
LINE = "+77071234567"
# The test's own HTTP client logs each request it makes (the URL carries the line number);
# it is not the service.
CLIENT_LOGGERS = ("httpx", "httpcore")


def captured(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and arguments, formatted, with its exception text."""
    handler = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        handler.format(record)
        for record in caplog.records
        if not record.name.startswith(CLIENT_LOGGERS)
    )


async def test_secrets_never_reach_the_logs(
    client: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger that does not opt out
    secrets: dict[str, str] = {"guardian phone": GUARDIAN_PHONE, "line": LINE}

    carrier = await carrier_headers(runtime)
    secrets["service key"] = carrier["Authorization"].removeprefix("Bearer ")
    line = await client.put(
        f"/carrier/v1/lines/{LINE}",
        headers=carrier,
        json={"guardian_phone": GUARDIAN_PHONE, "is_child_sim": True},
    )
    assert line.status_code in (200, 201), line.text
    assert (await client.get(f"/carrier/v1/lines/{LINE}", headers=carrier)).status_code == 200
    bad_key = await client.get(f"/carrier/v1/lines/{LINE}", headers={"Authorization": "Bearer k"})
    assert bad_key.status_code == 401

    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": GUARDIAN_PHONE})
    assert sent.status_code == 202, sent.text
    code = sms_code(runtime, GUARDIAN_PHONE)
    secrets["sign-in code"] = code
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post("/v1/auth/tokens", json={"phone": GUARDIAN_PHONE, "code": wrong})
    assert refused.status_code in (400, 401), refused.text
    tokens = await client.post("/v1/auth/tokens", json={"phone": GUARDIAN_PHONE, "code": code})
    assert tokens.status_code == 201, tokens.text
    secrets["access token"] = tokens.json()["access_token"]
    secrets["refresh token"] = tokens.json()["refresh_token"]

    refreshed = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": secrets["refresh token"]}
    )
    assert refreshed.status_code in (200, 201), refreshed.text
    secrets["refreshed access token"] = refreshed.json()["access_token"]
    secrets["refreshed refresh token"] = refreshed.json()["refresh_token"]
    reused = await client.post(  # a reused refresh token: refused, its chain revoked
        "/v1/auth/tokens/refresh", json={"refresh_token": secrets["refresh token"]}
    )
    assert reused.status_code == 401, reused.text

    guardian = {"Authorization": f"Bearer {secrets['refreshed access token']}"}
    family = await client.post("/v1/families", headers=guardian, json={"name": "Family"})
    assert family.status_code == 201, family.text
    child = await client.post(
        "/v1/children",
        headers=guardian,
        json={"name": "Aigerim", "birthdate": "2015-03-08", "msisdn": LINE},
    )
    assert child.status_code == 201, child.text

    pairing = await client.post(
        f"/v1/children/{child.json()['id']}/pairing-codes", headers=guardian
    )
    assert pairing.status_code == 201, pairing.text
    secrets["pairing code"] = pairing.json()["code"]
    wrong_pairing = await client.post(
        "/v1/device/pair", json={"code": "ABCDEFGHJK", "name": "Phone", "platform": "android"}
    )
    assert wrong_pairing.status_code in (400, 401, 404), wrong_pairing.text
    paired = await client.post(
        "/v1/device/pair",
        json={"code": secrets["pairing code"], "name": "Phone", "platform": "android"},
    )
    assert paired.status_code == 201, paired.text
    secrets["device token"] = paired.json()["device_token"]
    device = {"Authorization": f"Bearer {secrets['device token']}"}
    assert (await client.get("/v1/device", headers=device)).status_code == 200

    staff = await staff_headers(client, runtime, username="curator")
    secrets["staff password"] = STAFF_PASSWORD
    secrets["staff token"] = staff["Authorization"].removeprefix("Bearer ")
    wrong_login = await client.post(
        "/admin/v1/auth/tokens", json={"username": "curator", "password": "not it"}
    )
    assert wrong_login.status_code == 401, wrong_login.text
    assert (await client.get("/admin/v1/me", headers=staff)).status_code == 200

    text = captured(caplog)
    assert caplog.records, "nothing was captured: the test would prove nothing"
    leaked = {name for name, value in secrets.items() if value in text}
    # The numbers must not appear without their "+" either (a log that strips it).
    leaked |= {name for name in ("guardian phone", "line") if secrets[name][1:] in text}
    assert leaked == set(), leaked


def test_access_log_lines_keep_no_numbers_or_queries(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request lines uvicorn logs (``parental serve`` and ``parental blockpage`` install
    the filter through ``configure_logging``)."""
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)  # keep pytest's handlers
    configure_logging()
    caplog.set_level(logging.INFO)
    access = logging.getLogger(ACCESS_LOGGER)
    for path in (
        "/carrier/v1/lines/%2B77071234567",
        "/carrier/v1/lines/77071234567/locations",
        "/carrier/v1/bindings?msisdn=%2B77071234567",
        "/v1/filter/check?url=https%3A%2F%2Fsecret.example%2F",
    ):
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", path, "1.1", 200)
    text = caplog.text
    assert "7071234567" not in text
    assert "secret.example" not in text
    assert '"GET /carrier/v1/lines/+7********67 HTTP/1.1" 200' in text
    assert '"GET /carrier/v1/lines/+7********67/locations HTTP/1.1" 200' in text
    assert '"GET /carrier/v1/bindings HTTP/1.1" 200' in text
    assert '"GET /v1/filter/check HTTP/1.1" 200' in text
    # A record of another shape passes untouched, ids stay readable.
    access.info("plain %s", "/v1/children/0c5e1b7e-36f2-4d1e-9f55-0a4ea1ab2c77")
    assert "/v1/children/0c5e1b7e-36f2-4d1e-9f55-0a4ea1ab2c77" in caplog.text
