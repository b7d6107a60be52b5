"""How a bounded context declares itself to the composition root.

Each context has a ``context.py`` with one :class:`Context`: its migrations (the
package's ``migrations`` folder), inline and asynchronous projections, upcasters, the
errors it maps to HTTP statuses beyond the kernel's, the permissions its routes declare,
the service it builds from what the platform provides (and the services of the contexts
registered before it), its routers and its CLI module. ``saldo.registry`` lists the
contexts in dependency order; ``saldo.bootstrap`` and ``saldo.cli`` loop over that list.
Adding a context is writing its package and one line in ``saldo.registry``
(docs/decisions/0014-unit-of-work-and-posting-port.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from saldo.kernel.errors import SaldoError
from saldo.platform.db import Database, ReadPool
from saldo.platform.eventstore import EventStore, InlineProjection, Upcasters
from saldo.platform.projections import Projection
from saldo.platform.settings import Settings
from saldo.platform.uow import UnitsOfWork

if TYPE_CHECKING:
    from fastapi import APIRouter

S = TypeVar("S")


@dataclass
class Wiring:
    """What the platform gives a context to build its service with."""

    settings: Settings
    #: Privileged: migrations, projection workers. Not for requests.
    db: Database
    #: The application role, under row-level security: every request's queries.
    app_db: Database
    events: EventStore
    units: UnitsOfWork
    #: Threads for CPU-bound work off the event loop (rendering reports), one pool per
    #: process, built by the composition root.
    render_threads: Executor
    #: Read-only reports: the streaming replica when ``SALDO_REPLICA_DATABASE_URL`` is
    #: set, falling back to ``app_db`` (docs/scaling.md). ``None``: ``app_db`` alone.
    reads: ReadPool | None = None
    #: The services built so far, by context name (a context's dependencies come first).
    services: dict[str, Any] = field(default_factory=dict)

    def service(self, name: str, kind: type[S]) -> S:
        """The service of an earlier context, checked to be what the caller expects."""
        found = self.services.get(name)
        if not isinstance(found, kind):
            raise LookupError(f"context {name!r} has no {kind.__name__} (registry order?)")
        return found


def _none(*_: Any) -> Sequence[Any]:
    return ()


@dataclass(frozen=True)
class Context:
    name: str
    #: The package whose ``migrations`` folder holds this context's schema.
    package: str
    #: ``build(wiring) -> service``; the service is ``app.state.<name>`` for the routers.
    build: Callable[[Wiring], object] | None = None
    routers: Callable[[], Sequence[APIRouter]] = _none
    inline_projections: Callable[[], Sequence[InlineProjection]] = _none
    async_projections: Callable[[Wiring], Sequence[Projection]] = _none
    register_upcasters: Callable[[Upcasters], None] | None = None
    errors: Mapping[type[SaldoError], int] = field(default_factory=dict)
    #: The permissions this context's routes require (documentation and checks).
    permissions: tuple[str, ...] = ()
    #: Module under ``saldo.cli`` with ``register(app: typer.Typer)``, if any.
    cli: str | None = None
    #: Tables this context owns (tests empty them between tests).
    tables: tuple[str, ...] = ()
    #: Wire this context to the ones before it once every service is built (hooks).
    connect: Callable[[Wiring], None] | None = None
    #: Background loops ``work(stop)`` that ``saldo worker`` runs beside the projections
    #: (and ``saldo serve`` with them in process): deliveries to outside services.
    workers: Callable[[Wiring], Sequence[Callable[[asyncio.Event], Awaitable[None]]]] = _none
