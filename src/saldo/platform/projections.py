"""Named projections and the runner that feeds them.

* **Inline** projections run inside the appending transaction (see
  :class:`~saldo.platform.eventstore.InlineProjection`): exact at once.
* **Asynchronous** projections are fed by ``saldo worker`` from the commit-ordered log.
  Each batch updates the read model *and* the projection's checkpoint in one transaction,
  so an event is applied exactly once even if the worker dies mid-batch.

A projection that raises on an event stops *at* that event: the events before it are
committed with their checkpoint, the failure is recorded (event position, type, error)
and the projection is not run again by this worker. It never skips the event; a later
worker start, or ``saldo projections rebuild``, tries again. A lost database connection
is not the event's fault: it is raised as it is, nothing is recorded, and the batch is
repeated by whichever worker runs next.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import psycopg
import structlog

from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import (
    Checkpoint,
    EventStore,
    InlineProjection,
    RecordedEvent,
    xid8,
)

log = structlog.get_logger(__name__)


class Projection(Protocol):
    """An asynchronous read model."""

    name: str

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Apply one event; raising stops the projection at this event."""

    async def reset(self, conn: Connection) -> None:
        """Remove everything the projection has written (before a rebuild)."""


class ProjectionFailed(Exception):
    def __init__(self, name: str, event: RecordedEvent, cause: BaseException) -> None:
        super().__init__(
            f"projection {name} failed on event {event.position} ({event.type}): {cause!r}"
        )
        self.name, self.event, self.cause = name, event, cause


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    kind: Literal["inline", "async"]
    checkpoint: Checkpoint | None
    behind: int | None
    status: str
    failed_position: int | None = None
    failed_event_type: str | None = None
    error: str | None = None
    updated_at: datetime | None = None


class ProjectionRunner:
    def __init__(
        self,
        db: Database,
        store: EventStore,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
    ) -> None:
        names = [p.name for p in projections] + [p.name for p in store.inline_projections]
        if len(names) != len(set(names)):
            raise ValueError(f"projection names must be unique: {names}")
        self.db, self.store, self.batch_size = db, store, batch_size
        self.projections = {p.name: p for p in projections}
        self.failed: dict[str, ProjectionFailed] = {}
        #: Projections whose checkpoint row this runner has seen: the row is created once,
        #: not on every poll (an idle worker polls five times a second per projection).
        self._rows: set[str] = set()

    def _get(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            raise KeyError(f"no asynchronous projection named {name!r}") from None

    def _inline(self, name: str) -> InlineProjection | None:
        return next((p for p in self.store.inline_projections if p.name == name), None)

    # ------------------------------------------------------------------ running

    async def run_once(self, name: str) -> int:
        """Apply one batch to projection ``name``; return the number of events applied.

        Raises :class:`ProjectionFailed` (after recording it) if an event cannot be applied.
        """
        projection = self._get(name)
        applied, failure = await self._batch(projection, self.batch_size)
        if failure is not None:
            # Commit what came before the failing event, then record where it stopped.
            if failure.index > 0:
                applied, again = await self._batch(projection, failure.index)
                if again is not None:  # pragma: no cover - a projection that is not deterministic
                    failure = again
            await self._record_failure(name, failure.error)
            self.failed[name] = failure.error
            raise failure.error
        return applied

    async def _batch(self, projection: Projection, limit: int) -> tuple[int, _Failure | None]:
        failure: _Failure | None = None
        async with self.db.transaction() as conn:
            checkpoint = await self._lock_checkpoint(conn, projection.name)
            if checkpoint is None:  # another worker holds this projection right now
                return 0, None
            events = await self.store.read_all(conn, checkpoint, limit)
            for index, event in enumerate(events):
                try:
                    await projection.apply(conn, event)
                except Exception as exc:
                    if conn.broken:
                        # The connection died under the worker: not the event's fault, so
                        # nothing is recorded against the projection. The batch is lost
                        # with its transaction and the next worker repeats it.
                        raise
                    failure = _Failure(index, ProjectionFailed(projection.name, event, exc))
                    # Undo the whole batch, including whatever the failing apply did (the
                    # transaction may be aborted); the transaction block swallows Rollback.
                    raise psycopg.Rollback() from exc
            if events:
                await self._save_checkpoint(conn, projection.name, events[-1].checkpoint)
        if failure is not None:
            return 0, failure
        # Only now is the row known to exist: a rolled-back batch takes its INSERT with it.
        self._rows.add(projection.name)
        return len(events), None

    async def _lock_checkpoint(
        self, conn: Connection, name: str, *, wait: bool = False
    ) -> Checkpoint | None:
        """Lock projection ``name``'s checkpoint row for this transaction and return it.

        Workers skip a row another worker holds (``None``); ``wait`` blocks until it is free.
        """
        if name not in self._rows:
            await conn.execute(
                "INSERT INTO projection_checkpoints (name) VALUES (%s) ON CONFLICT DO NOTHING",
                (name,),
            )
        cursor = await conn.execute(
            "SELECT transaction_id, position FROM projection_checkpoints"
            " WHERE name = %s FOR UPDATE" + ("" if wait else " SKIP LOCKED"),
            (name,),
        )
        row = await cursor.fetchone()
        if row is None:  # held by another worker -- or deleted: then the next poll recreates it
            self._rows.discard(name)
            return None
        return Checkpoint(row["transaction_id"], row["position"])

    async def _save_checkpoint(self, conn: Connection, name: str, checkpoint: Checkpoint) -> None:
        await conn.execute(
            "UPDATE projection_checkpoints SET transaction_id = %s::text::xid8, position = %s,"
            " status = 'running', failed_position = NULL, failed_event_type = NULL,"
            " error = NULL, updated_at = now() WHERE name = %s",
            (xid8(checkpoint.transaction_id), checkpoint.position, name),
        )

    async def _record_failure(self, name: str, failure: ProjectionFailed) -> None:
        log.error("projection_failed", projection=name, position=failure.event.position,
                  event_type=failure.event.type, error=repr(failure.cause))
        async with self.db.transaction() as conn:
            # An upsert: when the first event ever fails, the batch that would have created
            # the checkpoint row was rolled back with it.
            await conn.execute(
                "INSERT INTO projection_checkpoints"
                " (name, status, failed_position, failed_event_type, error)"
                " VALUES (%s, 'failed', %s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET status = excluded.status,"
                " failed_position = excluded.failed_position,"
                " failed_event_type = excluded.failed_event_type, error = excluded.error,"
                " updated_at = now()",
                (name, failure.event.position, failure.event.type, repr(failure.cause)[:2000]),
            )

    async def catch_up(self, name: str, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """Run ``name`` until it has applied every event committed before the call; return
        how many it applied.

        A reader sees only what committed before the oldest transaction still open anywhere
        on the server (:meth:`EventStore.read_all`), and another worker may hold the
        projection for a moment: an empty batch is therefore not "caught up" while the
        checkpoint is still behind the newest event of the call's start. Then it waits
        briefly and tries again, for at most ``timeout`` seconds."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT transaction_id, position FROM events"
                " ORDER BY transaction_id DESC, position DESC LIMIT 1")
            newest = await cursor.fetchone()
        target = (int(newest["transaction_id"]), int(newest["position"])) if newest else (0, 0)
        deadline = asyncio.get_running_loop().time() + timeout
        total = 0
        while True:
            applied = await self.run_once(name)
            total += applied
            if applied > 0:
                continue
            if await self._checkpoint_of(name) >= target:
                return total
            if asyncio.get_running_loop().time() > deadline:
                log.warning("projection_catch_up_timed_out", projection=name, applied=total)
                return total
            await asyncio.sleep(0.02)

    async def _checkpoint_of(self, name: str) -> tuple[int, int]:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT transaction_id, position FROM projection_checkpoints WHERE name = %s",
                (name,))
            row = await cursor.fetchone()
        return (int(row["transaction_id"]), int(row["position"])) if row else (0, 0)

    async def run_forever(self, poll_interval: float, stop: asyncio.Event) -> None:
        """The worker loop: every projection not failed, polled every ``poll_interval``."""
        while not stop.is_set():
            busy = False
            for name in self.projections:
                if name in self.failed:
                    continue
                try:
                    busy |= await self.run_once(name) >= self.batch_size
                except ProjectionFailed:
                    continue  # recorded and logged; this projection now waits for a human
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_interval)

    # ------------------------------------------------------------------ operating

    async def rebuild(self, name: str) -> int:
        """Drop projection ``name``'s read model and replay every event into it."""
        inline = self._inline(name)
        if inline is not None:
            return await self._rebuild_inline(inline)
        projection = self._get(name)
        async with self.db.transaction() as conn:
            # Wait for a worker that is mid-batch: were the read model reset under it, its
            # batch would commit after the reset and then be replayed a second time.
            await self._lock_checkpoint(conn, name, wait=True)
            await projection.reset(conn)
            await self._save_checkpoint(conn, name, Checkpoint())
        self.failed.pop(name, None)
        return await self.catch_up(name)

    async def _rebuild_inline(self, projection: InlineProjection) -> int:
        # SHARE mode conflicts with writers' ROW EXCLUSIVE: it waits for every appending
        # transaction to finish and keeps new ones out until the replay commits. Inside the
        # lock every event is committed and final.
        count = 0
        async with self.db.transaction() as conn:
            await conn.execute("LOCK TABLE events IN SHARE MODE")
            await projection.reset(conn)
            async with contextlib.aclosing(self.store.replay(conn, self.batch_size)) as batches:
                async for batch in batches:  # closed with the cursor should apply fail
                    await projection.apply(conn, batch)
                    count += len(batch)
        return count

    async def status(self) -> list[ProjectionStatus]:
        result: list[ProjectionStatus] = []
        async with self.db.connection() as conn:
            cursor = await conn.execute("SELECT * FROM projection_checkpoints")
            rows = {row["name"]: row for row in await cursor.fetchall()}
            for name in self.projections:
                row = rows.get(name)
                checkpoint = (
                    Checkpoint(row["transaction_id"], row["position"]) if row else Checkpoint()
                )
                behind = await self._behind(conn, checkpoint)
                result.append(ProjectionStatus(
                    name, "async", checkpoint, behind,
                    row["status"] if row else "not started",
                    row["failed_position"] if row else None,
                    row["failed_event_type"] if row else None,
                    row["error"] if row else None,
                    row["updated_at"] if row else None,
                ))
            await conn.rollback()
        result.extend(
            ProjectionStatus(p.name, "inline", None, 0, "in step")
            for p in self.store.inline_projections
        )
        return result

    @staticmethod
    async def _behind(conn: Connection, checkpoint: Checkpoint) -> int:
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM events"
            " WHERE (transaction_id, position) > (%s::text::xid8, %s)",
            (xid8(checkpoint.transaction_id), checkpoint.position),
        )
        row = await cursor.fetchone()
        return int(row["n"]) if row else 0


@dataclass(frozen=True, slots=True)
class _Failure:
    index: int
    error: ProjectionFailed


class EventTypeCounts:
    """Built-in asynchronous read model: how many events of each type have been recorded.

    It feeds the ``saldo_events`` metric and shows the worker is alive.
    """

    name = "event_type_counts"

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        await conn.execute(
            "INSERT INTO event_type_counts (event_type, count) VALUES (%s, 1)"
            " ON CONFLICT (event_type) DO UPDATE SET count = event_type_counts.count + 1",
            (event.type,),
        )

    async def reset(self, conn: Connection) -> None:
        await conn.execute("DELETE FROM event_type_counts")
