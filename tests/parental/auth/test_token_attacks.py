"""Forged, swapped, expired and replayed credentials are refused on real routes (issue 9).

Every refusal is a 401 with the machine-readable body and ``WWW-Authenticate: Bearer``; none
reveals which check failed.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from parental.auth.models import RefreshToken
from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, sign_in

GUARDIAN_ROUTE = ("/v1/me", "InvalidAccessToken")
STAFF_ROUTE = ("/admin/v1/me", "InvalidStaffToken")
DEVICE_ROUTE = ("/v1/device", "InvalidDeviceToken")
JWT_ROUTES = {"parental:guardian": GUARDIAN_ROUTE, "parental:staff": STAFF_ROUTE}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def hs256(
    header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: str = "sha256"
) -> str:
    """Sign by hand: PyJWT refuses to use a PEM public key as an HMAC secret, attackers do not."""
    signing_input = segments(header, claims)
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_for(runtime: Runtime, subject: str, audience: str, **changes: Any) -> dict[str, Any]:
    now = int(runtime.clock.now().timestamp())
    return {"sub": subject, "aud": audience, "iat": now, "exp": now + 300, **changes}


async def assert_refused(
    client: httpx.AsyncClient, route: tuple[str, str], credential: str
) -> None:
    path, error = route
    response = await client.get(path, headers={"Authorization": f"Bearer {credential}"})
    assert response.status_code == 401, (path, response.text)
    assert response.json() == {"error": error, "detail": response.json()["detail"]}
    assert response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.fixture
async def subjects(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld, staff: dict[str, str]
) -> dict[str, str]:
    """Audience -> the id of a real account of that audience, so only the token is at fault."""
    me = await client.get("/admin/v1/me", headers=staff)
    assert me.status_code == 200, me.text
    return {"parental:guardian": family.guardian.account_id, "parental:staff": me.json()["id"]}


@pytest.mark.parametrize("audience", sorted(JWT_ROUTES))
async def test_a_correctly_signed_token_is_accepted(
    client: httpx.AsyncClient, runtime: Runtime, subjects: dict[str, str], audience: str
) -> None:
    # The control: the forgeries below differ from this token in one way each.
    token = hs256(
        {"alg": "HS256", "typ": "JWT"},
        claims_for(runtime, subjects[audience], audience),
        runtime.secret.encode(),
    )
    path, _ = JWT_ROUTES[audience]
    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("audience", sorted(JWT_ROUTES))
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_an_unsigned_token_is_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    subjects: dict[str, str],
    audience: str,
    alg: str,
) -> None:
    claims = claims_for(runtime, subjects[audience], audience)
    unsigned = segments({"alg": alg, "typ": "JWT"}, claims) + "."
    await assert_refused(client, JWT_ROUTES[audience], unsigned)


@pytest.mark.parametrize("audience", sorted(JWT_ROUTES))
async def test_algorithm_swapped_tokens_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, subjects: dict[str, str], audience: str
) -> None:
    claims = claims_for(runtime, subjects[audience], audience)
    route = JWT_ROUTES[audience]
    # The server's own secret, but another HMAC algorithm than the one fixed in code.
    for alg, digest in (("HS384", "sha384"), ("HS512", "sha512")):
        swapped = hs256({"alg": alg, "typ": "JWT"}, claims, runtime.secret.encode(), digest)
        await assert_refused(client, route, swapped)
    # An asymmetric token signed with the attacker's key, and the RS/HS confusion: HS256 keyed
    # with a public key the attacker knows (what a server that took the algorithm from the
    # header and verified with "the key" would accept).
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    await assert_refused(client, route, jwt.encode(claims, private, algorithm="RS256"))
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    await assert_refused(client, route, hs256({"alg": "HS256", "typ": "JWT"}, claims, public_pem))
    # The algorithm's name in another case is another algorithm.
    lower = hs256({"alg": "hs256", "typ": "JWT"}, claims, runtime.secret.encode())
    await assert_refused(client, route, lower)


@pytest.mark.parametrize("audience", sorted(JWT_ROUTES))
async def test_badly_signed_and_tampered_tokens_are_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    subjects: dict[str, str],
    audience: str,
    other_family: FamilyWorld,
) -> None:
    claims = claims_for(runtime, subjects[audience], audience)
    route = JWT_ROUTES[audience]
    good = hs256({"alg": "HS256", "typ": "JWT"}, claims, runtime.secret.encode())
    head, body, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    await assert_refused(client, route, f"{head}.{body}.{flipped}")
    await assert_refused(client, route, f"{head}.{body}.")
    await assert_refused(client, route, f"{head}.{body}")
    other_key = hs256({"alg": "HS256"}, claims, b"another-secret-" * 4)
    await assert_refused(client, route, other_key)
    # The payload swapped for another account's, the signature kept.
    stolen = claims_for(runtime, other_family.guardian.account_id, audience)
    await assert_refused(client, route, f"{head}.{b64(json.dumps(stolen).encode())}.{signature}")
    for garbage in ("not-a-jwt", "a.b.c", "....", "e30.e30.e30"):
        await assert_refused(client, route, garbage)


@pytest.mark.parametrize("audience", sorted(JWT_ROUTES))
async def test_expired_and_incomplete_tokens_are_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    subjects: dict[str, str],
    audience: str,
) -> None:
    route = JWT_ROUTES[audience]
    key = runtime.secret.encode()
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(clock.now().timestamp())
    expired = claims_for(runtime, subjects[audience], audience, iat=now - 600, exp=now - 1)
    await assert_refused(client, route, hs256(header, expired, key))
    at_expiry = claims_for(runtime, subjects[audience], audience, exp=now)
    await assert_refused(client, route, hs256(header, at_expiry, key))
    for missing in ("exp", "aud", "sub", "iat"):
        claims = claims_for(runtime, subjects[audience], audience)
        del claims[missing]
        await assert_refused(client, route, hs256(header, claims, key))
    for odd_exp in ("9999999999", 1e12, None, True):
        claims = claims_for(runtime, subjects[audience], audience, exp=odd_exp)
        await assert_refused(client, route, hs256(header, claims, key))
    # A token that was valid stops working when the clock passes its expiry.
    valid = hs256(header, claims_for(runtime, subjects[audience], audience), key)
    clock.advance(timedelta(seconds=301))
    await assert_refused(client, route, valid)


async def test_tokens_of_one_audience_are_refused_by_every_other(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    staff: dict[str, str],
    carrier: dict[str, str],
) -> None:
    credentials = {
        "guardian access": family.guardian.access_token,
        "guardian refresh": family.guardian.refresh_token,
        "staff": staff["Authorization"].removeprefix("Bearer "),
        "device": family.device_token,
        "carrier": carrier["Authorization"].removeprefix("Bearer "),
    }
    accepted_by = {
        GUARDIAN_ROUTE: "guardian access",
        STAFF_ROUTE: "staff",
        DEVICE_ROUTE: "device",
        (f"/carrier/v1/lines/{family.line}", "InvalidServiceKey"): "carrier",
    }
    for route, own in accepted_by.items():
        path, _ = route
        mine = await client.get(path, headers={"Authorization": f"Bearer {credentials[own]}"})
        assert mine.status_code == 200, (path, mine.text)
        for name, credential in credentials.items():
            if name != own:
                await assert_refused(client, route, credential)
    # The guardian's own claims with another audience: a token for one service is not a pass
    # to another signed with the same secret.
    key = runtime.secret.encode()
    for audience in ("parental:staff", "parental:device", "", "parental:guardian:x"):
        claims = claims_for(runtime, family.guardian.account_id, audience)
        await assert_refused(client, GUARDIAN_ROUTE, hs256({"alg": "HS256"}, claims, key))
    # An access token is not a refresh token either.
    response = await client.post(
        "/v1/auth/tokens/refresh", json={"refresh_token": family.guardian.access_token}
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "InvalidRefreshToken"


async def test_a_revoked_device_token_is_refused(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    revoked = await client.delete(
        f"/v1/devices/{family.device_id}", headers=family.guardian.headers
    )
    assert revoked.status_code == 204
    await assert_refused(client, DEVICE_ROUTE, family.device_token)


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/v1/auth/tokens/refresh", json={"refresh_token": token})


async def chain_revoked(runtime: Runtime) -> list[bool]:
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(RefreshToken))).all()
    return [row.revoked_at is not None for row in rows]


async def test_a_replayed_refresh_token_revokes_its_whole_family(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    guardian = await sign_in(client, runtime, "+77015550021")
    other = await sign_in(client, runtime, "+77015550022")
    tokens = [guardian.refresh_token]
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        rotated = await refresh(client, tokens[-1])
        assert rotated.status_code == 200, rotated.text
        tokens.append(rotated.json()["refresh_token"])

    # An old link is replayed (stolen): refused, and every link after it with it.
    replay = await refresh(client, tokens[1])
    assert replay.status_code == 401
    assert replay.json() == {"error": "RefreshTokenReused", "detail": replay.json()["detail"]}
    assert replay.headers["www-authenticate"] == "Bearer"
    for token in tokens:
        dead = await refresh(client, token)
        assert dead.status_code == 401
        assert dead.json()["error"] in ("InvalidRefreshToken", "RefreshTokenReused")
    assert (await refresh(client, tokens[-1])).json()["error"] == "InvalidRefreshToken"
    # Another sign-in's family is untouched.
    assert (await refresh(client, other.refresh_token)).status_code == 200


async def test_a_refresh_token_used_twice_at_once_works_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    guardian = await sign_in(client, runtime, "+77015550023")
    first, second = await asyncio.gather(
        refresh(client, guardian.refresh_token), refresh(client, guardian.refresh_token)
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 401], (first.text, second.text)
    loser = first if first.status_code == 401 else second
    winner = second if loser is first else first
    assert loser.json()["error"] == "RefreshTokenReused"
    # The race counts as a replay: the token the winner got is revoked with the rest.
    late = await refresh(client, winner.json()["refresh_token"])
    assert late.status_code == 401
    assert all(await chain_revoked(runtime))


async def test_forged_refresh_tokens_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    guardian = await sign_in(client, runtime, "+77015550024")
    genuine = guardian.refresh_token
    for forged in (genuine[:-1] + ("A" if genuine[-1] != "A" else "B"), "rt_" + "A" * 43):
        response = await refresh(client, forged)
        assert response.status_code == 401
        assert response.json()["error"] == "InvalidRefreshToken"
    # Guessing does not touch the genuine chain.
    assert (await refresh(client, genuine)).status_code == 200
