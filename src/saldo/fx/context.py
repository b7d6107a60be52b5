"""The fx context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from saldo.fx import api
from saldo.fx.domain import NbgUnavailable
from saldo.fx.nbg import DEFAULT_URL, NbgClient
from saldo.fx.service import FxService
from saldo.platform.registry import Context, Wiring
from saldo.platform.settings import SettingsError


class FxSettings(BaseSettings):
    """The fx context's own settings (``SALDO_*``), beside the platform's."""

    model_config = SettingsConfigDict(env_prefix="SALDO_", extra="ignore", frozen=True)

    #: The NBG server (or a stand-in speaking its protocol).
    nbg_url: str = DEFAULT_URL
    nbg_timeout: float = Field(default=10.0, gt=0, le=120)

    @field_validator("nbg_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


def fx_settings() -> FxSettings:
    """Read once, like the platform's: a bad value names its variable."""
    try:
        return FxSettings()
    except ValidationError as exc:
        problems = [f"SALDO_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                    for e in exc.errors()]
        raise SettingsError("Invalid configuration. " + "; ".join(problems) + ".") from None


def build(w: Wiring) -> FxService:
    settings = fx_settings()
    return FxService(w.app_db, NbgClient(settings.nbg_url, timeout=settings.nbg_timeout))


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="fx",
    package="saldo.fx",
    build=build,
    routers=routers,
    errors={NbgUnavailable: 502},
    cli="saldo.cli.fx",
    tables=("fx_rates", "fx_rate_changes"),
)
