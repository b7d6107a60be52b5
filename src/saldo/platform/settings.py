"""One settings object, read once from ``SALDO_*`` environment variables.

Production mode refuses values that are only safe on a laptop; every problem is
reported as a :class:`SettingsError` naming the variable, never as a stack trace.
"""

from __future__ import annotations

import json
import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The signing key earlier versions used when none was set: public, so refused in
#: production and replaced by the generated key (:func:`development_key`) in development.
DEFAULT_SECRET = "dev-only-not-a-secret-change-me"  # noqa: S105 - the named unsafe default
#: The file in the data directory that holds the generated development signing key.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


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
    #: Signs access tokens (HS256). Production requires one of at least 32 characters;
    #: unset in development, a random key is generated into ``<data_dir>/secret_key``
    #: (mode 0600) on first start and reused (:attr:`signing_key`).
    secret_key: str | None = None
    #: Bearer token ``/metrics`` requires (``Authorization: Bearer <token>``). Unset:
    #: ``/metrics`` is off (404): its figures span every company.
    metrics_token: str | None = Field(default=None, min_length=16)
    #: Seconds a request waits for a database connection before it is answered 503
    #: ``service_unavailable`` (database down, or every connection busy).
    db_pool_timeout: float = Field(default=2.0, gt=0, le=60)
    #: Seconds to wait for PostgreSQL to accept a new connection.
    db_connect_timeout: int = Field(default=2, ge=1, le=60)
    #: Run the asynchronous projections inside ``saldo serve`` (no ``saldo worker``).
    #: Unset: ``saldo serve`` turns it on with the embedded PostgreSQL (one process is the
    #: whole installation) and leaves it off with ``SALDO_DATABASE_URL`` (run ``saldo
    #: worker``, once, beside however many servers).
    projections_in_process: bool | None = None
    #: Shared login throttle across nodes; unset keeps the throttle in this process.
    redis_url: str | None = None
    #: The login role the API's pool connects as: neither superuser nor table owner, so
    #: row-level security applies. Its URL is ``SALDO_DATABASE_URL`` (or the embedded
    #: server's) with this user and no password, unless ``app_database_url`` is set.
    #: Empty: the API uses ``SALDO_DATABASE_URL`` as it is (a dedicated non-owner login).
    db_app_role: str | None = "saldo_app"
    #: The application role's own URL, with its password (production servers that
    #: authenticate by password). Unset: derived from the privileged URL (above).
    app_database_url: str | None = None
    #: A streaming replica of the database, for reports (docs/scaling.md, decision 0065).
    #: The reports' pool logs in to it as the API's pool does to the primary: with
    #: ``SALDO_APP_DATABASE_URL`` set this URL is used as it is (it names the application
    #: role and its password); otherwise its user becomes ``SALDO_DB_APP_ROLE``. Unset:
    #: reports read from the primary.
    replica_database_url: str | None = None
    #: A replica further behind the primary than this many seconds is not used: reports
    #: go to the primary until it catches up.
    replica_max_lag_seconds: float = Field(default=30.0, gt=0, le=86_400)
    #: How often the replica's lag is measured (two short queries), in seconds.
    replica_check_seconds: float = Field(default=5.0, ge=0, le=3600)
    #: After the replica failed (down, busy), reports use the primary this many seconds
    #: before the replica is tried again.
    replica_retry_seconds: float = Field(default=10.0, ge=0, le=3600)

    # -- tokens (docs/decisions/0010-identity-and-tenant-isolation.md)
    access_token_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    refresh_token_seconds: int = Field(default=7 * 24 * 3600, ge=60, le=90 * 24 * 3600)

    # -- login throttling: after ``login_max_failures`` failures in the window a username
    # is locked for ``login_lock_seconds``, doubling with each further lock up to the cap.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_address_max_failures: int = Field(default=20, ge=1, le=100_000)
    login_failure_window_seconds: float = Field(default=15 * 60, gt=0)
    login_lock_seconds: float = Field(default=30.0, gt=0)
    login_lock_max_seconds: float = Field(default=3600.0, gt=0)

    #: How many fiscal years before the current one a company may open (to migrate its
    #: past books); the next year can always be opened.
    ledger_history_years: int = Field(default=10, ge=0, le=100)

    # -- CORS: origins allowed to call the API from a browser (comma-separated or JSON).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    @field_validator("database_url", "app_database_url", "replica_database_url")
    @classmethod
    def _database_url_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (for example postgresql://saldo@db:5432/saldo)")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("db_app_role")
    @classmethod
    def _empty_role_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _production_refuses_laptop_defaults(self) -> Settings:
        production = self.env is Environment.PRODUCTION
        if production and (self.secret_key is None or self.secret_key == DEFAULT_SECRET
                           or len(self.secret_key) < 32):
            raise ValueError(
                "SALDO_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production"
            )
        if production and self.log_level == "debug":
            raise ValueError(
                "SALDO_LOG_LEVEL=debug is refused in production (debug logs may carry "
                "personal and financial data); use info, warning or error"
            )
        if production and "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError(
                "SALDO_CORS_ORIGINS must list the allowed origins, not '*', when "
                "SALDO_CORS_ALLOW_CREDENTIALS is on in production"
            )
        if self.login_lock_seconds > self.login_lock_max_seconds:
            raise ValueError(
                "SALDO_LOGIN_LOCK_SECONDS must not exceed SALDO_LOGIN_LOCK_MAX_SECONDS"
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

    @property
    def runs_projections_in_process(self) -> bool:
        return bool(self.projections_in_process)

    def for_serving(self) -> Settings:
        """The settings ``saldo serve`` runs with: the unset defaults that depend on the
        deployment (:attr:`projections_in_process`) decided."""
        if self.projections_in_process is not None:
            return self
        return self.model_copy(update={"projections_in_process": self.uses_embedded_database})

    @cached_property
    def signing_key(self) -> str:
        """The key that signs access tokens: ``SALDO_SECRET_KEY``, else (development
        only: production refuses to start without one) the generated development key."""
        from saldo.platform.logging import register_secret

        if self.secret_key is not None and self.secret_key != DEFAULT_SECRET:
            key = self.secret_key
        else:
            key = development_key(self.data_dir)
        register_secret(key)
        return key

    @cached_property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format == "auto":
            return "json" if self.is_production else "console"
        return self.log_format


def development_key(data_dir: Path) -> str:
    """The random signing key in ``<data_dir>/secret_key``, made on first use (mode 0600).

    Written to a private temporary file and linked into place, so two processes starting
    together agree on one key and neither reads a half-written file."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(48).encode())
        finally:
            os.close(fd)
        try:
            os.link(staging, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            staging.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise SettingsError(f"{path} holds no usable signing key; delete it to make a new "
                            "one, or set SALDO_SECRET_KEY.")
    return key


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; turn pydantic's report into one readable paragraph."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            name = f"SALDO_{field.upper()}" if field else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}" if field else message)
        raise SettingsError("Invalid configuration. " + "; ".join(problems) + ".") from None
    from saldo.platform.logging import register_secret

    for secret in (settings.secret_key, settings.metrics_token):
        register_secret(secret)
    return settings
