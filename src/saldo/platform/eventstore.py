"""The event store: append-only streams on PostgreSQL with optimistic concurrency.

Every method takes the caller's connection, so a use case appends its events and updates
its inline read models in *one* transaction (the unit of work is the transaction).

Two orders exist and must not be confused:

* the **stream order** (``version``), gap-free per stream, guarded by a unique key;
* the **commit order** used by readers of all events: ``(transaction_id, position)``,
  limited to transactions older than the reader's snapshot horizon. ``position`` alone
  is *not* commit order: sequences hand out numbers at insert time, not at commit time,
  so a transaction holding position 10 may commit after the one holding 11. A reader
  that remembered "11" would skip 10 for ever. See docs/decisions/0003-event-ordering.md.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Protocol
from uuid import UUID

import orjson
import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Buffer, Loader
from psycopg.rows import tuple_row
from psycopg.types.json import set_json_loads

from saldo.kernel.errors import ConcurrencyError, Conflict
from saldo.kernel.ids import new_id
from saldo.platform.db import Connection
from saldo.platform.metrics import EVENTS_APPENDED


class _Xid8Loader(Loader):
    """psycopg has no loader for ``xid8``; it is a 64-bit unsigned integer."""

    def load(self, data: Buffer) -> int:
        return int(bytes(data))


psycopg.adapters.register_loader(5069, _Xid8Loader)  # 5069 is xid8's fixed type oid
# Decoding JSONB dominates reading the log; orjson decodes several times faster than the
# standard library and yields the same dicts, lists, strings and ints (no floats are
# stored: amounts are strings).
set_json_loads(orjson.loads)


def xid8(value: int) -> str:
    """A transaction id as a query parameter, to be written ``%s::text::xid8``.

    psycopg sends a Python ``int`` typed as smallint/integer/bigint, and PostgreSQL has no
    cast from those to ``xid8``; text converts through xid8's input function.
    """
    return str(value)


#: ``expected_version`` value meaning "the stream must not exist yet".
NO_STREAM = 0


def _json_default(value: object) -> str:
    if isinstance(value, Decimal | UUID | date | datetime):
        return str(value) if not isinstance(value, date | datetime) else value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: object) -> str:
    """JSON for event data: Decimals travel as strings, never as floats.

    orjson writes the same compact UTF-8 JSON as the standard library (dates, datetimes
    and UUIDs as ISO strings) several times faster; integers beyond 64 bits, which it
    refuses, take the standard library's path.
    """
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    event_id: UUID = field(default_factory=new_id)
    #: The producer's promise that ``data`` holds only what JSON decoding yields (str,
    #: int, bool, None, lists, dicts): then the appended event carries ``data`` itself
    #: instead of decoding the JSON just written (bulk appends decode thousands).
    json_values: bool = False


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who did it, for which company, and why (the request or event that caused it)."""

    actor: str | None = None
    company_id: UUID | None = None
    correlation_id: str | None = None
    causation_id: str | None = None

    def as_json(self) -> dict[str, str]:
        data = {
            "actor": self.actor,
            "company_id": str(self.company_id) if self.company_id else None,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    transaction_id: int
    event_id: UUID
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    company_id: UUID | None
    recorded_at: datetime

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.transaction_id, self.position)


@dataclass(frozen=True, slots=True, order=True)
class Checkpoint:
    """A place in the commit order: everything at or before it has been seen."""

    transaction_id: int = 0
    position: int = 0


START = Checkpoint()


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One stream's share of a batched append (:meth:`EventStore.append_many`)."""

    stream_id: str
    stream_type: str
    expected_version: int | None
    events: Sequence[NewEvent]
    metadata: Metadata = Metadata()


@dataclass(frozen=True, slots=True)
class Snapshot:
    stream_id: str
    stream_type: str
    version: int
    state: dict[str, Any]
    schema_version: int = 1


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """Upcasting hooks keyed by (event type, schema version).

    A hook turns the data of version *n* into version *n + 1*; hooks chain, so an event
    written as v1 is read as the newest version. Stored rows are never rewritten.
    """

    def __init__(self) -> None:
        self._hooks: dict[tuple[str, int], Upcaster] = {}
        #: Event types with any hook: every other event passes through untouched, which
        #: keeps the read path free of per-event work in the usual case.
        self._types: set[str] = set()

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def decorator(fn: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._hooks:
                raise ValueError(f"an upcaster for {event_type} v{from_version} exists already")
            self._hooks[key] = fn
            self._types.add(event_type)
            return fn

        return decorator

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        if event.type not in self._types:
            return event
        data, version = event.data, event.schema_version
        while (hook := self._hooks.get((event.type, version))) is not None:
            data, version = hook(data), version + 1
        if version == event.schema_version:
            return event
        return replace(event, data=data, schema_version=version)


class InlineProjection(Protocol):
    """A read model updated in the appending transaction (exact at once)."""

    name: str

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None: ...

    async def reset(self, conn: Connection) -> None: ...


# What the server assigns on insert. Echoing the JSONB payloads back would double the
# bytes on the wire and parse every document again for nothing.
_ASSIGNED = "event_id, position, transaction_id, version, recorded_at"

_COLUMNS = (
    "position, transaction_id, event_id, stream_id, stream_type, version, event_type,"
    " schema_version, data, metadata, company_id, recorded_at"
)

# Parameters go in binary (%b): in text format psycopg escapes every quote of every JSON
# document in Python to build the array literal, which cost more than the insert itself
# (bench/eventstore.py, prototype P1). Scalars carry casts so a NULL is never untyped.
#
# One round trip per append: the guard compares the stream's current version with the
# expected one, and the unique key (stream_id, version) settles races between writers
# that both passed the guard -- the loser waits for the winner's commit, then fails.
_APPEND = f"""
INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                    data, metadata, company_id)
SELECT e.event_id, %(stream_id)b::text, %(stream_type)b::text, cur.v + e.n::int, e.event_type,
       e.schema_version, e.data, %(metadata)b::jsonb, %(company_id)b::uuid
  FROM (SELECT coalesce(max(version), 0) AS v FROM events WHERE stream_id = %(stream_id)b) cur,
       unnest(%(ids)b::uuid[], %(types)b::text[], %(schema_versions)b::int[], %(datas)b::jsonb[])
         WITH ORDINALITY AS e(event_id, event_type, schema_version, data, n)
 WHERE %(expected)b::int IS NULL OR cur.v = %(expected)b::int
RETURNING {_ASSIGNED}
"""

# The common case, one event, as scalars: no arrays to build, send or unnest.
_APPEND_ONE = f"""
INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                    data, metadata, company_id)
SELECT %(event_id)b::uuid, %(stream_id)b::text, %(stream_type)b::text, cur.v + 1,
       %(event_type)b::text, %(schema_version)b::int, %(data)b::jsonb, %(metadata)b::jsonb,
       %(company_id)b::uuid
  FROM (SELECT coalesce(max(version), 0) AS v FROM events
         WHERE stream_id = %(stream_id)b::text) cur
 WHERE %(expected)b::int IS NULL OR cur.v = %(expected)b::int
RETURNING {_ASSIGNED}
"""

# The batched form: one statement for many streams, all or nothing. Every stream's guard
# is checked first (the ``moved`` CTE); if any stream is not at its expected version no
# row at all is inserted, so a caller that catches the error cannot commit half a batch.
# As in ``_APPEND``, the unique key settles writers that passed the guard together.
_APPEND_MANY = f"""
WITH batch AS (
    SELECT *
      FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::int[], %b::int[], %b::text[],
                  %b::int[], %b::jsonb[], %b::jsonb[], %b::uuid[])
             WITH ORDINALITY
             AS e(event_id, stream_id, stream_type, expected, offs, event_type,
                  schema_version, data, metadata, company_id, n)
), moved AS (
    SELECT 1
      FROM (SELECT DISTINCT stream_id, expected FROM batch) s
     WHERE (SELECT coalesce(max(version), 0) FROM events x WHERE x.stream_id = s.stream_id)
           <> s.expected
)
INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                    data, metadata, company_id)
SELECT e.event_id, e.stream_id, e.stream_type, e.expected + e.offs, e.event_type,
       e.schema_version, e.data, e.metadata, e.company_id
  FROM batch e
 WHERE NOT EXISTS (SELECT 1 FROM moved)
 ORDER BY e.n
RETURNING {_ASSIGNED}
"""

# New streams only (every expected version is NO_STREAM): no guard needed. A stream that
# exists already has a version 1, which the unique key (stream_id, version) refuses, so the
# key alone is the exact check -- and saves the per-stream lookups of the guard.
_APPEND_NEW = f"""
INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                    data, metadata, company_id)
SELECT e.event_id, e.stream_id, e.stream_type, e.offs, e.event_type, e.schema_version,
       e.data, e.metadata, e.company_id
  FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::int[], %b::text[], %b::int[],
              %b::jsonb[], %b::jsonb[], %b::uuid[])
         WITH ORDINALITY
         AS e(event_id, stream_id, stream_type, offs, event_type, schema_version, data,
              metadata, company_id, n)
 ORDER BY e.n
RETURNING {_ASSIGNED}
"""

_READ_ALL = f"""
SELECT {_COLUMNS}
  FROM events
 WHERE (transaction_id, position) > (%s::text::xid8, %s::bigint)
   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY transaction_id, position
 LIMIT %s
"""


class EventStore:
    def __init__(
        self,
        upcasters: Upcasters | None = None,
        inline_projections: Iterable[InlineProjection] = (),
    ) -> None:
        self.upcasters = upcasters or Upcasters()
        self.inline_projections = list(inline_projections)

    # ------------------------------------------------------------------ writing

    async def append(
        self,
        conn: Connection,
        stream_id: str,
        stream_type: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        metadata: Metadata = Metadata(),
    ) -> list[RecordedEvent]:
        """Append ``events`` to a stream that must be at ``expected_version``.

        ``expected_version`` is the version the caller last saw (``NO_STREAM`` for a new
        stream); ``None`` appends whatever the version is. A mismatch raises
        :class:`ConcurrencyError` and the caller's transaction must be rolled back. An
        event id that is recorded already raises :class:`Conflict` (not retryable).
        """
        if not events:
            return []
        meta = dumps(metadata.as_json())
        datas = [dumps(e.data) for e in events]
        if len(events) == 1:
            event = events[0]
            query, params = _APPEND_ONE, {
                "event_id": event.event_id,
                "stream_id": stream_id,
                "stream_type": stream_type,
                "event_type": event.type,
                "schema_version": event.schema_version,
                "data": datas[0],
                "metadata": meta,
                "company_id": metadata.company_id,
                "expected": expected_version,
            }
        else:
            query, params = _APPEND, {
                "stream_id": stream_id,
                "stream_type": stream_type,
                "expected": expected_version,
                "metadata": meta,
                "company_id": metadata.company_id,
                "ids": [e.event_id for e in events],
                "types": [e.type for e in events],
                "schema_versions": [e.schema_version for e in events],
                "datas": datas,
            }
        async with conn.cursor(row_factory=tuple_row) as cursor:
            try:
                await cursor.execute(query, params)
            except pg_errors.UniqueViolation as exc:
                raise _unique_violation(exc, {stream_id: expected_version}) from exc
            rows = await cursor.fetchall()
        if not rows:
            actual = await self.stream_version(conn, stream_id)
            raise ConcurrencyError(stream_id, expected_version, actual)
        return await self._recorded(conn, rows, {
            e.event_id: (stream_id, stream_type, e, e.data if e.json_values else data, meta,
                         metadata.company_id)
            for e, data in zip(events, datas, strict=True)
        })

    async def append_many(
        self, conn: Connection, appends: Sequence[StreamAppend]
    ) -> list[RecordedEvent]:
        """Append to many streams in one statement (bulk posting, imports)."""
        rows_out: list[tuple[Any, ...]] = []
        native: dict[UUID, Mapping[str, Any]] = {}  # data the records may carry as they are
        expected_versions: dict[str, int] = {}
        for append in appends:
            meta, company = dumps(append.metadata.as_json()), append.metadata.company_id
            expected = append.expected_version
            if expected is None:
                raise ValueError("append_many needs an explicit expected version per stream")
            if append.stream_id in expected_versions:
                raise ValueError(f"stream {append.stream_id} appears twice in one append_many")
            expected_versions[append.stream_id] = expected
            native.update((e.event_id, e.data) for e in append.events if e.json_values)
            rows_out.extend(
                (event.event_id, append.stream_id, append.stream_type, expected, offset,
                 event.type, event.schema_version, dumps(event.data), meta, company)
                for offset, event in enumerate(append.events, start=1)
            )
        if not rows_out:
            return []
        # One tuple per event, transposed once into the ten column arrays.
        columns = [list(column) for column in zip(*rows_out, strict=True)]
        query = _APPEND_MANY
        if not any(expected_versions.values()):  # all new streams: the unique key guards
            query = _APPEND_NEW
            del columns[3]  # no expected versions; offsets are the versions
        async with conn.cursor(row_factory=tuple_row) as cursor:
            try:
                await cursor.execute(query, columns)
            except pg_errors.UniqueViolation as exc:
                raise _unique_violation(exc, expected_versions) from exc
            rows = await cursor.fetchall()
        if len(rows) != len(rows_out):
            # Nothing was written; name the first stream that is not where the caller
            # thought. Versions only grow, so a stream that failed the guard still fails it.
            for stream_id, expected in expected_versions.items():
                actual = await self.stream_version(conn, stream_id)
                if actual != expected:
                    raise ConcurrencyError(stream_id, expected, actual)
            raise ConcurrencyError("(batch)", None)  # pragma: no cover - see above
        sent = {
            event_id: (stream_id, stream_type, _Sent(event_type, schema_version),
                       native.get(event_id, data), meta, company)
            for event_id, stream_id, stream_type, _, _, event_type, schema_version, data, meta,
            company in rows_out
        }
        return await self._recorded(conn, rows, sent)

    async def _recorded(
        self,
        conn: Connection,
        rows: Sequence[tuple[Any, ...]],
        sent: Mapping[UUID, tuple[str, str, NewEvent | _Sent, str | Mapping[str, Any], str,
                                  UUID | None]],
    ) -> list[RecordedEvent]:
        # Inline projections see events as every reader does: data as stored (JSON, so
        # Decimals are strings) and upcast to the newest schema, so that replaying them
        # (``saldo projections rebuild``) gives the same read model. Rows are tuples in
        # _ASSIGNED's order; events are built positionally: this loop runs per event of
        # every bulk append.
        recorded = []
        metas: dict[str, dict[str, Any]] = {}  # one decode per stream, a copy per event
        loads, upcast = orjson.loads, self.upcasters.upcast
        for event_id, position, transaction_id, version, recorded_at in sorted(
                rows, key=itemgetter(1)):
            stream_id, stream_type, event, data, meta, company = sent[event_id]
            if meta not in metas:
                metas[meta] = loads(meta)
            recorded.append(upcast(RecordedEvent(
                position, transaction_id, event_id, stream_id, stream_type, version,
                event.type, event.schema_version,
                loads(data) if isinstance(data, str) else dict(data), dict(metas[meta]),
                company,
                recorded_at)))
        for projection in self.inline_projections:
            await projection.apply(conn, recorded)
        EVENTS_APPENDED.inc(len(recorded))  # counted before commit: a rollback still counts
        return recorded

    # ------------------------------------------------------------------ reading

    async def stream_version(self, conn: Connection, stream_id: str) -> int:
        cursor = await conn.execute(
            "SELECT coalesce(max(version), 0) AS v FROM events WHERE stream_id = %s", (stream_id,)
        )
        row = await cursor.fetchone()
        return int(row["v"]) if row else 0

    async def read_stream(
        self, conn: Connection, stream_id: str, after_version: int = 0
    ) -> list[RecordedEvent]:
        return await self._events(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND version > %s ORDER BY version",
            conn, (stream_id, after_version))

    async def read_all(
        self, conn: Connection, after: Checkpoint = START, limit: int = 1000
    ) -> list[RecordedEvent]:
        """Committed events after ``after`` in commit order, at most ``limit``.

        Only transactions older than every transaction still in progress are visible, so
        an event that commits late (its transaction began early) is delivered after the
        reader's checkpoint, never behind it.
        """
        return await self._events(_READ_ALL, conn,
                                  (xid8(after.transaction_id), after.position, limit))

    async def read_by_position(
        self, conn: Connection, after_position: int, limit: int
    ) -> list[RecordedEvent]:
        """Events by position. Only safe when no writer can be in flight (under a lock)."""
        return await self._events(
            f"SELECT {_COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT %s",
            conn, (after_position, limit))

    async def _events(self, query: str, conn: Connection,
                      params: tuple[Any, ...]) -> list[RecordedEvent]:
        # Tuples, not dicts: the select list is in RecordedEvent's field order, and on the
        # read path building a dict per row costs as much as the row itself.
        async with conn.cursor(row_factory=tuple_row) as cursor:
            await cursor.execute(query, params)
            rows = await cursor.fetchall()
        upcast = self.upcasters.upcast
        return [upcast(RecordedEvent(*row)) for row in rows]

    async def subscribe(
        self,
        connect: Callable[[], Any],
        after: Checkpoint = START,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.2,
        stop_when_caught_up: bool = False,
    ) -> AsyncIterator[RecordedEvent]:
        """Follow all events from ``after`` in commit order, polling when caught up.

        ``connect`` is an async context manager factory (``db.connection``). Polling, not
        NOTIFY: NOTIFY inside write transactions serialises every committer on one lock.
        """

        checkpoint = after
        async with connect() as conn:
            await conn.set_autocommit(True)
            try:
                while True:
                    batch = await self.read_all(conn, checkpoint, batch_size)
                    for event in batch:
                        yield event
                    if batch:
                        checkpoint = batch[-1].checkpoint
                    if len(batch) < batch_size:
                        if stop_when_caught_up:
                            return
                        await asyncio.sleep(poll_interval)
            finally:
                await conn.set_autocommit(False)

    # ------------------------------------------------------------------ snapshots

    async def save_snapshot(self, conn: Connection, snapshot: Snapshot) -> None:
        """Keep the newest snapshot of a stream; an older one never replaces a newer one."""
        await conn.execute(
            """
            INSERT INTO snapshots (stream_id, stream_type, version, schema_version, state)
            VALUES (%s, %s, %s, %s, %s::jsonb)
            ON CONFLICT (stream_id) DO UPDATE
               SET version = excluded.version, schema_version = excluded.schema_version,
                   state = excluded.state, taken_at = now()
             WHERE snapshots.version < excluded.version
            """,
            (snapshot.stream_id, snapshot.stream_type, snapshot.version,
             snapshot.schema_version, dumps(snapshot.state)),
        )

    async def load_snapshot(self, conn: Connection, stream_id: str) -> Snapshot | None:
        cursor = await conn.execute(
            "SELECT stream_id, stream_type, version, schema_version, state"
            "  FROM snapshots WHERE stream_id = %s",
            (stream_id,),
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        return Snapshot(row["stream_id"], row["stream_type"], row["version"], row["state"],
                        row["schema_version"])

    async def load(
        self, conn: Connection, stream_id: str
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """The newest snapshot (if any) and the events recorded after it."""
        snapshot = await self.load_snapshot(conn, stream_id)
        events = await self.read_stream(conn, stream_id, snapshot.version if snapshot else 0)
        return snapshot, events


_DUPLICATE_VERSION = re.compile(r"\(stream_id, version\)=\((.*), \d+\)")
_DUPLICATE_EVENT = re.compile(r"\(event_id\)=\(([0-9a-fA-F-]{36})\)")


def _unique_violation(
    exc: pg_errors.UniqueViolation, expected: Mapping[str, int | None]
) -> Conflict:
    """Translate a unique-key violation raised by an append.

    On ``(stream_id, version)`` another writer got there first (a concurrency error the
    caller may retry); on ``event_id`` the caller is replaying an event that is already
    recorded, which no retry can fix.
    """
    detail = exc.diag.message_detail or ""
    if exc.diag.constraint_name == "events_stream_version":
        match = _DUPLICATE_VERSION.search(detail)
        if match and match.group(1) in expected:
            stream_id = match.group(1)
        elif len(expected) == 1:
            stream_id = next(iter(expected))
        else:
            stream_id = "(batch)"
        return ConcurrencyError(stream_id, expected.get(stream_id))
    match = _DUPLICATE_EVENT.search(detail)
    return Conflict(
        f"event already recorded ({detail or exc.diag.message_primary})",
        event_id=UUID(match.group(1)) if match else None,
        constraint=exc.diag.constraint_name,
    )


@dataclass(frozen=True, slots=True)
class _Sent:
    """The parts of an event a batched append needs to rebuild its record."""

    type: str
    schema_version: int

