"""One settings object, read once from ``SALDO_*`` environment variables.

Production mode refuses values that are only safe on a laptop; every problem is
reported as a :class:`SettingsError` naming the variable, never as a stack trace.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-only-not-a-secret-change-me"  # noqa: S105 - the named unsafe default


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(Exception):
    """A setting is missing, malformed or unsafe; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALDO_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    #: PostgreSQL URL (``postgresql://user@host:port/db``). Unset: the embedded server.
    database_url: str | None = None
    #: Where the embedded server keeps its cluster and Saldo keeps local state.
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("saldo")))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: ``auto`` is JSON in production and readable text in development.
    log_format: Literal["auto", "json", "console"] = "auto"
    db_pool_min: int = Field(default=2, ge=1, le=200)
    db_pool_max: int = Field(default=20, ge=1, le=500)
    #: How often ``saldo worker`` polls for new events, in seconds.
    worker_poll_interval: float = Field(default=0.2, gt=0, le=60)
    #: Largest request body accepted, in bytes.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    secret_key: str = DEFAULT_SECRET
    redis_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (for example postgresql://saldo@db:5432/saldo)")
        return value

    @model_validator(mode="after")
    def _production_refuses_laptop_defaults(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "SALDO_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production"
                )
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("SALDO_DB_POOL_MIN must not exceed SALDO_DB_POOL_MAX")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @cached_property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format == "auto":
            return "json" if self.is_production else "console"
        return self.log_format


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; turn pydantic's report into one readable paragraph."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            name = f"SALDO_{field.upper()}" if field else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if field else message)
        raise SettingsError("Invalid configuration. " + "; ".join(problems) + ".") from None
