"""The composition root: the one place that knows every context and wires them.

Nothing here is clever on purpose: it builds the database, the event store with its
inline projections, the asynchronous projections and the HTTP app, by hand.

Two pools: ``db`` is privileged (migrations, projection workers, readiness: machinery
that reads across companies, and the Saldo-wide identity audit); ``app_db`` logs in as the
application role, under row-level security, and serves every request (docs/decisions/0010).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from saldo import __version__, registry
from saldo.identity.service import IdentityService
from saldo.identity.throttle import LoginLimiter, RedisLimiter
from saldo.kernel.errors import SaldoError
from saldo.ledger.service import LedgerService
from saldo.platform import embedded
from saldo.platform.db import Connection, Database, ReadPool, login_as
from saldo.platform.eventstore import EventStore, InlineProjection, Upcasters
from saldo.platform.migrations import Migration, discover
from saldo.platform.projections import EventTypeCounts, Projection, ProjectionRunner
from saldo.platform.registry import Context, Wiring
from saldo.platform.runtime import in_background
from saldo.platform.settings import Settings
from saldo.platform.uow import UnitsOfWork
from saldo.reporting.service import ReportingService, render_threads

log = structlog.get_logger("saldo.bootstrap")

#: Packages whose ``migrations`` folder holds schema migrations, in dependency order.
MIGRATION_PACKAGES: tuple[str, ...] = ("saldo.platform",
                                       *(c.package for c in registry.CONTEXTS))

#: Contexts' errors that are not plain kernel errors, with their HTTP statuses.
ERROR_STATUSES: dict[type[SaldoError], int] = {
    error: status for c in registry.CONTEXTS for error, status in c.errors.items()}


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


def replica_database_url(settings: Settings) -> str | None:
    """Where the reports' pool logs in on the replica (``SALDO_REPLICA_DATABASE_URL``), as
    the application role: the URL as it is when ``SALDO_APP_DATABASE_URL`` is set (then
    it names that role with its password), else with ``SALDO_DB_APP_ROLE`` as its user."""
    url = settings.replica_database_url
    if url is None or settings.app_database_url or not settings.db_app_role:
        return url
    return login_as(url, settings.db_app_role)


def upcasters() -> Upcasters:
    """Every context's upcasting hooks."""
    hooks = Upcasters()
    for context in registry.CONTEXTS:
        if context.register_upcasters is not None:
            context.register_upcasters(hooks)
    return hooks


def inline_projections() -> list[InlineProjection]:
    return [p for c in registry.CONTEXTS for p in c.inline_projections()]


def async_projections(wiring: Wiring) -> list[Projection]:
    return [EventTypeCounts(), *(p for c in registry.CONTEXTS for p in c.async_projections(wiring))]


@functools.cache
def render_pool() -> Executor:
    """The process's render threads (reporting's CSV, XLSX and PDF): one pool however
    many containers a process builds (tests build one per test), like the process's
    CPU, which is what it rations."""
    return render_threads()


def tables() -> list[str]:
    """Every context's tables (tests empty them between tests)."""
    return [t for c in registry.CONTEXTS for t in c.tables]


@dataclass
class Container:
    settings: Settings
    #: Privileged: migrations, projection workers, readiness. Not for requests.
    db: Database
    #: The application role, under row-level security: every request's queries.
    app_db: Database = field(init=False)
    #: Read-only reports: the replica when configured, else ``app_db`` (docs/scaling.md).
    reads: ReadPool = field(init=False)
    store: EventStore = field(init=False)
    units: UnitsOfWork = field(init=False)
    runner: ProjectionRunner = field(init=False)
    wiring: Wiring = field(init=False)
    #: The contexts' background loops (``Context.workers``), run beside the projections.
    workers: list[Callable[[asyncio.Event], Awaitable[None]]] = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.app_db = Database(app_database_url(settings, self.db.url),
                               min_size=settings.db_pool_min, max_size=settings.db_pool_max,
                               name="saldo-app", timeout=settings.db_pool_timeout,
                               connect_timeout=settings.db_connect_timeout)
        replica_url = replica_database_url(settings)
        replica = None if replica_url is None else Database(
            replica_url, min_size=1, max_size=settings.db_pool_max, name="saldo-replica",
            timeout=settings.db_pool_timeout, connect_timeout=settings.db_connect_timeout)
        self.reads = ReadPool(self.app_db, replica,
                              max_lag=settings.replica_max_lag_seconds,
                              check_interval=settings.replica_check_seconds,
                              retry_after=settings.replica_retry_seconds,
                              replica_wait=min(settings.db_pool_timeout, 1.0))
        self.store = EventStore(upcasters(), inline_projections())
        self.units = UnitsOfWork(self.app_db, self.store)
        self.wiring = Wiring(settings, self.db, self.app_db, self.store, self.units,
                             render_pool(), reads=self.reads)
        for context in registry.CONTEXTS:
            if context.build is not None:
                self.wiring.services[context.name] = context.build(self.wiring)
        for context in registry.CONTEXTS:
            if context.connect is not None:
                context.connect(self.wiring)
        self.runner = ProjectionRunner(self.db, self.store, async_projections(self.wiring))
        self.workers = [w for c in registry.CONTEXTS for w in c.workers(self.wiring)]
        self._known_migrations = {m.version for m in migrations()}

    @property
    def services(self) -> dict[str, Any]:
        return self.wiring.services

    @property
    def identity(self) -> IdentityService:
        return self.wiring.service("identity", IdentityService)

    @property
    def ledger(self) -> LedgerService:
        return self.wiring.service("ledger", LedgerService)

    @property
    def reporting(self) -> ReportingService:
        return self.wiring.service("reporting", ReportingService)

    @property
    def limiter(self) -> LoginLimiter:
        return self.identity.limiter

    async def open(self) -> None:
        """Open both pools (the HTTP app's lifespan, CLI commands that serve requests)."""
        await self.db.open()
        try:
            await self.app_db.open()
        except BaseException:
            await self.db.close()
            raise
        await self.reads.open()  # never fails: a replica that is down is set aside

    async def close(self) -> None:
        await self.reads.close()
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
    db = Database(url, min_size=settings.db_pool_min, max_size=settings.db_pool_max,
                  timeout=settings.db_pool_timeout, connect_timeout=settings.db_connect_timeout)
    return Container(settings, db)


def create_app(container: Container, only: set[str] | None = None) -> FastAPI:
    """The HTTP application: operations endpoints plus every context's router, or only
    the routers of the contexts named in ``only`` (``saldo serve --only ledger``): each
    context is then a service of its own, deployed from one codebase. Every service is
    built either way (they are cheap, and a context's use cases call its dependencies'
    services in-process); ``only`` decides which routes this process answers."""
    from saldo.identity import api as identity_api
    from saldo.platform import http

    contexts = registry.by_name(only)
    settings = container.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.open()
        try:
            if settings.runs_projections_in_process:  # `saldo serve` on the embedded server
                async with contextlib.AsyncExitStack() as stack:
                    await stack.enter_async_context(in_background(
                        lambda stop: container.runner.run_forever(
                            settings.worker_poll_interval, stop), name="projections"))
                    for n, work in enumerate(container.workers):
                        await stack.enter_async_context(in_background(work, name=f"worker{n}"))
                    yield
            else:
                yield
        finally:
            await container.close()

    app = FastAPI(
        title="Saldo",
        version=__version__,
        summary="IFRS accounting for Georgian companies: event-sourced general ledger.",
        lifespan=lifespan,
        docs_url=None,  # http.install_docs serves them without a CDN
        redoc_url=None,
    )
    for name, service in container.services.items():
        setattr(app.state, name, service)
    app.state.contexts = [c.name for c in contexts]
    http.install_error_handlers(app, ERROR_STATUSES)
    if settings.cors_origins:
        # Inside the edge middleware, so preflight answers get its headers and limits too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "X-Saldo-Read-Source"],
            max_age=600,
        )
    app.add_middleware(http.EdgeMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(http.operations_router(container.readiness, container.refresh_metrics,
                                              settings.metrics_token))
    routers = [router for context in contexts for router in context.routers()]
    for router in routers:
        app.include_router(router)
    # After the contexts: the web application, when served, answers ``GET /`` itself.
    http.install_docs(app)
    # Every context's routes, for the permission checks that walk them.
    # (The web application's pages are not API routes: they are left out of the schema.)
    app.state.api_routes = [r for router in routers for r in router.routes
                            if isinstance(r, APIRoute) and r.include_in_schema]
    identity_api.document_permissions(app.state.api_routes)
    return app


def contexts(only: set[str] | None = None) -> tuple[Context, ...]:
    return registry.by_name(only)


def api_routes(app: FastAPI) -> list[APIRoute]:
    """The contexts' API routes of an app made by :func:`create_app`."""
    return list(app.state.api_routes)
