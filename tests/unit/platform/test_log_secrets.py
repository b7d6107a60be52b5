"""No log line carries a secret, in either format, and tracebacks are short (issue 11, 1).

The attack: during a database outage a login's traceback, rendered with its local
variables by the console format, wrote the password twice and 66 token fragments, and
four errors wrote 100,799 lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import structlog

from saldo.platform import logging as saldo_logging

PASSWORD = "correct-horse-battery-staple-7"
ACCESS_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjo5OTk5"
                "OTk5OTk5fQ.dGhpcy1pcy1ub3QtYS1yZWFsLXNpZ25hdHVyZS1hdC1hbGw")
REFRESH_TOKEN = "r3fr3sh-T0ken-Qx9mZp2LkV7wYb4nHc8sDf1gJa6eRt0uIo5pA"
SECRET_KEY = "signing-key-that-must-never-be-logged-0123456789"
SERVICE_PASSWORD = "pg-service-password-42"
SECRETS = (PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN, SECRET_KEY, SERVICE_PASSWORD)
FORMATS: list[Literal["json", "console"]] = ["console", "json"]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _fragments(output: str) -> list[str]:
    """Every secret, or any 12-character piece of one, found in ``output``."""
    found = []
    for secret in SECRETS:
        pieces = {secret[i:i + 12] for i in range(len(secret) - 11)}
        found += [piece for piece in pieces if piece in output]
    return found


def _login(username: str, password: str, token: str, refresh_token: str) -> None:
    """A login deep in a call stack whose frames hold secrets, failing as in an outage."""
    headers = {"authorization": f"Bearer {token}", "x-request-id": "abc"}
    body = {"username": username, "password": password, "refresh_token": refresh_token}
    conninfo = f"postgresql://saldo_app:{SERVICE_PASSWORD}@db.internal:5432/saldo"
    _check(body, headers, conninfo, depth=40)


def _check(body: dict[str, str], headers: dict[str, str], conninfo: str, depth: int) -> None:
    if depth:
        _check(body, headers, conninfo, depth - 1)
        return
    raise ConnectionError(f"connection failed: {conninfo} password={body['password']}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_traceback_shows_no_local_variable_and_no_secret(
    fmt: Literal["json", "console"], capsys: pytest.CaptureFixture[str]
) -> None:
    saldo_logging.configure("info", fmt, secrets=[SECRET_KEY])
    log = structlog.get_logger("test")
    try:
        _login("giorgi", PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN)
    except ConnectionError:
        log.exception("unhandled_error", path="/api/v1/auth/token")
    output = capsys.readouterr().err
    assert "unhandled_error" in output
    assert "ConnectionError" in output  # the traceback is there ...
    assert _fragments(output) == []  # ... without a secret or a piece of one
    assert len(output.splitlines()) < 80, output  # 40 frames deep: the outer ones go
    assert len(output) <= saldo_logging.MAX_TRACEBACK_CHARS + 2000


@pytest.mark.parametrize("fmt", FORMATS)
def test_secret_fields_and_values_are_masked(
    fmt: Literal["json", "console"], capsys: pytest.CaptureFixture[str]
) -> None:
    saldo_logging.configure("info", fmt, secrets=[SECRET_KEY])
    log = structlog.get_logger("test")
    log.info("login", username="giorgi", password=PASSWORD, refresh_token=REFRESH_TOKEN,
             secret_key=SECRET_KEY)
    log.info("request", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
             body=f'{{"username": "giorgi", "password": "{PASSWORD}"}}',
             url=f"postgresql://saldo:{SERVICE_PASSWORD}@db:5432/saldo",
             note=f"key {SECRET_KEY} in free text", token_in_text=f"got {ACCESS_TOKEN}")
    output = capsys.readouterr().err
    assert "giorgi" in output  # what is not secret stays readable
    assert _fragments(output) == []


def test_library_logs_through_the_standard_module_are_scrubbed_and_short(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # uvicorn reports an application's error with logging.error(..., exc_info=...).
    saldo_logging.configure("info", "console")
    try:
        _login("giorgi", PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN)
    except ConnectionError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    output = capsys.readouterr().err
    assert "Exception in ASGI application" in output
    assert _fragments(output) == []
    assert len(output.splitlines()) < 80


def test_a_huge_value_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    saldo_logging.configure("info", "json")
    structlog.get_logger("test").info("big", payload="x" * 1_000_000, blob=b"\x00" * 10_000)
    output = capsys.readouterr().err
    assert len(output) < saldo_logging.MAX_VALUE_CHARS + 1000


@pytest.mark.parametrize("value", [
    {"password": PASSWORD}, [f"Bearer {ACCESS_TOKEN}"], f"dsn password='{SERVICE_PASSWORD}'",
    {"nested": {"refresh_token": REFRESH_TOKEN}},
])
def test_scrub_masks_nested_values(value: Any) -> None:
    event = saldo_logging.scrub(None, "info", {"event": "x", "value": value})
    assert _fragments(repr(event)) == []


def test_uvicorns_own_logging_config_cannot_route_around_the_scrubber(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn's default config gives its loggers their own handler and stops them
    propagating; once Saldo configures logging, their records are scrubbed like any."""
    import logging.config

    import uvicorn.config

    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    saldo_logging.configure("info", "json")
    try:
        _login("giorgi", PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN)
    except ConnectionError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    output = capsys.readouterr().err
    assert "Exception in ASGI application" in output
    assert _fragments(output) == []
