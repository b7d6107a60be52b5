"""Production refuses unsafe identity settings; every company-scoped route declares a
permission and every API route but the token endpoints authenticates."""

from __future__ import annotations

import psycopg
import pytest

from saldo import bootstrap
from saldo.identity.api import authenticates, permission_of
from saldo.platform.settings import DEFAULT_SECRET, SettingsError, load_settings

GOOD_SECRET = "k" * 48
UNAUTHENTICATED = {"/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/auth/logout"}


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, "short-secret"])
def test_production_refuses_a_default_or_short_signing_key(secret: str) -> None:
    with pytest.raises(SettingsError, match="SALDO_SECRET_KEY"):
        load_settings(env="production", secret_key=secret)


def test_production_refuses_wildcard_cors_with_credentials() -> None:
    with pytest.raises(SettingsError, match="SALDO_CORS_ORIGINS"):
        load_settings(env="production", secret_key=GOOD_SECRET, cors_origins="*",
                      cors_allow_credentials=True)
    ok = load_settings(env="production", secret_key=GOOD_SECRET,
                       cors_origins="https://books.example.ge, https://app.example.ge",
                       cors_allow_credentials=True)
    assert ok.cors_origins == ["https://books.example.ge", "https://app.example.ge"]


def test_production_refuses_debug_logging() -> None:
    with pytest.raises(SettingsError, match="SALDO_LOG_LEVEL=debug"):
        load_settings(env="production", secret_key=GOOD_SECRET, log_level="debug")
    assert load_settings(env="production", secret_key=GOOD_SECRET,
                         log_level="info").log_level == "info"
    assert load_settings(log_level="debug").log_level == "debug"  # fine on a laptop


def test_the_app_pool_logs_in_as_the_application_role() -> None:
    privileged = "postgresql://owner:s3cret@db.example:5432/saldo?sslmode=require"
    derived = bootstrap.app_database_url(load_settings(), privileged)
    info = psycopg.conninfo.conninfo_to_dict(derived)
    assert info["user"] == "saldo_app"
    assert "password" not in info
    assert (info["host"], info["port"], info["dbname"], info["sslmode"]) == (
        "db.example", "5432", "saldo", "require")
    given = "postgresql://saldo_app:pw@db.example/saldo"
    assert bootstrap.app_database_url(load_settings(app_database_url=given), privileged) == given
    assert bootstrap.app_database_url(load_settings(db_app_role=""), privileged) == privileged


def test_token_lifetimes_default_to_15_minutes_and_7_days() -> None:
    settings = load_settings()
    assert settings.access_token_seconds == 15 * 60
    assert settings.refresh_token_seconds == 7 * 24 * 3600


def _routes() -> list:  # type: ignore[type-arg]
    app = bootstrap.create_app(bootstrap.build(load_settings(), "postgresql://nobody@nowhere/x"))
    return bootstrap.api_routes(app)


def test_every_company_scoped_route_declares_a_permission() -> None:
    routes = _routes()
    scoped = [r for r in routes if "{company_id}" in r.path]
    assert scoped, "the identity routes are company-scoped too"
    missing = [f"{sorted(r.methods)} {r.path}" for r in scoped if permission_of(r) is None]
    assert missing == []


def test_every_api_route_but_the_token_endpoints_authenticates() -> None:
    unguarded = [r.path for r in _routes() if not authenticates(r)]
    assert set(unguarded) == UNAUTHENTICATED
