"""The composition root: the one place that knows every context and wires them.

Nothing here is clever on purpose: it builds the database, the event store with its
inline projections, the asynchronous projections and the HTTP app, by hand.

Two pools: ``db`` is privileged (migrations, projection workers, readiness: machinery
that reads across companies, and the Saldo-wide identity audit); ``app_db`` logs in as the
application role, under row-level security, and serves every request (docs/decisions/0010).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from saldo import __version__
from saldo.identity import domain as identity_domain
from saldo.identity.security import TokenSigner
from saldo.identity.service import IdentityService
from saldo.identity.throttle import LoginLimiter, MemoryLimiter, RedisLimiter, ThrottlePolicy
from saldo.kernel.errors import SaldoError
from saldo.ledger.projections import LedgerProjection
from saldo.ledger.service import LedgerService
from saldo.platform import embedded
from saldo.platform.db import Connection, Database, login_as
from saldo.platform.eventstore import EventStore, InlineProjection, Upcasters
from saldo.platform.migrations import Migration, discover
from saldo.platform.projections import EventTypeCounts, Projection, ProjectionRunner
from saldo.platform.settings import Settings
from saldo.platform.uow import UnitsOfWork
from saldo.reporting.service import ReportingService

log = structlog.get_logger("saldo.bootstrap")

#: Packages whose ``migrations`` folder holds schema migrations, in dependency order.
MIGRATION_PACKAGES: tuple[str, ...] = ("saldo.platform", "saldo.identity", "saldo.ledger")

#: Contexts' errors that are not plain kernel errors, with their HTTP statuses.
ERROR_STATUSES: dict[type[SaldoError], int] = {
    identity_domain.NotAuthenticated: 401,
    identity_domain.TooManyAttempts: 429,
}


def migrations() -> list[Migration]:
    return discover(MIGRATION_PACKAGES)


def database_url(settings: Settings, *, keep_embedded_running: bool = False) -> str:
    """The configured server, or the embedded one started in the data directory."""
    if settings.database_url is not None:
        return settings.database_url
    return embedded.start(settings.data_dir, keep_running=keep_embedded_running)


def app_database_url(settings: Settings, privileged_url: str) -> str:
    """Where the API's pool logs in: ``SALDO_APP_DATABASE_URL``, else the privileged URL
    with the application role as its user (no password: trust or peer authentication,
    as on the embedded server), else -- ``SALDO_DB_APP_ROLE`` empty -- the privileged URL."""
    if settings.app_database_url:
        return settings.app_database_url
    if settings.db_app_role:
        return login_as(privileged_url, settings.db_app_role)
    return privileged_url


def upcasters() -> Upcasters:
    """Every context's upcasting hooks (none yet: no event has changed shape)."""
    return Upcasters()


def inline_projections() -> list[InlineProjection]:
    return [LedgerProjection()]


def async_projections() -> list[Projection]:
    return [EventTypeCounts()]


def login_limiter(settings: Settings) -> LoginLimiter:
    """In Redis when several nodes must share the counters, else in this process."""
    if settings.redis_url:
        return RedisLimiter.from_url(settings.redis_url)
    return MemoryLimiter()


@dataclass
class Container:
    settings: Settings
    #: Privileged: migrations, projection workers, readiness. Not for requests.
    db: Database
    #: The application role, under row-level security: every request's queries.
    app_db: Database = field(init=False)
    limiter: LoginLimiter = field(init=False)
    store: EventStore = field(init=False)
    runner: ProjectionRunner = field(init=False)
    identity: IdentityService = field(init=False)
    ledger: LedgerService = field(init=False)
    reporting: ReportingService = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.app_db = Database(app_database_url(settings, self.db.url),
                               min_size=settings.db_pool_min, max_size=settings.db_pool_max,
                               name="saldo-app")
        self.limiter = login_limiter(settings)
        self.store = EventStore(upcasters(), inline_projections())
        self.runner = ProjectionRunner(self.db, self.store, async_projections())
        self.identity = IdentityService(
            self.app_db,
            self.store,
            TokenSigner(settings.secret_key, settings.access_token_seconds),
            self.limiter,
            refresh_seconds=settings.refresh_token_seconds,
            user_policy=ThrottlePolicy(settings.login_max_failures,
                                       settings.login_failure_window_seconds,
                                       settings.login_lock_seconds,
                                       settings.login_lock_max_seconds),
            address_policy=ThrottlePolicy(settings.login_address_max_failures,
                                          settings.login_failure_window_seconds,
                                          settings.login_lock_seconds,
                                          settings.login_lock_max_seconds),
            audit_db=self.db,
        )
        self.units = UnitsOfWork(self.app_db, self.store)
        self.ledger = LedgerService(self.units, history_years=settings.ledger_history_years)
        self.reporting = ReportingService(self.app_db, self.ledger)
        # A new company's chart of accounts is loaded in the transaction that creates it.
        self.identity.company_created.append(self.ledger.load_chart)
        self._known_migrations = {m.version for m in migrations()}

    async def open(self) -> None:
        """Open both pools (the HTTP app's lifespan, CLI commands that serve requests)."""
        await self.db.open()
        try:
            await self.app_db.open()
        except BaseException:
            await self.db.close()
            raise

    async def close(self) -> None:
        await self.app_db.close()
        await self.db.close()
        if isinstance(self.limiter, RedisLimiter):
            await self.limiter.close()

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Ready when the database answers and every known migration is applied: one
        pooled connection, two statements, no transaction (probes come every few seconds)."""
        applied: set[int] = set()
        try:
            async with self.db.connection(wait=2.0) as conn:
                await conn.set_autocommit(True)
                try:
                    if await _has_table(conn, "schema_migrations"):
                        cursor = await conn.execute("SELECT version FROM schema_migrations")
                        applied = {row["version"] for row in await cursor.fetchall()}
                finally:
                    await conn.set_autocommit(False)
        except Exception:  # unreachable, timed out, or dropped mid-probe: not ready
            return False, {"database": "unreachable", "migrations": "unknown"}
        missing = sorted(self._known_migrations - applied)
        checks = {"database": "ok",
                  "migrations": "current" if not missing else f"pending: {missing}"}
        return not missing, checks

    async def refresh_metrics(self) -> None:
        """Copy business figures from read models into gauges before a scrape.

        With the database down the scrape still answers, with the HTTP metrics and the
        last known business figures: that is when operators need the metrics most.
        """
        from saldo.platform.metrics import EVENTS

        try:
            async with self.db.connection() as conn:
                if await _has_table(conn, "event_type_counts"):
                    cursor = await conn.execute("SELECT event_type, count FROM event_type_counts")
                    for row in await cursor.fetchall():
                        EVENTS.labels(row["event_type"]).set(row["count"])
                await conn.rollback()
        except psycopg.Error as exc:  # includes the pool's timeouts
            log.warning("metrics_without_database", error=str(exc))


async def _has_table(conn: Connection, name: str) -> bool:
    cursor = await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (name,))
    row = await cursor.fetchone()
    return bool(row and row["ok"])


def build(settings: Settings, url: str) -> Container:
    db = Database(url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    return Container(settings, db)


def create_app(container: Container) -> FastAPI:
    """The HTTP application: operations endpoints plus every context's router."""
    from saldo.identity import api as identity_api
    from saldo.ledger import api as ledger_api
    from saldo.platform import http
    from saldo.reporting import api as reporting_api
    from saldo.reporting import export as reporting_export

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.open()
        try:
            yield
        finally:
            await container.close()

    app = FastAPI(
        title="Saldo",
        version=__version__,
        summary="IFRS accounting for Georgian companies: event-sourced general ledger.",
        lifespan=lifespan,
    )
    settings = container.settings
    app.state.identity = container.identity
    app.state.ledger = container.ledger
    app.state.reporting = container.reporting
    http.install_error_handlers(app, ERROR_STATUSES)
    if settings.cors_origins:
        # Inside the edge middleware, so preflight answers get its headers and limits too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(http.EdgeMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(http.operations_router(container.readiness, container.refresh_metrics))
    routers = [identity_api.router(), ledger_api.router(), reporting_api.router(),
               reporting_export.router()]
    for router in routers:
        app.include_router(router)
    # Every context's routes, for the permission checks that walk them.
    app.state.api_routes = [r for router in routers for r in router.routes
                            if isinstance(r, APIRoute)]
    identity_api.document_permissions(app.state.api_routes)
    return app


def api_routes(app: FastAPI) -> list[APIRoute]:
    """The contexts' API routes of an app made by :func:`create_app`."""
    return list(app.state.api_routes)
