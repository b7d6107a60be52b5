"""Event store benchmark: Saldo's EventStore against raw INSERTs on the same database.

Run it from the repository root::

    .venv/bin/python bench/eventstore.py                  # embedded PostgreSQL, temp data dir
    .venv/bin/python bench/eventstore.py --quick          # a smaller run (< 20 s)
    .venv/bin/python bench/eventstore.py --database-url postgresql://user@host:5432/postgres

With ``--database-url`` a throwaway database ``saldo_bench_<random>`` is created on that
server (the role needs CREATEDB) and dropped at the end; the URL's own database is only
used to create and drop it. The migrations' cluster-wide role (``saldo_app``) stays.

What is measured, in one run, on one server and one database:

1. ``append`` of one event per transaction (BEGIN; append; COMMIT) from 1 and from 8
   concurrent connections, against a raw single-row ``INSERT ...; COMMIT`` of the same
   rows into ``bench_raw_events``: a plain table with the same columns and defaults as
   ``events`` but no constraint, index or trigger.
2. 1,000 events per transaction: ``append_many`` over 250 new streams of 4 events and
   ``append`` of 1,000 events to one new stream, against one raw
   ``INSERT ... SELECT FROM unnest(...)`` of the same 1,000 rows with binary parameters
   (the fastest plain INSERT form; see docs/performance.md for why binary).
3. Reading every event through ``EventStore.subscribe(stop_when_caught_up=True)``, against
   the same keyset query, page by page on one connection, returning psycopg's plain
   tuples with the JSON decoded by psycopg's loader (what a hand-written reader gets).
4. The peak resident memory of this process (``ru_maxrss``).

Both sides use the same psycopg async connections, the same payloads (a journal line of
about 300 bytes of JSON with Decimal amounts as strings, plus ~110 bytes of metadata) and
the same JSON encoder, in one process that has frozen its start-up objects out of the
garbage collector's sight after setting up, as ``saldo serve`` and ``saldo worker`` do
(``saldo.platform.runtime``). Each measurement is warmed up, then run for several rounds; a round
runs every side once, one after the other (rotating which goes first) after a CHECKPOINT.
Rates are the median over rounds; a ratio is the median of the per-round ratios (the sides
of one round ran seconds apart, so they saw the same machine). Missed targets are
reported, never turned into a failing exit code; real errors (a wrong row count, a dead
server) exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

# Shared plumbing of the benchmarks (bench/ is on sys.path when a script in it runs).
from common import (
    COUNTERPARTIES,
    ERRORS,
    ROOT,
    BenchError,
    checkpoint_allowed,
    database_argument,
    describe,
    failed,
    headline,
    machine,
    migrated,
    output_argument,
    peak_rss_mib,
    progress,
    relative,
    rss,
    server,
    server_info,
    sha256_16,
    status,
    text_table,
    write_results,
)
from saldo.kernel.ids import new_id
from saldo.platform import eventstore as eventstore_module
from saldo.platform.db import Connection, Database, connect
from saldo.platform.eventstore import (
    NO_STREAM,
    START,
    EventStore,
    Metadata,
    NewEvent,
    StreamAppend,
    dumps,
)
from saldo.platform.runtime import freeze_startup_objects

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "eventstore.json"

STREAM_TYPE = "journal_entry"
EVENT_TYPE = "ledger.JournalLinePosted"
#: Events per stream in the one-event-per-transaction runs: the first append creates the
#: stream (expected NO_STREAM), the next four name the exact version they expect.
EVENTS_PER_STREAM = 5
BATCH = 1000
BATCH_STREAMS = 250  # append_many: 250 new streams x 4 events = 1,000 events
CONCURRENCY = 8
PAGE = 250  # subscribe()'s default batch size, used by the reference reader too

REFERENCE, SALDO = "reference", "saldo"

RAW_TABLE = """
CREATE SEQUENCE bench_raw_events_position_seq;
CREATE TABLE bench_raw_events (
    position        bigint DEFAULT nextval('bench_raw_events_position_seq'),
    transaction_id  xid8 DEFAULT pg_current_xact_id(),
    event_id        uuid,
    stream_id       text,
    stream_type     text,
    version         integer,
    event_type      text,
    schema_version  integer DEFAULT 1,
    data            jsonb,
    metadata        jsonb DEFAULT '{}'::jsonb,
    company_id      uuid,
    recorded_at     timestamptz DEFAULT clock_timestamp()
);
"""

RAW_INSERT = """
INSERT INTO bench_raw_events (event_id, stream_id, stream_type, version, event_type,
                              schema_version, data, metadata, company_id)
VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)
"""

# %b: psycopg sends the arrays in binary. With %s it would send them as text, escaping
# every '"' of every JSON document with a Python-level re.sub; that alone makes this
# statement three times slower. The reference must be the fastest plain form.
RAW_INSERT_BATCH = """
INSERT INTO bench_raw_events (event_id, stream_id, stream_type, version, event_type,
                              schema_version, data, metadata, company_id)
SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::int[], %b::text[], %b::int[],
                     %b::jsonb[], %b::jsonb[], %b::uuid[])
"""

#: The same statement into ``events`` itself: fills the table for read-all, untimed.
FILL_EVENTS = RAW_INSERT_BATCH.replace("bench_raw_events", "events")

_READ_COLUMNS = (
    "position, transaction_id, event_id, stream_id, stream_type, version, event_type,"
    " schema_version, data, metadata, company_id, recorded_at"
)

# The reference reader runs the read-all query of docs/decisions/0003 (keyset pagination
# in commit order below the snapshot horizon) and keeps psycopg's plain tuples, JSON
# decoded by psycopg's own loader. Saldo's reader selects the JSON as text and decodes it
# while building RecordedEvents, and reads the next page ahead on a second connection
# (decision 0013); the target is an absolute rate, the reference only a yardstick.
# psycopg sends a Python int as smallint/integer/bigint, none of which casts to xid8, so
# the id travels as text.
RAW_READ_ALL = f"""
SELECT {_READ_COLUMNS}
  FROM events
 WHERE (transaction_id, position) > (%s::text::xid8, %s::bigint)
   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY transaction_id, position
 LIMIT %s
"""


# --------------------------------------------------------------------------- payloads

ACCOUNTS = ("1110", "1120", "1410", "1610", "2110", "3110", "3310", "3330", "6110", "7310",
            "7410")
VAT_CODES = ("VAT18", "VAT0", "EXEMPT", "REVERSE")


def journal_line(rng: random.Random, n: int) -> dict[str, Any]:
    """A journal transaction line, as a posting would record it (amounts are Decimals)."""
    amount = Decimal(rng.randrange(100, 5_000_000)).scaleb(-2)
    zero = Decimal("0.00")
    is_debit = rng.random() < 0.5
    posted = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
    return {
        "entry_id": new_id(),
        "line": rng.randint(1, 8),
        "account": rng.choice(ACCOUNTS),
        "debit": amount if is_debit else zero,
        "credit": zero if is_debit else amount,
        "currency": "GEL",
        "fx_rate": Decimal("1.000000"),
        "posting_date": posted,
        "description": f"INV-2025-{n:06d} {rng.choice(COUNTERPARTIES)}",
        "vat_code": rng.choice(VAT_CODES),
        "cost_center": f"CC-{rng.randint(1, 20):02d}",
    }


@dataclass(frozen=True, slots=True)
class Row:
    """One event, exactly as every side writes it."""

    event_id: uuid.UUID
    stream_id: str
    version: int
    data: dict[str, Any]
    metadata: Metadata


class Payloads:
    """A pool of distinct journal lines and request metadata, reused cyclically."""

    def __init__(self, seed: int, size: int = 4096) -> None:
        rng = random.Random(seed)
        self.lines = [journal_line(rng, n) for n in range(size)]
        companies = [new_id() for _ in range(3)]
        self.metadata = [
            Metadata(
                actor=f"user:{rng.randrange(1, 40)}",
                company_id=rng.choice(companies),
                correlation_id=f"req-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}",
            )
            for _ in range(size)
        ]
        self._next = 0

    def take(self) -> tuple[dict[str, Any], Metadata]:
        i = self._next % len(self.lines)
        self._next += 1
        return self.lines[i], self.metadata[i]

    def sizes(self) -> tuple[int, int]:
        """Median encoded size (UTF-8 bytes) of event data and of metadata."""
        data = statistics.median(len(dumps(d).encode()) for d in self.lines)
        meta = statistics.median(len(dumps(m.as_json()).encode()) for m in self.metadata)
        return int(data), int(meta)


def new_stream() -> str:
    return f"{STREAM_TYPE}-{new_id()}"


def single_plans(payloads: Payloads, workers: int, per_worker: int) -> list[list[Row]]:
    """Rows for one-event transactions: each worker fills its own streams, 5 events each."""
    plans: list[list[Row]] = []
    for _ in range(workers):
        rows: list[Row] = []
        stream = ""
        for i in range(per_worker):
            if i % EVENTS_PER_STREAM == 0:
                stream = new_stream()
            data, meta = payloads.take()
            rows.append(Row(new_id(), stream, i % EVENTS_PER_STREAM + 1, data, meta))
        plans.append(rows)
    return plans


def many_streams_batch(payloads: Payloads) -> list[Row]:
    """1,000 rows: 250 new streams of 4 events, as one bulk posting would write them."""
    rows: list[Row] = []
    for _ in range(BATCH_STREAMS):
        stream = new_stream()
        data, meta = payloads.take()
        for v in range(1, BATCH // BATCH_STREAMS + 1):
            rows.append(Row(new_id(), stream, v, data if v == 1 else payloads.take()[0], meta))
    return rows


def one_stream_batch(payloads: Payloads) -> list[Row]:
    """1,000 rows for one new stream (an import into a single aggregate)."""
    stream = new_stream()
    _, meta = payloads.take()
    return [Row(new_id(), stream, v, payloads.take()[0], meta) for v in range(1, BATCH + 1)]


def relabel(plans: list[list[Any]]) -> list[list[Any]]:
    """The same rows (payloads, versions) under fresh event and stream ids.

    Every side that writes to ``events`` needs ids of its own (both are unique there).
    """
    streams: dict[str, str] = {}

    def fresh(row: Row) -> Row:
        stream = streams.get(row.stream_id)
        if stream is None:
            stream = streams[row.stream_id] = new_stream()
        return replace(row, event_id=new_id(), stream_id=stream)

    return [[[fresh(r) for r in item] if isinstance(item, list) else fresh(item)
             for item in plan] for plan in plans]


def count_events(plans: list[list[Any]]) -> int:
    return sum(len(item) if isinstance(item, list) else 1 for plan in plans for item in plan)


# --------------------------------------------------------------------------- the sides

Op = Callable[[Connection, Any], Awaitable[None]]


def saldo_single(store: EventStore) -> Op:
    async def op(conn: Connection, row: Row) -> None:
        async with conn.transaction():
            await store.append(
                conn, row.stream_id, STREAM_TYPE, row.version - 1,
                [NewEvent(EVENT_TYPE, row.data, 1, row.event_id)], row.metadata,
            )
    return op


async def raw_single(conn: Connection, row: Row) -> None:
    async with conn.transaction():
        await conn.execute(RAW_INSERT, (
            row.event_id, row.stream_id, STREAM_TYPE, row.version, EVENT_TYPE, 1,
            dumps(row.data), dumps(row.metadata.as_json()), row.metadata.company_id,
        ))


def stream_appends(rows: Sequence[Row]) -> list[StreamAppend]:
    """Consecutive rows of one stream become one StreamAppend (what a caller builds)."""
    appends: list[StreamAppend] = []
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end].stream_id == rows[start].stream_id:
            end += 1
        first = rows[start]
        appends.append(StreamAppend(
            first.stream_id, STREAM_TYPE, first.version - 1,
            [NewEvent(EVENT_TYPE, r.data, 1, r.event_id) for r in rows[start:end]],
            first.metadata,
        ))
        start = end
    return appends


def saldo_many(store: EventStore) -> Op:
    async def op(conn: Connection, rows: list[Row]) -> None:
        appends = stream_appends(rows)
        async with conn.transaction():
            recorded = await store.append_many(conn, appends)
        if len(recorded) != len(rows):
            raise BenchError(f"append_many recorded {len(recorded)} of {len(rows)} events")
    return op


def saldo_one_stream(store: EventStore) -> Op:
    async def op(conn: Connection, rows: list[Row]) -> None:
        first = rows[0]
        events = [NewEvent(EVENT_TYPE, r.data, 1, r.event_id) for r in rows]
        async with conn.transaction():
            recorded = await store.append(
                conn, first.stream_id, STREAM_TYPE, NO_STREAM, events, first.metadata
            )
        if len(recorded) != len(rows):
            raise BenchError(f"append recorded {len(recorded)} of {len(rows)} events")
    return op


async def raw_batch(conn: Connection, rows: list[Row]) -> None:
    await insert_batch(conn, rows, RAW_INSERT_BATCH)


async def insert_batch(conn: Connection, rows: list[Row], query: str) -> None:
    # Per-append metadata is encoded once per stream, as EventStore does.
    encoded: dict[str, str] = {}
    metas: list[str] = []
    for r in rows:
        meta = encoded.get(r.stream_id)
        if meta is None:
            meta = encoded[r.stream_id] = dumps(r.metadata.as_json())
        metas.append(meta)
    columns = (
        [r.event_id for r in rows], [r.stream_id for r in rows], [STREAM_TYPE] * len(rows),
        [r.version for r in rows], [EVENT_TYPE] * len(rows), [1] * len(rows),
        [dumps(r.data) for r in rows], metas, [r.metadata.company_id for r in rows],
    )
    async with conn.transaction():
        await conn.execute(query, columns)


# --------------------------------------------------------------------------- results

SIDE_LABELS = {SALDO: ""}


@dataclass
class Result:
    key: str
    label: str
    rates: dict[str, list[float]] = field(default_factory=dict)
    target_ratio: float | None = None
    target_rate: float | None = None
    events_per_round: int = 0
    note: str = ""

    def add(self, side: str, rate: float) -> None:
        self.rates.setdefault(side, []).append(rate)

    def median(self, side: str) -> float:
        return statistics.median(self.rates[side])

    def ratios(self, side: str) -> list[float]:
        return [s / r for s, r in zip(self.rates[side], self.rates[REFERENCE], strict=True)]

    def ratio(self, side: str) -> float:
        return statistics.median(self.ratios(side))

    def passed(self, side: str) -> bool | None:
        if self.target_ratio is not None:
            return self.ratio(side) >= self.target_ratio
        if self.target_rate is not None:
            return self.median(side) >= self.target_rate
        return None

    @property
    def target_text(self) -> str:
        if self.target_ratio is not None:
            return f"ratio >= {self.target_ratio:g}"
        if self.target_rate is not None:
            return f">= {self.target_rate:,.0f} ev/s"
        return "-"

    @property
    def sides(self) -> list[str]:
        return [s for s in (SALDO,) if s in self.rates]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": "events/s",
            "events_per_round": self.events_per_round,
            "target_ratio": self.target_ratio,
            "target_events_per_s": self.target_rate,
            "reference": {"median": self.median(REFERENCE), "rounds": self.rates[REFERENCE]},
            **{side: {"median": self.median(side), "rounds": self.rates[side],
                      "ratio": self.ratio(side), "round_ratios": self.ratios(side),
                      "status": status(self.passed(side))} for side in self.sides},
            "note": self.note,
        }


def render(results: Sequence[Result], peak_mib: float, rounds: int) -> str:
    header = ("measurement", f"Saldo (median of {rounds})", "reference", "ratio", "target",
              "result")
    lines: list[tuple[str, ...]] = [header]
    for r in results:
        for side in r.sides:
            lines.append((SIDE_LABELS[side] or r.label, f"{r.median(side):,.0f} ev/s",
                          f"{r.median(REFERENCE):,.0f} ev/s", f"{r.ratio(side):.2f}",
                          r.target_text, status(r.passed(side))))
    lines.append(("peak RSS of the bench process (ru_maxrss)", f"{peak_mib:,.1f} MiB", "-", "-",
                  "-", "info"))
    return text_table(lines, "<>>>>>")


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Size:
    rounds: int
    round_seconds: float  # about how long one side of one round runs
    warmup: int  # one-event transactions per connection before timing
    warmup_batches: int
    read_events: int  # events in the table before read-all is timed

    @staticmethod
    def for_args(quick: bool, rounds: int | None) -> Size:
        size = (Size(rounds=3, round_seconds=0.25, warmup=40, warmup_batches=6,
                     read_events=20_000) if quick
                else Size(rounds=5, round_seconds=2.5, warmup=300, warmup_batches=10,
                          read_events=250_000))
        return replace(size, rounds=rounds or size.rounds)


@dataclass(frozen=True)
class Side:
    name: str
    op: Op
    table: str = "events"


class Bench:
    def __init__(self, url: str, size: Size, seed: int) -> None:
        self.url = url
        self.size = size
        self.store = EventStore()
        self.payloads = Payloads(seed)
        self.admin: Connection | None = None
        self.can_checkpoint = False
        self.written = {"events": 0, "bench_raw_events": 0}
        self.rss: dict[str, dict[str, float | None]] = {}

    async def setup(self) -> None:
        self.admin = await migrated(self.url)
        await self.admin.execute(RAW_TABLE)
        self.can_checkpoint = await checkpoint_allowed(self.admin)
        # As `saldo serve` and `saldo worker` do once started: every side runs in a process
        # set up the way Saldo's own processes are.
        freeze_startup_objects()
        self.rss["after_setup"] = rss()

    async def close(self) -> None:
        if self.admin is not None:
            await self.admin.close()

    async def checkpoint(self) -> None:
        """Flush dirty pages so that no side pays for another's writes."""
        if self.can_checkpoint and self.admin is not None:
            await self.admin.execute("CHECKPOINT")

    async def server_info(self) -> dict[str, Any]:
        assert self.admin is not None
        return await server_info(self.admin, ("fsync", "synchronous_commit", "wal_sync_method",
                                              "shared_buffers", "full_page_writes", "jit"))

    async def verify_counts(self) -> None:
        assert self.admin is not None
        for table, expected in self.written.items():
            row = await (await self.admin.execute(f"SELECT count(*) AS n FROM {table}")).fetchone()
            if not row or row["n"] != expected:
                raise BenchError(f"{table} holds {row and row['n']} rows, expected {expected}")

    @staticmethod
    def write_sides(saldo: Op, reference: Op) -> list[Side]:
        return [Side(REFERENCE, reference, table="bench_raw_events"), Side(SALDO, saldo)]

    async def warm_up(
        self, conns: Sequence[Connection], plans: list[list[Any]], sides: list[Side]
    ) -> float:
        """Run every side once, untimed; return the slowest side's events/s.

        This warms the caches and psycopg's prepared statements (a statement is prepared
        on its sixth execution), and sizes the rounds so that the slowest side runs for
        about ``size.round_seconds``."""
        rates = []
        for side in sides:
            seconds = await run_plans(conns, relabel(plans), side.op)
            self.written[side.table] += count_events(plans)
            rates.append(count_events(plans) / seconds)
        return min(rates)

    async def rounds(
        self,
        result: Result,
        conns: Sequence[Connection],
        make_plans: Callable[[], list[list[Any]]],
        sides: list[Side],
    ) -> None:
        """Time every side for ``size.rounds`` rounds on the same rows."""
        for n in range(self.size.rounds):
            plans = make_plans()
            events = count_events(plans)
            result.events_per_round = events
            shift = n % len(sides)  # rotate who goes first
            for side in sides[shift:] + sides[:shift]:
                mine = relabel(plans)
                await self.checkpoint()
                seconds = await run_plans(conns, mine, side.op)
                result.add(side.name, events / seconds)
                self.written[side.table] += events
            progress("  round {}: {}".format(n + 1, ", ".join(
                f"{s.name} {result.rates[s.name][-1]:,.0f}" for s in sides)) + " ev/s")
        await self.verify_counts()

    async def single(self, workers: int) -> Result:
        label = f"append, 1 event/txn, {workers} connection" + ("s" if workers > 1 else "")
        result = Result(f"append_single_{workers}conn", label, target_ratio=0.7)
        progress(f"{label} ...")
        conns = [await connect(self.url) for _ in range(workers)]
        try:
            sides = self.write_sides(saldo_single(self.store), raw_single)
            rate = await self.warm_up(
                conns, single_plans(self.payloads, workers, self.size.warmup), sides)
            per_worker = events_for(rate * self.size.round_seconds / workers, EVENTS_PER_STREAM,
                                    low=50, high=100_000)
            await self.rounds(
                result, conns, lambda: single_plans(self.payloads, workers, per_worker), sides)
        finally:
            for c in conns:
                await c.close()
        return result

    async def batched(self, key: str, label: str, make_batch: Callable[[Payloads], list[Row]],
                      op: Callable[[EventStore], Op]) -> Result:
        result = Result(key, label, target_ratio=0.5)
        progress(f"{label} ...")
        conn = await connect(self.url)
        try:
            sides = self.write_sides(op(self.store), raw_batch)
            warm = [[make_batch(self.payloads) for _ in range(self.size.warmup_batches)]]
            rate = await self.warm_up([conn], warm, sides)
            batches = events_for(rate / BATCH * self.size.round_seconds, 1, low=2, high=200)
            await self.rounds(
                result, [conn], lambda: [[make_batch(self.payloads) for _ in range(batches)]],
                sides)
        finally:
            await conn.close()
        return result

    async def fill(self) -> None:
        """Fill ``events`` (untimed) with ``size.read_events`` events for read-all.

        The rows are inserted as the batched reference inserts them (1,000 per transaction,
        250 streams of 4 events), which is what append_many would have written, only faster.
        """
        missing = self.size.read_events - self.written["events"]
        if missing <= 0:
            return
        progress(f"filling events with {missing:,} events for read-all ...")
        conn = await connect(self.url)
        try:
            while missing > 0:
                batch = many_streams_batch(self.payloads)
                await insert_batch(conn, batch, FILL_EVENTS)
                self.written["events"] += len(batch)
                missing -= len(batch)
        finally:
            await conn.close()
        await self.verify_counts()

    async def read_all(self) -> Result:
        label = "read all via subscribe(stop_when_caught_up)"
        result = Result("read_all_subscribe", label, target_rate=100_000,
                        note="reference: the same keyset query, psycopg tuple rows")
        total = self.written["events"]
        progress(f"{label} over {total:,} events ...")
        assert self.admin is not None
        await self.admin.execute("VACUUM ANALYZE events")
        db = Database(self.url, min_size=2, max_size=2)  # subscribe() holds two
        await db.open()
        raw = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        try:

            def subscriber(store: EventStore) -> Callable[[], Awaitable[int]]:
                async def read() -> int:
                    n = 0
                    async for _ in store.subscribe(db.connection, START, batch_size=PAGE,
                                                   stop_when_caught_up=True):
                        n += 1
                    return n
                return read

            async def raw_read() -> int:
                n, after = 0, ("0", 0)
                while True:
                    cursor = await raw.execute(RAW_READ_ALL, (*after, PAGE))
                    rows = await cursor.fetchall()
                    n += len(rows)
                    if rows:
                        after = (str(rows[-1][1]), rows[-1][0])
                    if len(rows) < PAGE:
                        return n

            sides: list[tuple[str, Callable[[], Awaitable[int]]]] = [
                (REFERENCE, raw_read), (SALDO, subscriber(self.store))]
            for _, read in sides:  # warm the cache and the prepared statements
                await read()
            for n in range(self.size.rounds):
                shift = n % len(sides)
                for side, read in sides[shift:] + sides[:shift]:
                    start = time.perf_counter()
                    got = await read()
                    rate = got / (time.perf_counter() - start)
                    if got != total:
                        raise BenchError(f"{side} read {got} events, expected {total}")
                    result.add(side, rate)
                progress("  round {}: {}".format(n + 1, ", ".join(
                    f"{s} {result.rates[s][-1]:,.0f}" for s, _ in sides)) + " ev/s")
            result.events_per_round = total
        finally:
            await raw.close()
            await db.close()
        return result

    async def run(self) -> list[Result]:
        # Read first, over a table of a fixed size (the writes below would otherwise make
        # it grow with the number of sides measured).
        await self.fill()
        read = await self.read_all()
        self.rss["after_reads"] = rss()
        results = [await self.single(1), await self.single(CONCURRENCY)]
        results.append(await self.batched(
            "append_many_1000", "append_many, 1,000 events/txn (250 new streams x 4)",
            many_streams_batch, saldo_many))
        results.append(await self.batched(
            "append_one_stream_1000", "append, 1,000 events/txn to one new stream",
            one_stream_batch, saldo_one_stream))
        self.rss["after_writes"] = rss()
        return [*results, read]


async def run_plans(conns: Sequence[Connection], plans: Sequence[Sequence[Any]], op: Op) -> float:
    """Run each plan on its own connection, all at once; return the wall-clock seconds."""

    async def worker(conn: Connection, plan: Sequence[Any]) -> None:
        for item in plan:
            await op(conn, item)

    start = time.perf_counter()
    await asyncio.gather(*(worker(c, p) for c, p in zip(conns, plans, strict=True)))
    return time.perf_counter() - start


def events_for(estimate: float, multiple: int, *, low: int, high: int) -> int:
    """``estimate`` clamped to [low, high] and rounded up to a multiple of ``multiple``."""
    n = max(low, min(high, int(estimate)))
    return -(-n // multiple) * multiple


def source_digest() -> dict[str, str]:
    """Which event store was measured (the file may have changed since the last commit)."""
    path = Path(eventstore_module.__file__ or "")
    return {"file": relative(path), "sha256_16": sha256_16(path) if path.is_file() else "?"}


@dataclass
class Report:
    label: str
    results: list[Result]
    extra: dict[str, Any]


async def bench(args: argparse.Namespace, size: Size) -> Report:
    async with server(args.database_url) as (url, label):
        runner = Bench(url, size, args.seed)
        await runner.setup()
        try:
            info = await runner.server_info()
            data_bytes, meta_bytes = runner.payloads.sizes()
            progress(describe(info, "fsync", "synchronous_commit") + f"; payload: data "
                     f"{data_bytes} B, metadata {meta_bytes} B (median)")
            results = await runner.run()
            extra = {
                "server": info,
                "payload_bytes": {"data_median": data_bytes, "metadata_median": meta_bytes},
                "rows_written": runner.written,
                "checkpoint_between_sides": runner.can_checkpoint,
                "rss_mib_by_phase": runner.rss,
            }
            return Report(label, results, extra)
        finally:
            await runner.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Saldo's event store against raw INSERTs.")
    database_argument(parser)
    parser.add_argument("--quick", action="store_true", help="a smaller run (< 20 s)")
    parser.add_argument("--rounds", type=int, help="timed rounds per measurement")
    parser.add_argument("--seed", type=int, default=20250101, help="payload generator seed")
    output_argument(parser, DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    size = Size.for_args(args.quick, args.rounds)
    at_start = rss()  # the interpreter with Saldo and its libraries imported
    started = time.perf_counter()
    try:
        report = asyncio.run(bench(args, size))
    except ERRORS as exc:
        return failed(exc)
    peak = peak_rss_mib()
    elapsed = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    print()
    print(headline("event store", report.extra["server"]["server_version"], report.label, mode,
                   elapsed))
    print(render(report.results, peak, size.rounds))
    phases = {"at_start": at_start, **report.extra["rss_mib_by_phase"]}
    print("memory (MiB, peak/current): " + ", ".join(
        f"{name} {v['peak']:.0f}/{v['current']:.0f}" if v["current"] is not None
        else f"{name} {v['peak']:.0f}/?" for name, v in phases.items()))
    document = {
        "benchmark": "eventstore",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "rounds": size.rounds,
        "statistic": "median of rounds; ratio = median of per-round ratios",
        "target": report.label,
        "event_store": source_digest(),
        "machine": machine(),
        **report.extra,
        "peak_rss_mib": peak,
        "rss_mib_by_phase": {**phases, "final": rss()},
        "elapsed_s": elapsed,
        "results": [r.as_json() for r in report.results],
    }
    write_results(args.output, document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
