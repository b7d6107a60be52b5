"""The composition root: the one place that knows every context and wires them.

Nothing here is clever on purpose: it builds the database, the event store with its
inline projections, the asynchronous projections and the HTTP app, by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from saldo import __version__

from saldo.platform import embedded
from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import EventStore, InlineProjection, Upcasters
from saldo.platform.migrations import Migration, discover
from saldo.platform.projections import EventTypeCounts, Projection, ProjectionRunner
from saldo.platform.settings import Settings

#: Packages whose ``migrations`` folder holds schema migrations, in dependency order.
MIGRATION_PACKAGES: tuple[str, ...] = ("saldo.platform",)


def migrations() -> list[Migration]:
    return discover(MIGRATION_PACKAGES)


def database_url(settings: Settings, *, keep_embedded_running: bool = False) -> str:
    """The configured server, or the embedded one started in the data directory."""
    if settings.database_url is not None:
        return settings.database_url
    return embedded.start(settings.data_dir, keep_running=keep_embedded_running)


def upcasters() -> Upcasters:
    """Every context's upcasting hooks (none yet: no event has changed shape)."""
    return Upcasters()


def inline_projections() -> list[InlineProjection]:
    return []


def async_projections() -> list[Projection]:
    return [EventTypeCounts()]


@dataclass
class Container:
    settings: Settings
    db: Database
    store: EventStore = field(init=False)
    runner: ProjectionRunner = field(init=False)

    def __post_init__(self) -> None:
        self.store = EventStore(upcasters(), inline_projections())
        self.runner = ProjectionRunner(self.db, self.store, async_projections())
        self._known_migrations = {m.version for m in migrations()}

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Ready when the database answers and every known migration is applied."""
        if not await self.db.ping():
            return False, {"database": "unreachable", "migrations": "unknown"}
        applied: set[int] = set()
        async with self.db.connection() as conn:
            if await _has_table(conn, "schema_migrations"):
                cursor = await conn.execute("SELECT version FROM schema_migrations")
                applied = {row["version"] for row in await cursor.fetchall()}
            await conn.rollback()
        missing = sorted(self._known_migrations - applied)
        checks = {"database": "ok", "migrations": "current" if not missing else f"pending: {missing}"}
        return not missing, checks

    async def refresh_metrics(self) -> None:
        """Copy business figures from read models into gauges before a scrape."""
        from saldo.platform.metrics import EVENTS

        async with self.db.connection() as conn:
            if await _has_table(conn, "event_type_counts"):
                cursor = await conn.execute("SELECT event_type, count FROM event_type_counts")
                for row in await cursor.fetchall():
                    EVENTS.labels(row["event_type"]).set(row["count"])
            await conn.rollback()


async def _has_table(conn: Connection, name: str) -> bool:
    cursor = await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (name,))
    row = await cursor.fetchone()
    return bool(row and row["ok"])



def build(settings: Settings, url: str) -> Container:
    db = Database(url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    return Container(settings, db)


def create_app(container: Container) -> FastAPI:
    """The HTTP application: operations endpoints plus every context's router."""
    from saldo.platform import http

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.db.open()
        try:
            yield
        finally:
            await container.db.close()

    app = FastAPI(
        title="Saldo",
        version=__version__,
        summary="IFRS accounting for Georgian companies: event-sourced general ledger.",
        lifespan=lifespan,
    )
    http.install_error_handlers(app)
    app.add_middleware(http.EdgeMiddleware, max_body_bytes=container.settings.max_body_bytes)
    app.include_router(http.operations_router(container.readiness, container.refresh_metrics))
    return app
