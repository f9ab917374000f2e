"""Keyed hashes, one-time codes, JWTs (algorithm fixed to HS256) and password hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from parental.kit.security import (
    UNAMBIGUOUS_ALPHABET,
    InvalidTokenError,
    decode_jwt,
    encode_jwt,
    hash_password,
    keyed_hash,
    new_code,
    verify_password,
)

SECRET = "unit-test-secret-" + "s" * 64
OTHER_SECRET = "other-test-secret-" + "o" * 64
AUDIENCE = "parental:guardian"
ISSUED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)


def _token(**overrides: Any) -> str:
    kwargs: dict[str, Any] = {
        "secret": SECRET,
        "subject": "account-1",
        "audience": AUDIENCE,
        "issued_at": ISSUED,
        "ttl": TTL,
    }
    kwargs.update(overrides)
    return encode_jwt(**kwargs)


def _claims(**overrides: Any) -> dict[str, Any]:
    """Claims as encode_jwt would write them, for tokens crafted with PyJWT directly."""
    claims: dict[str, Any] = {
        "sub": "account-1",
        "aud": AUDIENCE,
        "iat": int(ISSUED.timestamp()),
        "exp": int((ISSUED + TTL).timestamp()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_keyed_hash_is_deterministic_and_depends_on_key_and_value() -> None:
    first = keyed_hash(SECRET, "sign-in:+77011234567:123456")

    assert first == keyed_hash(SECRET, "sign-in:+77011234567:123456")
    assert len(first) == 64
    int(first, 16)  # hex encoded
    assert first != keyed_hash(OTHER_SECRET, "sign-in:+77011234567:123456")
    assert first != keyed_hash(SECRET, "sign-in:+77011234567:123457")
    assert "123456" not in first


@pytest.mark.parametrize("length", [1, 8, 10, 500])
def test_new_code_has_the_requested_length_and_only_unambiguous_characters(length: int) -> None:
    code = new_code(length)

    assert len(code) == length
    assert set(code) <= set(UNAMBIGUOUS_ALPHABET)


def test_unambiguous_alphabet_leaves_out_look_alike_characters() -> None:
    assert not set("0O1IL5SUV") & set(UNAMBIGUOUS_ALPHABET)
    # A long code draws from (nearly) the whole alphabet, not a fixed subset of it.
    assert len(set(new_code(2000))) == len(UNAMBIGUOUS_ALPHABET)


def test_new_code_respects_a_given_alphabet() -> None:
    assert set(new_code(200, alphabet="AB")) == {"A", "B"}


def test_jwt_round_trip_keeps_subject_audience_times_and_extra_claims() -> None:
    token = _token(extra={"family": "f-1"})

    claims = decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)

    assert claims["sub"] == "account-1"
    assert claims["aud"] == AUDIENCE
    assert claims["iat"] == int(ISSUED.timestamp())
    assert claims["exp"] == int((ISSUED + TTL).timestamp())
    assert claims["family"] == "f-1"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_every_token_has_its_own_id() -> None:
    first = decode_jwt(_token(), secret=SECRET, audience=AUDIENCE, now=ISSUED)
    second = decode_jwt(_token(), secret=SECRET, audience=AUDIENCE, now=ISSUED)

    assert first["jti"] != second["jti"]


def test_decode_rejects_another_audience() -> None:
    token = _token(audience="parental:device")

    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


def test_decode_rejects_a_token_signed_with_another_secret() -> None:
    token = _token(secret=OTHER_SECRET)

    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


def test_decode_checks_expiry_against_the_given_now() -> None:
    token = _token()
    expires = ISSUED + TTL

    decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=expires - timedelta(seconds=1))
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=expires)
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=expires + timedelta(days=1))


def test_decode_rejects_an_unsigned_token() -> None:
    token = jwt.encode(_claims(), None, algorithm="none")

    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


def test_decode_rejects_another_algorithm_even_with_the_right_secret() -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512")
    # The same claims under HS256 pass, so only the algorithm makes the difference.
    control = jwt.encode(_claims(), SECRET, algorithm="HS256")
    decode_jwt(control, secret=SECRET, audience=AUDIENCE, now=ISSUED)

    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


@pytest.mark.parametrize("missing", ["exp", "aud", "iat", "sub"])
def test_decode_rejects_a_token_missing_a_required_claim(missing: str) -> None:
    token = jwt.encode(_claims(**{missing: None}), SECRET, algorithm="HS256")

    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


@pytest.mark.parametrize("exp", ["tomorrow", "9999999999"])
def test_decode_rejects_a_non_integer_expiry(exp: object) -> None:
    token = jwt.encode(_claims(exp=exp), SECRET, algorithm="HS256")

    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_decode_rejects_malformed_tokens(token: str) -> None:
    with pytest.raises(InvalidTokenError):
        decode_jwt(token, secret=SECRET, audience=AUDIENCE, now=ISSUED)


def test_password_hash_verifies_only_the_same_password() -> None:
    stored = hash_password("correct horse battery staple")

    assert stored != "correct horse battery staple"
    assert stored.startswith("$argon2")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not verify_password(stored, "")


def test_password_hashes_are_salted() -> None:
    assert hash_password("same password") != hash_password("same password")


def test_verify_password_is_false_for_a_malformed_hash() -> None:
    assert not verify_password("not-an-argon2-hash", "anything")
