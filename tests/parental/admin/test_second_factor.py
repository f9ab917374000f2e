"""Staff second factor: RFC 6238 codes, the sealed secret, the admin API's sign-in with a code
(required once enrolled, good once), the per-account lockout, and enrolment from the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from parental.admin import totp
from parental.admin.models import StaffAccount
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.console.helpers import Enrolled, create_staff, next_step, secret_of
from tests.parental.factories import STAFF_PASSWORD
from tests.parental.test_cli import ainvoke, cli_env  # noqa: F401 (a fixture)

TOKENS = "/admin/v1/auth/tokens"
RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(
    ("unix", "expected"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_codes_match_the_rfc_6238_vectors(unix: int, expected: str) -> None:
    at = datetime.fromtimestamp(unix, UTC)

    assert totp.code_at(RFC_SECRET, totp.step_of(at), digits=8) == expected
    assert totp.code_at(RFC_SECRET, totp.step_of(at)) == expected[-6:]


def test_a_code_is_good_one_step_either_side_and_no_further() -> None:
    now = datetime(2026, 12, 3, 12, 0, 10, tzinfo=UTC)
    step = totp.step_of(now)

    for delta in (-1, 0, 1):
        assert totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, step + delta), now) == (
            step + delta
        )
    for delta in (-2, 2):
        assert totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, step + delta), now) is None
    assert totp.matching_step(RFC_SECRET, "12345", now) is None
    assert totp.matching_step(RFC_SECRET, "abcdef", now) is None


def test_the_sealed_secret_opens_only_for_its_account_and_service_secret() -> None:
    secret = totp.new_secret()
    stored = totp.seal(secret, service_secret="s" * 40, staff_id="a")

    assert totp.unseal(stored, service_secret="s" * 40, staff_id="a") == secret
    assert secret.hex() not in stored
    with pytest.raises(totp.UnreadableSecret):
        totp.unseal(stored, service_secret="s" * 40, staff_id="b")
    with pytest.raises(totp.UnreadableSecret):
        totp.unseal(stored, service_secret="t" * 40, staff_id="a")


def test_the_provisioning_uri_carries_what_authenticator_apps_read() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, "alice")

    assert uri.startswith("otpauth://totp/Child-safe%20SIM%3Aalice?")
    assert secret_of(uri) == RFC_SECRET
    assert "digits=6" in uri
    assert "period=30" in uri
    assert "algorithm=SHA1" in uri


async def _sign_in(client: httpx.AsyncClient, staff: Enrolled, code: str | None) -> httpx.Response:
    body = {"username": staff.username, "password": STAFF_PASSWORD}
    if code is not None:
        body["code"] = code
    return await client.post(TOKENS, json=body)


async def test_an_enrolled_account_needs_its_code_and_each_code_is_good_once(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    staff = await create_staff(runtime)
    assert staff is not None

    missing = await _sign_in(client, staff, None)
    wrong = await _sign_in(client, staff, "000000" if staff.code(runtime) != "000000" else "111111")
    right = await _sign_in(client, staff, staff.code(runtime))
    replayed = await _sign_in(client, staff, staff.code(runtime))
    next_step(clock)
    following = await _sign_in(client, staff, staff.code(runtime))

    assert (missing.status_code, missing.json()["error"]) == (401, "SecondFactorRequired")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "InvalidSecondFactor")
    assert right.status_code == 201, right.text
    assert (replayed.status_code, replayed.json()["error"]) == (401, "InvalidSecondFactor")
    assert following.status_code == 201, following.text
    # An older code is refused after a newer one was used, even inside its window.
    clock.advance(timedelta(seconds=1))
    older = totp.code_at(staff.secret, totp.step_of(clock.now()) - 1)
    assert (await _sign_in(client, staff, older)).status_code == 401


async def test_a_code_is_checked_only_after_the_password(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await create_staff(runtime)
    assert staff is not None

    response = await client.post(
        TOKENS,
        json={
            "username": staff.username,
            "password": "wrong password!",
            "code": staff.code(runtime),
        },
    )
    after = await _sign_in(client, staff, staff.code(runtime))

    assert (response.status_code, response.json()["error"]) == (401, "InvalidStaffCredentials")
    assert after.status_code == 201  # the code was not spent by the failed attempt


async def test_a_malformed_code_is_a_validation_error(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await create_staff(runtime)
    assert staff is not None

    response = await _sign_in(client, staff, "12ab56")

    assert response.status_code == 422


async def test_an_account_without_a_second_factor_still_signs_in_with_its_password(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_staff(runtime, "plain", enrol=False)

    response = await client.post(TOKENS, json={"username": "plain", "password": STAFF_PASSWORD})

    assert response.status_code == 201, response.text


async def test_failures_lock_the_account_out_even_for_the_right_code(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    staff = await create_staff(runtime)
    assert staff is not None
    bad = "000000" if staff.code(runtime) != "000000" else "111111"

    statuses = [(await _sign_in(client, staff, bad)).status_code for _ in range(5)]
    locked = await _sign_in(client, staff, staff.code(runtime))

    assert statuses == [401] * 5
    assert (locked.status_code, locked.json()["error"]) == (429, "StaffSignInLocked")
    assert int(locked.headers["retry-after"]) > 0
    clock.advance(timedelta(seconds=runtime.settings.lockout_base_seconds + 1))
    assert (await _sign_in(client, staff, staff.code(runtime))).status_code == 201


async def test_the_secret_is_stored_sealed(runtime: Runtime) -> None:
    staff = await create_staff(runtime)
    assert staff is not None

    async with runtime.sessions() as session:
        row = await session.scalar(select(StaffAccount).where(StaffAccount.username == "curator"))
    assert row is not None
    assert row.totp_secret is not None
    assert staff.secret.hex() not in row.totp_secret
    assert totp.unseal(row.totp_secret, service_secret=runtime.secret, staff_id=str(row.id)) == (
        staff.secret
    )


async def test_the_cli_enrols_and_prints_the_uri_once(
    cli_env: str,  # noqa: F811 (the fixture imported above)
    client: httpx.AsyncClient,
    runtime: Runtime,
) -> None:
    await create_staff(runtime, "alice", enrol=False)

    result = await ainvoke("admin", "enrol-totp", "alice")
    unknown = await ainvoke("admin", "enrol-totp", "nobody")

    assert result.exit_code == 0, result.output
    uri = result.stdout.strip().splitlines()[-1]
    enrolled = Enrolled("alice", secret_of(uri))
    assert (await _sign_in(client, enrolled, None)).status_code == 401
    assert (await _sign_in(client, enrolled, enrolled.code(runtime))).status_code == 201
    assert unknown.exit_code == 1
    assert "StaffNotFound" in unknown.stderr
