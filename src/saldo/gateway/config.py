"""The gateway's configuration: upstreams, routes and limits, from one YAML/JSON file
(``saldo gateway --config FILE`` or ``SALDO_GATEWAY_CONFIG``). docs/deployment.md shows
a whole file; ``GatewayConfig.model_json_schema()`` is its reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from saldo.platform.settings import SettingsError

#: ``new``: Saldo answers. ``legacy``: the legacy system answers. ``shadow``: the legacy
#: system answers the client while the same read also goes to Saldo and the two answers
#: are compared (strangler fig: a route moves to ``new`` once shadow shows no differences).
Mode = Literal["new", "legacy", "shadow"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerConfig(_Strict):
    #: Consecutive failures (connection error, timeout, 5xx) that open the circuit.
    failure_threshold: int = Field(default=5, ge=1)
    #: Seconds the circuit stays open before one trial request (half-open).
    reset_seconds: float = Field(default=10.0, gt=0)


class Upstream(_Strict):
    url: str
    connect_timeout: float = Field(default=1.0, gt=0)
    #: Seconds to wait for the upstream's answer (read timeout).
    timeout: float = Field(default=10.0, gt=0)
    #: Extra attempts for idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) after a
    #: connection failure or a 502/503/504; other methods are never repeated.
    retries: int = Field(default=2, ge=0, le=5)
    breaker: BreakerConfig = BreakerConfig()

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class Route(_Strict):
    #: A path prefix; a ``*`` segment matches any one segment
    #: (``/api/v1/companies/*/transactions``). The longest match wins.
    prefix: str
    #: The Saldo service answering in ``new`` and compared in ``shadow`` mode.
    upstream: str | None = None
    #: The legacy system answering in ``legacy`` and ``shadow`` mode.
    legacy: str | None = None
    mode: Mode = "new"
    #: Whether a valid access token is required at the edge.
    auth: bool = True

    @field_validator("prefix")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value.rstrip("/") or "/"

    @model_validator(mode="after")
    def _targets(self) -> Route:
        if self.mode in ("new", "shadow") and not self.upstream:
            raise ValueError(f"route {self.prefix}: mode {self.mode} needs an upstream")
        if self.mode in ("legacy", "shadow") and not self.legacy:
            raise ValueError(f"route {self.prefix}: mode {self.mode} needs a legacy upstream")
        return self

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(s for s in self.prefix.split("/") if s)


class RateLimit(_Strict):
    #: Requests per window for one user (the token's subject); 0 turns it off.
    per_user: int = Field(default=600, ge=0)
    #: Requests per window for one client address; 0 turns it off.
    per_address: int = Field(default=1200, ge=0)
    window_seconds: int = Field(default=60, ge=1)
    #: Shared counters across gateway replicas; unset keeps them in this process.
    redis_url: str | None = None
    #: Prefix of the Redis keys (gateways sharing counters share it).
    namespace: str = Field(default="saldo", pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class GatewayConfig(_Strict):
    upstreams: dict[str, Upstream]
    routes: list[Route]
    rate_limit: RateLimit = RateLimit()
    #: Largest request body passed on, in bytes (413 beyond it).
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    #: Where shadow-mode differences are appended as JSON lines (``diff-report`` reads it).
    shadow_log: str | None = None
    #: Bearer token ``/metrics`` requires; unset: ``/metrics`` is off (404).
    metrics_token: str | None = Field(default=None, min_length=16)

    @model_validator(mode="after")
    def _known_upstreams(self) -> GatewayConfig:
        for route in self.routes:
            for name in (route.upstream, route.legacy):
                if name is not None and name not in self.upstreams:
                    raise ValueError(f"route {route.prefix} names unknown upstream {name!r}")
        return self


def load(path: Path) -> GatewayConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read the gateway configuration {path}: "
                            f"{exc.strerror}") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return GatewayConfig.model_validate(raw)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SettingsError(f"{path} is not valid YAML/JSON: {exc}") from None
    except ValidationError as exc:
        problems = ["/".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()]
        raise SettingsError(f"{path}: " + "; ".join(problems)) from None
