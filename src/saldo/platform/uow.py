"""The unit of work: one database transaction bound to a company and an actor.

Every use case of every context runs as a function of a :class:`UnitOfWork`
(cosmicpython's ``allocate(cmd, uow)``): it reads streams and read models through
``uow.conn``, appends events to one or several streams with :meth:`UnitOfWork.append`
(the event store runs the inline projections in the same transaction), and may call
another context's port -- the ledger's ``post_journal`` -- with the same ``uow``, so a
document and its journal transaction commit together or not at all.

:meth:`UnitsOfWork.run` owns the transaction and the retry. A use case that loses a race
(a concurrent append to the same stream, a serialisation failure, a deadlock) is run
again *whole*, from a fresh transaction, so it reloads the state and decides again: the
caller sees either success or the rule the new state breaks, never the race. A use case
that finds something must exist first outside its transaction (a fiscal year's journal
partitions) raises :class:`PrepareFirst`; the runner rolls back, runs the preparation in
transactions of its own, and runs the use case again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import structlog
from psycopg import errors as pg_errors

from saldo.kernel.errors import ConcurrencyError, Conflict
from saldo.kernel.events import Actor, DomainEvent
from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import (
    EventStore,
    Metadata,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)

log = structlog.get_logger("saldo.uow")

T = TypeVar("T")

#: Attempts of one use case before it gives up with :class:`Busy`.
MAX_ATTEMPTS = 8
_RETRYABLE = (ConcurrencyError, pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


class Busy(Conflict):
    code = "busy"
    title = "Too many concurrent changes"


class PrepareFirst(Exception):
    """Raised inside a use case: roll back, await ``prepare()``, run the use case again."""

    def __init__(self, prepare: Callable[[], Awaitable[None]], reason: str) -> None:
        super().__init__(reason)
        self.prepare = prepare


@dataclass(slots=True)
class UnitOfWork:
    """An open transaction of one company, on behalf of one actor."""

    conn: Connection
    db: Database
    events: EventStore
    company_id: UUID
    actor: Actor
    correlation_id: str | None = None
    #: Memo for the duration of the transaction (e.g. the chart a batch checks against).
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> Metadata:
        return Metadata(actor=str(self.actor.id), company_id=self.company_id,
                        correlation_id=self.correlation_id)

    async def read(self, stream_id: str) -> list[RecordedEvent]:
        """A stream's events (row-level security hides other companies' streams)."""
        return await self.events.read_stream(self.conn, stream_id)

    async def load(self, stream_id: str, schema_version: int | None = None
                   ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """A stream's newest snapshot and the events after it (all events without one).

        Row-level security hides other companies' snapshots as it hides their events. A
        snapshot of another ``schema_version`` than the caller reads is ignored.
        """
        return await self.events.load(self.conn, stream_id, schema_version)

    async def save_snapshot(self, stream_id: str, stream_type: str, version: int,
                            state: dict[str, Any], schema_version: int) -> None:
        """Keep ``state`` as the stream's snapshot at ``version``, for this company, in
        this transaction: it commits with the events it sums up or not at all."""
        await self.events.save_snapshot(self.conn, Snapshot(
            stream_id, stream_type, version, state, schema_version, self.company_id))

    async def version(self, stream_id: str) -> int:
        return await self.events.stream_version(self.conn, stream_id)

    async def append(self, stream_id: str, stream_type: str, expected: int | None,
                     events: Sequence[DomainEvent | NewEvent]) -> list[RecordedEvent]:
        """Append to one stream at ``expected`` version (``NO_STREAM``: a new stream)."""
        return await self.events.append(self.conn, stream_id, stream_type, expected,
                                        [as_new_event(e) for e in events], self.metadata)

    async def append_many(self, appends: Sequence[StreamAppend]) -> None:
        """Several streams in one round trip (bulk posting)."""
        await self.events.append_many(self.conn, appends)


def as_new_event(event: DomainEvent | NewEvent) -> NewEvent:
    if isinstance(event, NewEvent):
        return event
    return NewEvent(event.type, event.to_data(), schema_version=event.schema_version,
                    json_values=True)


class UnitsOfWork:
    """Opens units of work on a database and runs use cases in them, retried whole."""

    def __init__(self, db: Database, events: EventStore, *,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.db, self.events = db, events
        self.max_attempts = max_attempts

    async def run(self, company_id: UUID, actor: Actor,
                  use_case: Callable[[UnitOfWork], Awaitable[T]], *,
                  correlation_id: str | None = None) -> T:
        """Run ``use_case`` in a fresh transaction, committed when it returns."""
        prepared = 0
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with self.db.transaction(company_id=company_id) as conn:
                    uow = UnitOfWork(conn, self.db, self.events, company_id, actor,
                                     correlation_id)
                    return await use_case(uow)
            except PrepareFirst as missing:
                prepared += 1
                if prepared > 3:  # a preparation that never takes: a bug, not a race
                    raise RuntimeError(f"preparation did not take: {missing}") from missing
                await missing.prepare()
            except _RETRYABLE as exc:
                if attempt == self.max_attempts:
                    raise Busy("The change kept colliding with concurrent changes; retry.",
                               reason=type(exc).__name__) from exc
                log.debug("unit_of_work_retry", attempt=attempt, reason=type(exc).__name__)
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))  # noqa: S311 - jitter
        raise Busy("The change kept colliding with concurrent changes; retry.")
