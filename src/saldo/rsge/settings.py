"""The rs.ge exchange's settings, ``SALDO_RS_*``, read once like the platform's.

They live with the context rather than in ``saldo.platform.settings``: only this context
reads them, and production's refusal to start without the credentials key is this
context's rule (issue 15 item 7).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from saldo.platform.settings import Settings, SettingsError

#: The file in the data directory holding the generated development credentials key.
KEY_FILE = "rs_credentials_key"


class RsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALDO_RS_", extra="ignore", frozen=True)

    #: Where the Revenue Service answers. Unset: rs.ge itself (the e-invoice service on
    #: www.revenue.mof.ge, waybills on services.rs.ge). Set (``http://127.0.0.1:8090``):
    #: both services at that address -- the stand-in ``saldo rs sandbox``.
    url: str | None = None
    #: 32 random bytes, URL-safe base64, that encrypt the service users' passwords at rest
    #: (AES-256-GCM). Production refuses to start without it; development generates one
    #: into ``<data_dir>/rs_credentials_key``.
    credentials_key: str | None = Field(default=None, repr=False)
    #: Attempts before an outgoing e-invoice is ``failed`` (the dead letter).
    max_attempts: int = Field(default=8, ge=1, le=100)
    #: Seconds one SOAP call may take.
    timeout: float = Field(default=20.0, gt=0, le=300)
    #: Seconds between two status polls of a sent invoice (the buyer's decision).
    poll_seconds: float = Field(default=300.0, gt=0)
    #: Minutes between two scheduled syncs of incoming invoices and waybills (0: off).
    sync_minutes: float = Field(default=60.0, ge=0)
    #: Invoices sent at the same time by one worker.
    concurrency: int = Field(default=8, ge=1, le=64)
    #: Seconds a worker holds an item it is sending; a worker that dies mid-send releases
    #: it when this runs out and the next worker resumes after the last recorded step.
    lease_seconds: float = Field(default=120.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")


def _decode(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode() + b"=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SettingsError("SALDO_RS_CREDENTIALS_KEY must be 32 random bytes in URL-safe "
                            "base64 (python -c 'import secrets,base64;print(base64."
                            "urlsafe_b64encode(secrets.token_bytes(32)).decode())').")
    return raw


def load_rs_settings(**overrides: object) -> RsSettings:
    try:
        return RsSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [f"SALDO_RS_{'.'.join(str(p) for p in e['loc']).upper()}: "
                    f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors()]
        raise SettingsError("Invalid configuration. " + "; ".join(problems) + ".") from None


def credentials_key(settings: Settings, rs: RsSettings) -> bytes:
    """The key that encrypts the service users' passwords.

    Production refuses to start without ``SALDO_RS_CREDENTIALS_KEY``; development makes
    one in the data directory on first use (mode 0600), as the signing key is made."""
    from saldo.platform.logging import register_secret

    if rs.credentials_key:
        register_secret(rs.credentials_key)
        return _decode(rs.credentials_key)
    if settings.is_production:
        raise SettingsError("SALDO_RS_CREDENTIALS_KEY must be set in production: it encrypts "
                            "the rs.ge service users' passwords at rest.")
    path: Path = settings.data_dir / KEY_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        staging = settings.data_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, base64.urlsafe_b64encode(secrets.token_bytes(32)))
        finally:
            os.close(fd)
        try:
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    key = path.read_text().strip()
    register_secret(key)
    return _decode(key)
