"""The worker's purge: credentials go once expired past their grace period, and not before.

Rows are made through the API the way callers make them; the clock is moved, never slept on.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from parental.app import create_app
from parental.auth.models import RefreshToken, SignInCode
from parental.devices.models import PairingCode
from parental.families.models import Invitation
from parental.kit.clock import FrozenClock
from parental.kit.settings import get_kit_settings
from parental.runtime import Runtime
from parental.settings import ParentalSettings, get_parental_settings
from parental.worker import (
    CLOSED_INVITATION_RETENTION,
    CREDENTIAL_GRACE,
    REVOKED_TOKEN_RETENTION,
    PurgeReport,
    purge_expired,
)
from tests.parental.factories import Guardian, add_child, create_family, register_line, sign_in

GUARDIAN = "+77011234567"
LINE = "+77071234567"
SECOND = timedelta(seconds=1)

Purgeable = type[SignInCode] | type[RefreshToken] | type[PairingCode] | type[Invitation]


async def created_at(runtime: Runtime, model: Purgeable) -> list[datetime]:
    """When each remaining row of ``model`` was created, oldest first (read with SQL)."""
    async with runtime.sessions() as session:
        rows = await session.scalars(select(model.created_at).order_by(model.created_at))
        return list(rows)


async def remaining(runtime: Runtime) -> dict[str, list[datetime]]:
    return {
        "sign_in_codes": await created_at(runtime, SignInCode),
        "refresh_tokens": await created_at(runtime, RefreshToken),
        "pairing_codes": await created_at(runtime, PairingCode),
        "invitations": await created_at(runtime, Invitation),
    }


async def create_pairing_code(client: httpx.AsyncClient, guardian: Guardian, child_id: str) -> None:
    response = await client.post(f"/v1/children/{child_id}/pairing-codes", headers=guardian.headers)
    assert response.status_code == 201, response.text


async def invite(
    client: httpx.AsyncClient, guardian: Guardian, family_id: str, phone: str
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/families/{family_id}/invitations", headers=guardian.headers, json={"phone": phone}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_purge_removes_what_expired_past_retention_and_keeps_the_rest(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
    parental_settings: ParentalSettings,
) -> None:
    settings = parental_settings
    t0 = clock.now()
    guardian = await sign_in(client, runtime, GUARDIAN)  # a used sign-in code, a refresh token
    family_id = await create_family(client, guardian)
    await register_line(client, carrier, LINE, GUARDIAN)
    child = await add_child(client, guardian, LINE)
    await create_pairing_code(client, guardian, child["id"])
    await invite(client, guardian, family_id, "+77019876543")
    assert await remaining(runtime) == {
        "sign_in_codes": [t0],
        "refresh_tokens": [t0],
        "pairing_codes": [t0],
        "invitations": [t0],
    }

    # Past the t0 invitation's expiry plus its retention; the t0 refresh token has expired
    # (30 days) but is still inside its own 30 days of retention.
    clock.advance(
        timedelta(days=settings.invitation_ttl_days)
        + CLOSED_INVITATION_RETENTION
        + timedelta(days=3)
    )
    t1 = clock.now()
    assert t1 > t0 + timedelta(days=settings.refresh_token_ttl_days)
    assert t1 < t0 + timedelta(days=settings.refresh_token_ttl_days) + REVOKED_TOKEN_RETENTION
    guardian = await sign_in(client, runtime, GUARDIAN)
    await create_pairing_code(client, guardian, child["id"])
    await invite(client, guardian, family_id, "+77019876544")

    report = await purge_expired(runtime)

    assert report == PurgeReport(codes_and_tokens=1, pairing_codes=1, invitations=1)
    assert report.total == 3
    assert await remaining(runtime) == {
        "sign_in_codes": [t1],
        "refresh_tokens": [t0, t1],
        "pairing_codes": [t1],
        "invitations": [t1],
    }

    # Now the t0 refresh token is past its retention, and the t1 codes past their grace.
    clock.set(
        t0 + timedelta(days=settings.refresh_token_ttl_days) + REVOKED_TOKEN_RETENTION + SECOND
    )

    report = await purge_expired(runtime)

    assert report == PurgeReport(codes_and_tokens=2, pairing_codes=1, invitations=0)
    assert await remaining(runtime) == {
        "sign_in_codes": [],
        "refresh_tokens": [t1],
        "pairing_codes": [],
        "invitations": [t1],
    }
    assert (await purge_expired(runtime)).total == 0
    # The guardian signed in at t1 still holds a working refresh token.
    refreshed = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": guardian.refresh_token}
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_codes_stay_until_their_grace_period_is_over(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    carrier: dict[str, str],
    parental_settings: ParentalSettings,
) -> None:
    guardian = await sign_in(client, runtime, GUARDIAN)
    await create_family(client, guardian)
    await register_line(client, carrier, LINE, GUARDIAN)
    child = await add_child(client, guardian, LINE)
    sent = await client.post("/v1/auth/sign-in-codes", json={"phone": "+77019876543"})
    assert sent.status_code == 202, sent.text  # a code nobody uses, as old as the guardian's
    code_expires = clock.now() + timedelta(seconds=parental_settings.sign_in_code_ttl_seconds)
    clock.advance(timedelta(minutes=1))
    await create_pairing_code(client, guardian, child["id"])
    pairing_expires = clock.now() + timedelta(seconds=parental_settings.pairing_code_ttl_seconds)
    assert code_expires < pairing_expires

    clock.set(code_expires + CREDENTIAL_GRACE)
    assert await purge_expired(runtime) == PurgeReport(0, 0, 0)

    clock.advance(SECOND)  # the unused sign-in code and the one the guardian used go
    assert await purge_expired(runtime) == PurgeReport(2, 0, 0)
    assert await created_at(runtime, SignInCode) == []

    clock.set(pairing_expires + CREDENTIAL_GRACE)
    assert await purge_expired(runtime) == PurgeReport(0, 0, 0)
    assert len(await created_at(runtime, PairingCode)) == 1

    clock.advance(SECOND)
    assert await purge_expired(runtime) == PurgeReport(0, 1, 0)
    assert await created_at(runtime, PairingCode) == []


async def test_revoked_refresh_tokens_go_after_retention_even_before_they_expire(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    t0 = clock.now()
    signed_out = await sign_in(client, runtime, GUARDIAN)
    clock.advance(timedelta(days=1))
    revoked = await client.post(
        "/v1/auth/tokens/revoke", json={"refresh_token": signed_out.refresh_token}
    )
    assert revoked.status_code == 204, revoked.text
    t1 = clock.now()
    await sign_in(client, runtime, GUARDIAN)  # a second, live chain

    clock.set(t1 + REVOKED_TOKEN_RETENTION)
    assert (await purge_expired(runtime)).codes_and_tokens == 2  # both used sign-in codes
    assert await created_at(runtime, RefreshToken) == [t0, t1]

    clock.advance(SECOND)
    # The revoked token goes 30 days after its revocation, well before its own expiry.
    assert (await purge_expired(runtime)).codes_and_tokens == 1
    assert await created_at(runtime, RefreshToken) == [t1]


async def test_the_embedded_default_does_the_workers_rounds_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make serve` with no configuration is one process: it purges and raises the timed
    alarms itself. With a runtime given (tests, PostgreSQL deployments) `parental worker` does."""
    monkeypatch.setenv("PARENTAL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_kit_settings.cache_clear()
    get_parental_settings.cache_clear()
    try:
        app = create_app()
        async with LifespanManager(app):
            await asyncio.sleep(0.1)
            names = {t.get_coro().__qualname__ for t in app.state.background}
            assert "run_forever" in names
            assert not any(t.done() for t in app.state.background)
    finally:
        get_kit_settings.cache_clear()
        get_parental_settings.cache_clear()


async def test_a_given_runtime_leaves_the_rounds_to_the_worker(runtime: Runtime) -> None:
    app = create_app(runtime)
    async with LifespanManager(app):
        names = {t.get_coro().__qualname__ for t in app.state.background}
        assert "run_forever" not in names
