"""Settings refuse to start production with development defaults; env names are as documented."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from parental.kit.settings import (
    DEVELOPMENT_SECRET,
    Environment,
    KitSettings,
    get_kit_settings,
)
from parental.settings import ParentalSettings, SmsBackend, get_parental_settings

STRONG_SECRET = "s" * 40
PRODUCTION = Environment.PRODUCTION
PG_URL = "postgresql+asyncpg://parental@db.internal/parental"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No setting leaks in from the machine (the PostgreSQL run sets DATABASE_URL, REDIS_URL)."""
    for name in list(os.environ):
        if name.startswith("PARENTAL_") or name in ("DATABASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    get_kit_settings.cache_clear()
    get_parental_settings.cache_clear()
    yield
    get_kit_settings.cache_clear()
    get_parental_settings.cache_clear()


def test_development_defaults_use_the_embedded_database(tmp_path: Path) -> None:
    settings = KitSettings(data_dir=tmp_path)

    assert settings.environment is Environment.DEVELOPMENT
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.resolved_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'parental.sqlite3').resolve()}"
    )


@pytest.mark.parametrize(
    "secret",
    [DEVELOPMENT_SECRET, "short-secret", "x" * 31],
    ids=["development-default", "short", "one-below-minimum"],
)
def test_production_refuses_a_weak_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="PARENTAL_SECRET_KEY"):
        KitSettings(environment=PRODUCTION, secret_key=SecretStr(secret), database_url=PG_URL)


def test_production_refuses_the_default_secret_when_none_is_given() -> None:
    with pytest.raises(ValidationError, match="PARENTAL_SECRET_KEY"):
        KitSettings(environment=PRODUCTION, database_url=PG_URL)


def test_production_requires_a_database_url() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL must be set"):
        KitSettings(environment=PRODUCTION, secret_key=SecretStr(STRONG_SECRET))


def test_production_with_a_strong_secret_and_a_database_works() -> None:
    settings = KitSettings(
        environment=PRODUCTION, secret_key=SecretStr(STRONG_SECRET), database_url=PG_URL
    )

    assert settings.environment is Environment.PRODUCTION
    assert settings.secret_key.get_secret_value() == STRONG_SECRET
    assert settings.resolved_database_url == PG_URL
    assert STRONG_SECRET not in repr(settings)
    # The minimum is 32 characters, inclusive.
    KitSettings(environment=PRODUCTION, secret_key=SecretStr("y" * 32), database_url=PG_URL)


def test_database_and_redis_urls_are_read_unprefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARENTAL_ENVIRONMENT", "production")
    monkeypatch.setenv("PARENTAL_SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")

    settings = get_kit_settings()

    assert settings.environment is Environment.PRODUCTION
    assert settings.database_url == PG_URL
    assert settings.redis_url == "redis://cache.internal:6379/0"
    assert get_kit_settings() is settings  # read once per process


def test_production_from_the_environment_without_database_url_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARENTAL_ENVIRONMENT", "production")
    monkeypatch.setenv("PARENTAL_SECRET_KEY", STRONG_SECRET)

    with pytest.raises(ValidationError, match="DATABASE_URL"):
        KitSettings()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARENTAL_ENVIRONMENT", "production")
    monkeypatch.setenv("PARENTAL_SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    get_kit_settings.cache_clear()


@pytest.mark.usefixtures("production")
def test_production_refuses_the_log_sms_sink() -> None:
    with pytest.raises(ValidationError, match="use http in production"):
        ParentalSettings()
    with pytest.raises(ValidationError, match="use http in production"):
        ParentalSettings(sms_backend=SmsBackend.LOG)


@pytest.mark.usefixtures("production")
def test_production_accepts_the_sms_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARENTAL_SMS_BACKEND", "http")
    monkeypatch.setenv("PARENTAL_SMS_GATEWAY_URL", "https://sms.carrier.example/send")
    monkeypatch.setenv("PARENTAL_SMS_GATEWAY_TOKEN", "gateway-token")

    settings = get_parental_settings()

    assert settings.sms_backend is SmsBackend.HTTP
    assert settings.sms_gateway_url == "https://sms.carrier.example/send"
    assert settings.sms_gateway_token is not None
    assert settings.sms_gateway_token.get_secret_value() == "gateway-token"


def test_the_log_sms_sink_is_fine_outside_production() -> None:
    assert ParentalSettings().sms_backend is SmsBackend.LOG


@pytest.mark.parametrize("environment", ["development", "production"])
def test_http_sms_needs_a_gateway_url(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("PARENTAL_ENVIRONMENT", environment)
    monkeypatch.setenv("PARENTAL_SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("DATABASE_URL", PG_URL)

    with pytest.raises(ValidationError, match="PARENTAL_SMS_GATEWAY_URL is required"):
        ParentalSettings(sms_backend=SmsBackend.HTTP)
