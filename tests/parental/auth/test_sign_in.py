"""Signing a parent in with a code, and the life of access and refresh tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from parental.auth.models import Account, RefreshToken, SignInCode
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.conftest import sms_code
from tests.parental.factories import sign_in

PHONE = "+77015550011"


async def count(runtime: Runtime, model: type[object]) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_code_is_sent_in_the_requested_language_and_stored_only_hashed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE, "locale": "ru"})
    assert response.status_code == 202
    code = sms_code(runtime, PHONE)
    assert "Код для входа" in runtime.sms.last_to(PHONE).text  # type: ignore[attr-defined]
    async with runtime.sessions() as session:
        row = (await session.scalars(select(SignInCode))).one()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64


async def test_first_sign_in_creates_the_account_and_a_second_reuses_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = await sign_in(client, runtime, PHONE)
    second = await sign_in(client, runtime, PHONE)
    assert first.account_id == second.account_id
    assert await count(runtime, Account) == 1
    me = await client.get("/v1/me", headers=first.headers)
    assert me.json()["phone"] == PHONE
    assert me.json()["locale"] == "kk"
    assert me.json()["family_id"] is None


async def test_a_code_works_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})
    code = sms_code(runtime, PHONE)
    ok = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": code})
    assert ok.status_code == 201
    again = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": code})
    assert again.status_code == 400
    assert again.json()["error"] == "InvalidSignInCode"


async def test_an_expired_code_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})
    code = sms_code(runtime, PHONE)
    clock.advance(timedelta(seconds=runtime.settings.sign_in_code_ttl_seconds + 1))
    response = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": code})
    assert response.status_code == 400
    assert await count(runtime, Account) == 0


async def test_a_newer_code_replaces_the_older(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})
    old = sms_code(runtime, PHONE)
    await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})
    new = sms_code(runtime, PHONE)
    if old != new:
        refused = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": old})
        assert refused.status_code == 400
    accepted = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": new})
    assert accepted.status_code == 201


async def test_wrong_codes_are_counted_and_lock_the_code(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await client.post("/v1/auth/sign-in-codes", json={"phone": PHONE})
    code = sms_code(runtime, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(runtime.settings.sign_in_code_max_attempts):
        response = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": wrong})
        assert response.status_code == 400
    async with runtime.sessions() as session:
        row = (await session.scalars(select(SignInCode))).one()
        assert row.attempts == runtime.settings.sign_in_code_max_attempts
    # Even the right code no longer works: guessing cannot continue on this code.
    locked = await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": code})
    assert locked.status_code == 400
    assert await count(runtime, Account) == 0


async def test_code_attempts_are_rate_limited_per_phone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    statuses = [
        (await client.post("/v1/auth/tokens", json={"phone": PHONE, "code": "123456"})).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


async def test_malformed_phone_numbers_are_refused(client: httpx.AsyncClient) -> None:
    for phone in ["87011234567", "+7701", "+999123", "hello", "+7 701 123 45 67 89 00"]:
        response = await client.post("/v1/auth/sign-in-codes", json={"phone": phone})
        assert response.status_code == 422, phone
        assert response.json()["error"] == "ValidationError"


async def test_access_token_expires(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    guardian = await sign_in(client, runtime, PHONE)
    clock.advance(timedelta(seconds=runtime.settings.access_token_ttl_seconds - 1))
    assert (await client.get("/v1/me", headers=guardian.headers)).status_code == 200
    clock.advance(timedelta(seconds=2))
    expired = await client.get("/v1/me", headers=guardian.headers)
    assert expired.status_code == 401
    assert expired.json()["error"] == "InvalidAccessToken"
    assert expired.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_reuse_revokes_the_whole_chain(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    guardian = await sign_in(client, runtime, PHONE)
    first = guardian.refresh_token
    clock.advance(timedelta(minutes=20))
    rotated = await client.post("/v1/auth/tokens/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first
    new_access = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await client.get("/v1/me", headers=new_access)).status_code == 200

    # Someone replays the first token (stolen): the chain, including `second`, is revoked.
    replay = await client.post("/v1/auth/tokens/refresh", json={"refresh_token": first})
    assert replay.status_code == 401
    assert replay.json()["error"] == "RefreshTokenReused"
    after = await client.post("/v1/auth/tokens/refresh", json={"refresh_token": second})
    assert after.status_code == 401
    assert after.json()["error"] == "InvalidRefreshToken"
    async with runtime.sessions() as session:
        tokens = (await session.scalars(select(RefreshToken))).all()
    assert tokens
    assert all(t.revoked_at is not None for t in tokens)


async def test_another_sign_in_is_unaffected_by_a_revoked_chain(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    phone_a = await sign_in(client, runtime, PHONE)
    phone_b = await sign_in(client, runtime, PHONE)
    revoked = await client.post(
        "/v1/auth/tokens/revoke", json={"refresh_token": phone_a.refresh_token}
    )
    assert revoked.status_code == 204
    dead = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": phone_a.refresh_token}
    )
    assert dead.status_code == 401
    alive = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": phone_b.refresh_token}
    )
    assert alive.status_code == 200


async def test_refresh_token_expires(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    guardian = await sign_in(client, runtime, PHONE)
    clock.advance(timedelta(days=runtime.settings.refresh_token_ttl_days, seconds=1))
    response = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": guardian.refresh_token}
    )
    assert response.status_code == 401


async def test_tokens_from_other_audiences_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    from parental.kit.security import encode_jwt

    guardian = await sign_in(client, runtime, PHONE)
    forged = encode_jwt(
        secret=runtime.secret,
        subject=guardian.account_id,
        audience="parental:staff",
        issued_at=runtime.clock.now(),
        ttl=timedelta(minutes=5),
    )
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    wrong_secret = encode_jwt(
        secret="another-secret-" * 3,
        subject=guardian.account_id,
        audience="parental:guardian",
        issued_at=runtime.clock.now(),
        ttl=timedelta(minutes=5),
    )
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {wrong_secret}"})
    assert response.status_code == 401


async def test_locale_can_be_changed(client: httpx.AsyncClient, runtime: Runtime) -> None:
    guardian = await sign_in(client, runtime, PHONE)
    response = await client.patch("/v1/me", headers=guardian.headers, json={"locale": "en"})
    assert response.json()["locale"] == "en"
    bad = await client.patch("/v1/me", headers=guardian.headers, json={"locale": "de"})
    assert bad.status_code == 422
