"""The identity context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.identity import api, domain
from saldo.identity.security import TokenSigner
from saldo.identity.service import IdentityService
from saldo.identity.throttle import LoginLimiter, MemoryLimiter, RedisLimiter, ThrottlePolicy
from saldo.platform.registry import Context, Wiring
from saldo.platform.settings import Settings


def login_limiter(settings: Settings) -> LoginLimiter:
    """In Redis when several nodes must share the counters, else in this process."""
    if settings.redis_url:
        return RedisLimiter.from_url(settings.redis_url)
    return MemoryLimiter()


def build(w: Wiring) -> IdentityService:
    settings = w.settings
    policy = (settings.login_failure_window_seconds, settings.login_lock_seconds,
              settings.login_lock_max_seconds)
    return IdentityService(
        w.app_db, w.events,
        TokenSigner(settings.signing_key, settings.access_token_seconds),
        login_limiter(settings),
        refresh_seconds=settings.refresh_token_seconds,
        user_policy=ThrottlePolicy(settings.login_max_failures, *policy),
        address_policy=ThrottlePolicy(settings.login_address_max_failures, *policy),
        audit_db=w.db,
    )


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="identity",
    package="saldo.identity",
    build=build,
    routers=routers,
    errors={domain.NotAuthenticated: 401, domain.TooManyAttempts: 429},
    cli="saldo.cli.identity",
    permissions=tuple(p.value for p in domain.Permission),
    tables=("refresh_tokens", "token_families", "member_invitations", "memberships",
            "companies", "users"),
)
