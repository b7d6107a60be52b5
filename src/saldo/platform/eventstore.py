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
import contextlib
import json
import re
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import eq, itemgetter
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import orjson
import psycopg
from psycopg import AsyncCursor
from psycopg import errors as pg_errors
from psycopg.rows import tuple_row
from psycopg.types.json import set_json_loads
from psycopg.types.numeric import IntLoader

from saldo.kernel.errors import ConcurrencyError, Conflict
from saldo.kernel.ids import new_id
from saldo.platform.db import Connection
from saldo.platform.metrics import EVENTS_APPENDED

# psycopg has no loader for ``xid8``. Its text form is a decimal integer, which psycopg's
# integer loader reads (in C with psycopg's binary package: a Python loader cost ~0.2 µs
# per event read).
psycopg.adapters.register_loader(5069, IntLoader)  # 5069 is xid8's fixed type oid
# JSON columns read elsewhere (read models, the audit) go through psycopg's loader: orjson
# decodes several times faster than the standard library and yields the same dicts,
# lists, strings and ints (no floats are stored: amounts are strings).
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


class RecordedEvent(NamedTuple):
    """An event as stored.

    A named tuple rather than a frozen dataclass, and as immutable: reading the log and
    every bulk append build one per event, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` call per field) cost about 0.8 µs more per event, close to a
    tenth of reading one (bench/eventstore.py; decision 0013).
    """

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


class StoredEvent(NamedTuple):
    """An event as stored, its two JSON columns left as the text PostgreSQL sent
    (:meth:`EventStore.read_all_json`): for a reader that passes the JSON on rather than
    looks inside it (the outbox relay splices ``data`` into its envelope, decision 0068).
    Not upcast: :meth:`EventStore.decode` gives the :class:`RecordedEvent`, upcast."""

    position: int
    transaction_id: int
    event_id: UUID
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: str
    metadata: str
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

#: Builds a RecordedEvent from a tuple of its twelve fields in order, as
#: ``RecordedEvent._make`` does without its length check and Python-level call: the
#: hot loops of reading and appending save about 0.4 µs per event (decision 0013). Only for
#: tuples whose shape this module fixes (``_COLUMNS``, ``_recorded``).
_new_record = tuple.__new__


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
    """A stream's state as of ``version``, in the shape ``schema_version`` of its owner.

    ``company_id`` scopes it as the stream's events are scoped: the application role sees
    and writes only its company's snapshots (row-level security, decision 0067).
    """

    stream_id: str
    stream_type: str
    version: int
    state: dict[str, Any]
    schema_version: int = 1
    company_id: UUID | None = None


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
        return event._replace(data=data, schema_version=version)

    def covers(self, event_type: str) -> bool:
        """Whether some hook may change events of ``event_type``."""
        return event_type in self._types

    @property
    def has_hooks(self) -> bool:
        """Whether any hook is registered (else reading need not call :meth:`upcast`)."""
        return bool(self._hooks)


class InlineProjection(Protocol):
    """A read model updated in the appending transaction (exact at once).

    A projection may also declare ``stream_types``, the prefixes of the stream types whose
    events it reads (payroll's: ``("payroll.",)``); the store then hands it no other
    events, and a writer of its own statements (bulk posting) need not build records for
    it at all. Without it, a projection sees every appended event.
    """

    name: str

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None: ...

    async def reset(self, conn: Connection) -> None: ...


def reads_stream(projection: InlineProjection, stream_type: str) -> bool:
    """Whether ``projection`` reads the events of ``stream_type`` (its ``stream_types``
    prefixes; a projection that declares none reads every stream)."""
    prefixes: tuple[str, ...] | None = getattr(projection, "stream_types", None)
    return prefixes is None or stream_type.startswith(prefixes)


# What the server assigns on insert. Echoing the JSONB payloads back would double the
# bytes on the wire and parse every document again for nothing.
_ASSIGNED = "event_id, position, transaction_id, version, recorded_at"

# The JSON columns come as text and are decoded by :meth:`EventStore._decode` while it
# builds the record: through psycopg's JSON loader (a Python call per value, then a tuple
# to rebuild) reading the log cost about a quarter more (decision 0013). The server's
# work is the same: sending jsonb is converting it to text.
_COLUMNS = (
    "position, transaction_id, event_id, stream_id, stream_type, version, event_type,"
    " schema_version, data::text, metadata::text, company_id, recorded_at"
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

# It scans the primary key, (transaction_id, position).
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
        self.upcasters = upcasters if upcasters is not None else Upcasters()
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
        meta = metadata.as_json()
        meta_json = dumps(meta)
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
                "metadata": meta_json,
                "company_id": metadata.company_id,
                "expected": expected_version,
            }
        else:
            query, params = _APPEND, {
                "stream_id": stream_id,
                "stream_type": stream_type,
                "expected": expected_version,
                "metadata": meta_json,
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
        append = StreamAppend(stream_id, stream_type, expected_version, events, metadata)
        return await self._recorded(conn, rows, [(append, meta)], datas)

    async def append_many(
        self, conn: Connection, appends: Sequence[StreamAppend]
    ) -> list[RecordedEvent]:
        """Append to many streams in one statement (bulk posting, imports)."""
        rows_out: list[tuple[Any, ...]] = []
        metas: list[tuple[StreamAppend, dict[str, str]]] = []
        expected_versions: dict[str, int] = {}
        for append in appends:
            meta = append.metadata.as_json()
            meta_json, company = dumps(meta), append.metadata.company_id
            expected = append.expected_version
            if expected is None:
                raise ValueError("append_many needs an explicit expected version per stream")
            if append.stream_id in expected_versions:
                raise ValueError(f"stream {append.stream_id} appears twice in one append_many")
            expected_versions[append.stream_id] = expected
            metas.append((append, meta))
            rows_out.extend(
                (event.event_id, append.stream_id, append.stream_type, expected, offset,
                 event.type, event.schema_version, dumps(event.data), meta_json, company)
                for offset, event in enumerate(append.events, start=1)
            )
        if not rows_out:
            return []
        # One tuple per event, transposed once into the ten column arrays.
        columns = [list(column) for column in zip(*rows_out, strict=True)]
        datas = columns[7]
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
        return await self._recorded(conn, rows, metas, datas)

    def projections_besides(self, name: str, stream_type: str) -> list[InlineProjection]:
        """The inline projections other than the one called ``name`` that read the events
        of ``stream_type``."""
        return [p for p in self.inline_projections
                if p.name != name and reads_stream(p, stream_type)]

    @staticmethod
    def unique_violation(exc: pg_errors.UniqueViolation,
                         expected: Mapping[str, int | None]) -> Conflict:
        """An append's unique-key violation as the error its caller sees (for writers
        that insert events in statements of their own, as bulk posting does)."""
        return _unique_violation(exc, expected)

    @staticmethod
    def count_appended(count: int) -> None:
        """Count events appended by a statement of the caller's (the metric)."""
        EVENTS_APPENDED.inc(count)

    async def project_appended(
        self,
        conn: Connection,
        rows: Sequence[tuple[Any, ...]],
        appends: Sequence[StreamAppend],
        datas: Sequence[str],
        *,
        besides: str,
    ) -> list[RecordedEvent]:
        """Records of events a caller inserted in a statement of its own that also
        updated the read model of the inline projection ``besides`` (set-wise bulk
        posting): every *other* inline projection is run on them, as :meth:`append_many`
        would. ``rows``: what the server assigned (``_ASSIGNED``'s columns); ``datas``:
        the events' data as the JSON sent, in the order of ``appends``' events."""
        metas = [(a, a.metadata.as_json()) for a in appends]
        return await self._recorded(conn, rows, metas, datas, skip=besides)

    async def _recorded(
        self,
        conn: Connection,
        rows: Sequence[tuple[Any, ...]],
        appends: Sequence[tuple[StreamAppend, dict[str, str]]],
        datas: Sequence[str],
        skip: str | None = None,
    ) -> list[RecordedEvent]:
        """The records of appended events: what was sent (``appends``, each with its
        metadata as JSON values, and the events' data as encoded JSON in the same order)
        joined with what the server assigned (``rows``, in _ASSIGNED's order).

        Inline projections see events as every reader does: data as stored (JSON, so
        Decimals are strings) and upcast to the newest schema, so that replaying them
        (``saldo projections rebuild``) gives the same read model. This runs per event of
        every bulk append, so records are built positionally and nothing is looked up.
        """
        rows = _in_sending_order(rows, [e.event_id for a, _ in appends for e in a.events])
        loads, new = orjson.loads, _new_record
        recorded: list[RecordedEvent] = []
        i = 0
        for append, meta in appends:
            stream_id, stream_type = append.stream_id, append.stream_type
            company = append.metadata.company_id
            for event in append.events:
                event_id, position, transaction_id, version, recorded_at = rows[i]
                recorded.append(new(RecordedEvent, (
                    position, transaction_id, event_id, stream_id, stream_type, version,
                    event.type, event.schema_version,
                    dict(event.data) if event.json_values else loads(datas[i]), dict(meta),
                    company, recorded_at)))
                i += 1
        if self.upcasters.has_hooks:
            recorded = [self.upcasters.upcast(e) for e in recorded]
        for projection in self.inline_projections:
            if projection.name == skip:
                continue
            if seen := [e for e in recorded if reads_stream(projection, e.stream_type)]:
                await projection.apply(conn, seen)
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

    async def read_all_json(
        self, conn: Connection, after: Checkpoint = START, limit: int = 1000
    ) -> list[StoredEvent]:
        """:meth:`read_all`'s events, their JSON undecoded and not upcast (the rows as
        they come: no decoding and no record to build; decision 0068)."""
        async with conn.cursor(row_factory=tuple_row) as cursor:
            await cursor.execute(_READ_ALL, (xid8(after.transaction_id), after.position,
                                             limit))
            new = _new_record
            return [new(StoredEvent, row) for row in await cursor.fetchall()]

    def decode(self, event: StoredEvent) -> RecordedEvent:
        """The record of a :class:`StoredEvent`: its JSON decoded, upcast."""
        return self._decode([event])[0]

    async def replay(
        self, conn: Connection, batch_size: int
    ) -> AsyncGenerator[list[RecordedEvent], None]:
        """Every event in insertion order (``position``), in batches, through one
        server-side cursor in ``conn``'s transaction.

        Only for a caller that keeps writers out (``LOCK TABLE events IN SHARE MODE``, as an
        inline rebuild does): then every row is final. Insertion order is the order inline
        projections saw live: a transaction that read another's rows appends after them,
        which commit order (transaction ids are taken at the first write or row lock) does
        not promise. No horizon: a transaction open elsewhere must not cut the replay
        short. There is no index on ``position`` (decision 0013): the server sorts once.
        """
        async with conn.cursor(name="saldo_replay", row_factory=tuple_row) as cursor:
            await cursor.execute(f"SELECT {_COLUMNS} FROM events ORDER BY position")
            while rows := await cursor.fetchmany(batch_size):
                yield self._decode(rows)

    async def _events(self, query: str, conn: Connection,
                      params: tuple[Any, ...]) -> list[RecordedEvent]:
        # Tuples, not dicts: the select list is in RecordedEvent's field order, and on the
        # read path building a dict per row costs as much as the row itself.
        async with conn.cursor(row_factory=tuple_row) as cursor:
            await cursor.execute(query, params)
            return self._decode(await cursor.fetchall())

    def _decode(self, rows: Sequence[tuple[Any, ...]]) -> list[RecordedEvent]:
        """Rows of ``_COLUMNS`` as records, upcast to the newest schemas."""
        loads, new = orjson.loads, _new_record
        events = [
            new(RecordedEvent, (position, transaction_id, event_id, stream_id, stream_type,
                                version, event_type, schema_version, loads(data),
                                loads(metadata), company_id, recorded_at))
            for (position, transaction_id, event_id, stream_id, stream_type, version,
                 event_type, schema_version, data, metadata, company_id, recorded_at) in rows
        ]
        if self.upcasters.has_hooks:
            return list(map(self.upcasters.upcast, events))
        return events

    async def subscribe(
        self,
        connect: Callable[[], Any],
        after: Checkpoint = START,
        *,
        batch_size: int = 250,
        poll_interval: float = 0.2,
        stop_when_caught_up: bool = False,
    ) -> AsyncGenerator[RecordedEvent, None]:
        """Follow all events from ``after`` in commit order, polling when caught up.

        ``connect`` is an async context manager factory (``db.connection``), and a
        subscriber holds two of its connections: while the caller works through one page,
        the server is already producing the next on the other. The next page starts after
        the last row of this one, which is known as soon as this page has arrived, before
        any of it is decoded; decoding (here) and producing rows (in the server) then run
        side by side (decision 0013). Pages of 250 events (about 150 KB) read faster than
        pages of 1,000 in three of four measurements, by up to half: a page and the records
        built from it stay in the CPU's cache. Polling, not NOTIFY: NOTIFY inside write
        transactions serialises every committer on one lock.
        """
        async with connect() as current, connect() as spare:
            for conn in (current, spare):
                await conn.set_autocommit(True)
            ahead: asyncio.Task[AsyncCursor[tuple[Any, ...]]] | None = None
            checkpoint = after
            try:
                page = await self._page(current, checkpoint, batch_size)
                while True:
                    count, checkpoint = _page_end(page, checkpoint)
                    if count == batch_size:  # there may be more: ask for it now
                        ahead = asyncio.create_task(self._page(spare, checkpoint, batch_size))
                        await asyncio.sleep(0)  # the task sends its query, then waits
                    events = self._decode(await page.fetchall())
                    await page.close()
                    for event in events:
                        yield event
                    if ahead is not None:
                        page, ahead = await ahead, None
                        current, spare = spare, current
                        continue
                    if stop_when_caught_up:
                        return
                    await asyncio.sleep(poll_interval)
                    page = await self._page(current, checkpoint, batch_size)
            finally:
                if ahead is not None:  # the caller stopped early: drop the page read ahead
                    ahead.cancel()
                    await _finished(ahead)
                for conn in (current, spare):
                    with contextlib.suppress(psycopg.Error):  # a broken one: the pool drops it
                        await conn.set_autocommit(False)

    @staticmethod
    async def _page(
        conn: Connection, after: Checkpoint, limit: int
    ) -> AsyncCursor[tuple[Any, ...]]:
        """:meth:`read_all`'s query, run but not decoded: the rows stay in the result."""
        cursor = conn.cursor(row_factory=tuple_row)
        await cursor.execute(_READ_ALL, (xid8(after.transaction_id), after.position, limit))
        return cursor

    # ------------------------------------------------------------------ snapshots

    async def save_snapshot(self, conn: Connection, snapshot: Snapshot) -> None:
        """Keep the newest snapshot of a stream; an older one never replaces a newer one."""
        await conn.execute(
            """
            INSERT INTO snapshots (stream_id, stream_type, version, schema_version, state,
                                   company_id)
            VALUES (%s, %s, %s, %s, %s::jsonb, %s)
            ON CONFLICT (stream_id) DO UPDATE
               SET version = excluded.version, schema_version = excluded.schema_version,
                   state = excluded.state, company_id = excluded.company_id,
                   taken_at = now()
             WHERE snapshots.version < excluded.version
            """,
            (snapshot.stream_id, snapshot.stream_type, snapshot.version,
             snapshot.schema_version, dumps(snapshot.state), snapshot.company_id),
        )

    async def load_snapshot(self, conn: Connection, stream_id: str) -> Snapshot | None:
        cursor = await conn.execute(
            "SELECT stream_id, stream_type, version, schema_version, state, company_id"
            "  FROM snapshots WHERE stream_id = %s",
            (stream_id,),
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        return Snapshot(row["stream_id"], row["stream_type"], row["version"], row["state"],
                        row["schema_version"], row["company_id"])

    async def load(
        self, conn: Connection, stream_id: str, schema_version: int | None = None
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """The newest snapshot (if any) and the events recorded after it.

        With ``schema_version``, a snapshot of another schema version counts as none: its
        owner can no longer read that shape, so every event is returned instead.
        """
        snapshot = await self.load_snapshot(conn, stream_id)
        if snapshot is not None and schema_version is not None \
                and snapshot.schema_version != schema_version:
            snapshot = None
        events = await self.read_stream(conn, stream_id, snapshot.version if snapshot else 0)
        return snapshot, events

    async def newest_checkpoint(self, conn: Connection) -> Checkpoint:
        """The checkpoint of the newest event committed (as ``conn`` sees it: the privileged
        pool sees every company's), :data:`START` for an empty log. A follower that has
        passed it has read everything committed before this call, however long another
        open transaction holds the commit-order horizon back."""
        cursor = await conn.execute(
            "SELECT transaction_id, position FROM events"
            " ORDER BY transaction_id DESC, position DESC LIMIT 1")
        row = await cursor.fetchone()
        if row is None:
            return START
        return Checkpoint(int(row["transaction_id"]), int(row["position"]))


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


def _page_end(
    page: AsyncCursor[tuple[Any, ...]], before: Checkpoint
) -> tuple[int, Checkpoint]:
    """How many rows a page of ``_COLUMNS`` holds, and the checkpoint after its last one.

    Read from the undecoded result: the position and the transaction id of one row are
    two integers in text, where decoding the page means two JSON documents per row.
    """
    result = page.pgresult
    count = result.ntuples if result is not None else 0
    if result is None or count == 0:
        return 0, before
    position, transaction_id = result.get_value(count - 1, 0), result.get_value(count - 1, 1)
    if position is None or transaction_id is None:  # pragma: no cover - NOT NULL columns
        raise ValueError("an event row without position or transaction id")
    return count, Checkpoint(int(bytes(transaction_id)), int(bytes(position)))


async def _finished(task: asyncio.Task[Any]) -> None:
    """Wait until ``task`` is done, even through a cancellation of this task (its query
    must not be running when its connection goes back to the pool); a cancellation that
    arrived meanwhile is raised once it is."""
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError:
            cancelled = True
    if not task.cancelled():
        task.exception()  # retrieved: nobody is waiting for this page any more
    if cancelled:
        raise asyncio.CancelledError


def _in_sending_order(
    rows: Sequence[tuple[Any, ...]], event_ids: Sequence[UUID]
) -> Sequence[tuple[Any, ...]]:
    """``rows`` (each beginning with an event id) in the order of ``event_ids``.

    The append statements insert in sending order (``ORDER BY e.n``) and PostgreSQL
    returns RETURNING rows in the order it inserted them: true of every version, but not
    a documented promise. Comparing the ids costs little; a different order is put right.
    """
    if len(rows) == len(event_ids) and all(map(eq, map(itemgetter(0), rows), event_ids)):
        return rows
    by_id = {row[0]: row for row in rows}
    return [by_id[event_id] for event_id in event_ids]
