"""Settings shared by every package: where data lives, which servers to use, the server secret.

Each package has its own settings class with its own env prefix; this one holds what all of
them need. Values are read through a cached function, never at import time.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-secret-change-me-development-secret"  # noqa: S105


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class KitSettings(BaseSettings):
    """The process-wide configuration: storage, Redis, environment and the signing secret."""

    model_config = SettingsConfigDict(env_prefix="PARENTAL_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "PARENTAL_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "PARENTAL_REDIS_URL")
    )
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    log_level: str = "INFO"
    # One JSON object per line (for a log shipper), or "console" for a person at a terminal.
    log_format: Literal["json", "console"] = "json"
    sql_echo: bool = False
    # PostgreSQL connections each process keeps open, and how many more it may open at a peak.
    # Those beyond the pool are closed as soon as they are given back, so a process that often
    # needs more than the pool opens a connection (a server process, authentication) for
    # nearly every request: keep the pool at the concurrency a process sees. Each process
    # (API workers, ``parental worker``, ``parental dns``) holds up to the sum of both:
    # PostgreSQL's ``max_connections`` must cover them all.
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_pool_overflow: int = Field(default=10, ge=0, le=500)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> KitSettings:
        if self.environment is Environment.PRODUCTION:
            secret = self.secret_key.get_secret_value()
            if secret == DEVELOPMENT_SECRET or len(secret) < 32:
                raise ValueError(
                    "PARENTAL_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production"
                )
            if self.database_url is None:
                raise ValueError("DATABASE_URL must be set in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'parental.sqlite3').resolve()}"


@lru_cache
def get_kit_settings() -> KitSettings:
    """Read the shared settings once per process."""
    return KitSettings()
