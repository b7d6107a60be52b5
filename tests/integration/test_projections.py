"""Projections: each event applied exactly once, a failure stops *at* the event, and every
read model can be rebuilt by replaying the log.

The read models here are test tables whose primary key is the event id, so applying an
event twice is a unique violation rather than a silently wrong count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from saldo.kernel.errors import ConcurrencyError
from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import (
    NO_STREAM,
    START,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    Upcasters,
)
from saldo.platform.projections import (
    EventTypeCounts,
    ProjectionFailed,
    ProjectionRunner,
    ProjectionStatus,
)

pytestmark = pytest.mark.integration

#: 25 events in transactions of uneven size: batches of 10 cut across transactions.
SIZES = [3, 5, 1, 7, 4, 5]
TOTAL = sum(SIZES)


@pytest.fixture
async def read_models(db: Database) -> AsyncIterator[Database]:
    async with db.transaction() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS test_projection_seen ("
            " projection text NOT NULL, event_id uuid NOT NULL, position bigint NOT NULL,"
            " n integer, PRIMARY KEY (projection, event_id))"
        )
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS test_inline_seen ("
            " event_id uuid PRIMARY KEY, stream_id text NOT NULL, version integer NOT NULL,"
            " event_type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL)"
        )
        await conn.execute("TRUNCATE test_projection_seen, test_inline_seen")
    yield db
    async with db.transaction() as conn:
        await conn.execute("DROP TABLE IF EXISTS test_projection_seen, test_inline_seen")


class Seen:
    """An asynchronous read model: one row per event it has applied."""

    def __init__(self, name: str = "seen", *, fail_on: Sequence[int] = ()) -> None:
        self.name = name
        self.fail_on = set(fail_on)
        self.calls: list[int] = []  # every apply, including those later rolled back
        self.block_on: int | None = None
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        n = event.data["n"]
        self.calls.append(n)
        await conn.execute(
            "INSERT INTO test_projection_seen (projection, event_id, position, n)"
            " VALUES (%s, %s, %s, %s)",
            (self.name, event.event_id, event.position, n),
        )
        if n == self.block_on:
            self.reached.set()
            await self.release.wait()
        if n in self.fail_on:
            raise ValueError(f"cannot apply event {n}")

    async def reset(self, conn: Connection) -> None:
        await conn.execute("DELETE FROM test_projection_seen WHERE projection = %s", (self.name,))


class KillsItsConnection(Seen):
    """Simulates a worker whose database connection dies in the middle of a batch."""

    def __init__(self, kill_on: int) -> None:
        super().__init__()
        self.kill_on = kill_on

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        await super().apply(conn, event)
        if event.data["n"] == self.kill_on:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")


class InlineSeen:
    """An inline read model: written in the appending transaction."""

    name = "inline_seen"

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        async with conn.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO test_inline_seen"
                " (event_id, stream_id, version, event_type, schema_version, data)"
                " VALUES (%s, %s, %s, %s, %s, %s::jsonb)",
                [(e.event_id, e.stream_id, e.version, e.type, e.schema_version,
                  psycopg.types.json.Jsonb(e.data)) for e in events],
            )

    async def reset(self, conn: Connection) -> None:
        await conn.execute("DELETE FROM test_inline_seen")


async def append_numbered(db: Database, store: EventStore) -> list[RecordedEvent]:
    """Events numbered 0..TOTAL-1, one transaction per entry of SIZES, then wait until a
    reader of all events can see them (the horizon is cluster-wide and may lag)."""
    recorded: list[RecordedEvent] = []
    n = 0
    for t, size in enumerate(SIZES):
        async with db.transaction() as conn:
            recorded += await store.append(
                conn, f"stream-{t % 3}", "Counter", None,
                [NewEvent(f"Type{(n + k) % 3}", {"n": n + k}) for k in range(size)])
        n += size
    await wait_visible(db, store, len(recorded))
    return recorded


async def wait_visible(db: Database, store: EventStore, count: int) -> None:
    async with db.connection() as conn:
        await conn.set_autocommit(True)
        try:
            async with asyncio.timeout(15):
                while len(await store.read_all(conn, START, count + 1)) < count:
                    await asyncio.sleep(0.01)
        finally:
            await conn.set_autocommit(False)


async def seen_numbers(db: Database, projection: str = "seen") -> list[int]:
    async with db.connection() as conn:
        cursor = await conn.execute(
            "SELECT n FROM test_projection_seen WHERE projection = %s ORDER BY n", (projection,))
        rows = await cursor.fetchall()
        await conn.rollback()
    return [row["n"] for row in rows]


async def table(db: Database, query: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        rows = await (await conn.execute(query)).fetchall()
        await conn.rollback()
    return rows


async def status_of(runner: ProjectionRunner, name: str) -> ProjectionStatus:
    return next(s for s in await runner.status() if s.name == name)


# --------------------------------------------------------------------------- running


async def test_catch_up_applies_every_event_once_in_commit_order(read_models: Database) -> None:
    db, store = read_models, EventStore()
    recorded = await append_numbered(db, store)
    seen = Seen()
    runner = ProjectionRunner(db, store, [seen], batch_size=10)

    before = await status_of(runner, "seen")
    assert (before.status, before.behind, before.checkpoint) == ("not started", TOTAL, START)

    assert await runner.catch_up("seen") == TOTAL
    assert seen.calls == list(range(TOTAL))
    assert await seen_numbers(db) == list(range(TOTAL))
    assert await runner.catch_up("seen") == 0

    after = await status_of(runner, "seen")
    assert after.status == "running"
    assert after.checkpoint == recorded[-1].checkpoint
    assert after.behind == 0
    assert after.failed_position is None


@pytest.mark.parametrize("bad", [0, 10, 13, TOTAL - 1])
async def test_failing_projection_stops_at_the_event_and_never_skips_it(
    read_models: Database, bad: int
) -> None:
    db, store = read_models, EventStore()
    recorded = await append_numbered(db, store)
    failing = recorded[bad]
    seen = Seen(fail_on=[bad])
    runner = ProjectionRunner(db, store, [seen], batch_size=10)

    with pytest.raises(ProjectionFailed) as caught:
        await runner.catch_up("seen")
    assert caught.value.event.event_id == failing.event_id
    assert isinstance(caught.value.cause, ValueError)
    assert "seen" in runner.failed

    # Everything before the failing event is applied and checkpointed; nothing after it.
    assert await seen_numbers(db) == list(range(bad))
    status = await status_of(runner, "seen")
    assert status.status == "failed"
    assert status.failed_position == failing.position
    assert status.failed_event_type == failing.type
    assert status.error is not None
    assert f"cannot apply event {bad}" in status.error
    assert status.checkpoint == (recorded[bad - 1].checkpoint if bad else START)
    assert status.behind == TOTAL - bad

    # Trying again fails on the same event: it is not skipped.
    with pytest.raises(ProjectionFailed) as again:
        await runner.run_once("seen")
    assert again.value.event.event_id == failing.event_id
    assert await seen_numbers(db) == list(range(bad))

    # Once the projection is fixed, a new worker carries on from the checkpoint.
    seen.fail_on.clear()
    restarted = ProjectionRunner(db, store, [seen], batch_size=10)
    assert await restarted.catch_up("seen") == TOTAL - bad
    assert await seen_numbers(db) == list(range(TOTAL))
    status = await status_of(restarted, "seen")
    assert (status.status, status.failed_position, status.failed_event_type, status.error) == (
        "running", None, None, None)
    assert status.checkpoint == recorded[-1].checkpoint


async def test_worker_cancelled_mid_batch_resumes_without_double_application(
    read_models: Database,
) -> None:
    db, store = read_models, EventStore()
    recorded = await append_numbered(db, store)
    seen = Seen()
    seen.block_on = 13  # the second batch (10..19) is half applied when the worker dies
    runner = ProjectionRunner(db, store, [seen], batch_size=10)

    worker = asyncio.create_task(runner.catch_up("seen"))
    async with asyncio.timeout(10):
        await seen.reached.wait()
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker

    # The half-applied batch vanished with its transaction; its checkpoint did not move.
    assert await seen_numbers(db) == list(range(10))
    status = await status_of(runner, "seen")
    assert status.status == "running"
    assert status.checkpoint == recorded[9].checkpoint

    fresh = Seen()
    restarted = ProjectionRunner(db, store, [fresh], batch_size=10)
    assert await restarted.catch_up("seen") == TOTAL - 10
    assert fresh.calls == list(range(10, TOTAL))
    assert await seen_numbers(db) == list(range(TOTAL))


async def test_worker_whose_connection_dies_resumes_without_double_application(
    read_models: Database,
) -> None:
    db, store = read_models, EventStore()
    recorded = await append_numbered(db, store)
    dying = KillsItsConnection(kill_on=16)
    runner = ProjectionRunner(db, store, [dying], batch_size=10)

    with pytest.raises(psycopg.OperationalError):
        await runner.catch_up("seen")

    # A lost connection is not the event's fault: nothing recorded against the projection.
    assert await seen_numbers(db) == list(range(10))
    status = await status_of(runner, "seen")
    assert (status.status, status.failed_position) == ("running", None)
    assert status.checkpoint == recorded[9].checkpoint
    assert "seen" not in runner.failed

    fresh = Seen()
    restarted = ProjectionRunner(db, store, [fresh], batch_size=10)
    assert await restarted.catch_up("seen") == TOTAL - 10
    assert await seen_numbers(db) == list(range(TOTAL))


async def test_two_workers_and_live_writers_apply_each_event_once(
    read_models: Database,
) -> None:
    db, store = read_models, EventStore()
    projections = [Seen(), Seen()]
    runners = [ProjectionRunner(db, store, [p], batch_size=7) for p in projections]
    stop = asyncio.Event()
    workers = [asyncio.create_task(r.run_forever(0.005, stop)) for r in runners]
    total = 300

    async def writer(w: int) -> None:
        for t in range(total // 30):
            async with db.transaction() as conn:
                await store.append(conn, f"live-{w}-{t % 4}", "Counter", None,
                                   [NewEvent("Live", {"n": w * 1000 + t * 10 + k})
                                    for k in range(3)])
            await asyncio.sleep(0.001)

    try:
        await asyncio.gather(*(writer(w) for w in range(10)))
        async with asyncio.timeout(20):
            while len(await seen_numbers(db)) < total:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*workers)

    numbers = await seen_numbers(db)
    assert len(numbers) == total
    assert len(set(numbers)) == total
    # The two workers shared the work; together each event was applied exactly once.
    calls = projections[0].calls + projections[1].calls
    assert sorted(calls) == numbers
    assert all(not r.failed for r in runners)


async def test_run_forever_carries_on_with_healthy_projections(read_models: Database) -> None:
    db, store = read_models, EventStore()
    await append_numbered(db, store)
    healthy, broken = Seen("healthy"), Seen("broken", fail_on=[7])
    runner = ProjectionRunner(db, store, [broken, healthy], batch_size=10)
    stop = asyncio.Event()
    worker = asyncio.create_task(runner.run_forever(0.005, stop))
    try:
        async with asyncio.timeout(10):
            while len(await seen_numbers(db, "healthy")) < TOTAL:
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await worker
    assert await seen_numbers(db, "healthy") == list(range(TOTAL))
    assert await seen_numbers(db, "broken") == list(range(7))
    assert broken.calls.count(7) == 1  # the worker gave up on it, it did not spin
    assert set(runner.failed) == {"broken"}


# --------------------------------------------------------------------------- rebuilding


async def test_rebuild_of_an_async_projection_gives_the_same_read_model(
    read_models: Database,
) -> None:
    db, store = read_models, EventStore()
    recorded = await append_numbered(db, store)
    counts = EventTypeCounts()
    seen = Seen(fail_on=[20])
    runner = ProjectionRunner(db, store, [seen, counts], batch_size=10)

    with pytest.raises(ProjectionFailed):
        await runner.catch_up("seen")
    assert await runner.catch_up("event_type_counts") == TOTAL
    query = "SELECT event_type, count FROM event_type_counts ORDER BY event_type"
    counted = await table(db, query)
    assert counted == [{"event_type": "Type0", "count": 9}, {"event_type": "Type1", "count": 8},
                       {"event_type": "Type2", "count": 8}]

    assert await runner.rebuild("event_type_counts") == TOTAL
    assert await table(db, query) == counted

    # Rebuilding a failed projection (once fixed) clears its failure and replays it all.
    seen.fail_on.clear()
    seen_query = "SELECT event_id, position, n FROM test_projection_seen ORDER BY position"
    assert await runner.rebuild("seen") == TOTAL
    rebuilt = await table(db, seen_query)
    assert [(r["event_id"], r["position"]) for r in rebuilt] == [
        (e.event_id, e.position) for e in recorded]
    status = await status_of(runner, "seen")
    assert (status.status, status.checkpoint, status.failed_position) == (
        "running", recorded[-1].checkpoint, None)
    assert "seen" not in runner.failed


async def test_rebuild_waits_for_a_worker_in_mid_batch(read_models: Database) -> None:
    """Resetting under a running batch would let that batch commit after the reset and be
    replayed again: the rebuild must wait for the worker's transaction."""
    db, store = read_models, EventStore()
    await append_numbered(db, store)
    busy = Seen()
    busy.block_on = 13
    worker_runner = ProjectionRunner(db, store, [busy], batch_size=10)
    rebuilder = ProjectionRunner(db, store, [Seen()], batch_size=10)

    worker = asyncio.create_task(worker_runner.catch_up("seen"))
    async with asyncio.timeout(10):
        await busy.reached.wait()
    rebuild = asyncio.create_task(rebuilder.rebuild("seen"))
    async with asyncio.timeout(10):  # until the rebuild is blocked on the worker's lock
        while not await table(db, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type ="
                                  " 'Lock' AND datname = current_database()"):
            await asyncio.sleep(0.01)
    busy.release.set()

    async with asyncio.timeout(20):
        await asyncio.gather(worker, rebuild)
    assert not worker_runner.failed
    assert not rebuilder.failed
    assert await seen_numbers(db) == list(range(TOTAL))


async def test_inline_projection_moves_with_the_appending_transaction(
    read_models: Database,
) -> None:
    db = read_models
    upcasters = Upcasters()

    @upcasters.register("Priced", 1)
    def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"n": data["n"], "amount": data["price"]}

    inline = InlineSeen()
    store = EventStore(upcasters=upcasters, inline_projections=[inline])
    runner = ProjectionRunner(db, store, [], batch_size=4)
    query = ("SELECT event_id, stream_id, version, event_type, schema_version, data"
             " FROM test_inline_seen ORDER BY stream_id, version")

    async with db.transaction() as conn:
        await store.append(conn, "a", "Item", NO_STREAM,
                           [NewEvent("Priced", {"n": 1, "price": "5.00"}, schema_version=1),
                            NewEvent("Priced", {"n": 2, "amount": "6.00"}, schema_version=2)])
        # Exact at once: visible inside the appending transaction.
        inside = await (await conn.execute("SELECT count(*) AS n FROM test_inline_seen")).fetchone()
        assert inside == {"n": 2}

    class Abandoned(Exception):
        pass

    async def append_then_give_up() -> None:
        async with db.transaction() as conn:
            await store.append(conn, "b", "Item", NO_STREAM, [NewEvent("Named", {"n": 3})])
            raise Abandoned

    with pytest.raises(Abandoned):
        await append_then_give_up()
    with pytest.raises(ConcurrencyError):
        async with db.transaction() as conn:
            await store.append(conn, "a", "Item", NO_STREAM, [NewEvent("Named", {"n": 4})])

    async with db.transaction() as conn:
        await store.append_many(conn, [
            StreamAppend("a", "Item", 2, [NewEvent("Named", {"n": 5})]),
            StreamAppend("c", "Item", NO_STREAM, [NewEvent("Named", {"n": 6}),
                                                  NewEvent("Named", {"n": 7})]),
        ])
    for k in range(3):
        async with db.transaction() as conn:
            await store.append(conn, "d", "Item", None, [NewEvent("Named", {"n": 10 + k})])

    live = await table(db, query)
    assert [(r["stream_id"], r["version"], r["data"]["n"]) for r in live] == [
        ("a", 1, 1), ("a", 2, 2), ("a", 3, 5), ("c", 1, 6), ("c", 2, 7),
        ("d", 1, 10), ("d", 2, 11), ("d", 3, 12)]
    # The inline read model saw the event upcast, as a replay will.
    assert (live[0]["schema_version"], live[0]["data"]) == (2, {"n": 1, "amount": "5.00"})

    assert await runner.rebuild("inline_seen") == 8
    assert await table(db, query) == live

    statuses = {s.name: s for s in await runner.status()}
    assert statuses["inline_seen"].kind == "inline"
    assert statuses["inline_seen"].status == "in step"


async def test_inline_rebuild_waits_for_writers_in_flight(
    read_models: Database, database_url: str
) -> None:
    db = read_models
    store = EventStore(inline_projections=[InlineSeen()])
    runner = ProjectionRunner(db, store, [])
    async with db.transaction() as conn:
        await store.append(conn, "x", "Item", NO_STREAM, [NewEvent("Named", {"n": 1})])

    writer = await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row)
    try:
        await store.append(writer, "y", "Item", NO_STREAM, [NewEvent("Named", {"n": 2})])
        rebuild = asyncio.create_task(runner.rebuild("inline_seen"))
        await asyncio.sleep(0.1)
        assert not rebuild.done()  # it waits for the writer, whose event it must include
        await writer.commit()
        async with asyncio.timeout(10):
            assert await rebuild == 2
    finally:
        await writer.close()
    rows = await table(db, "SELECT stream_id FROM test_inline_seen ORDER BY stream_id")
    assert rows == [{"stream_id": "x"}, {"stream_id": "y"}]


async def test_inline_rebuild_is_not_cut_short_by_a_transaction_open_elsewhere(
    read_models: Database, database_url: str
) -> None:
    """Under the rebuild's lock every event is final, so the replay reads past the
    horizon that any transaction holding an id (here one that wrote another table) keeps
    back: it must replay the events committed after that transaction began."""
    db = read_models
    store = EventStore(inline_projections=[InlineSeen()])
    runner = ProjectionRunner(db, store, [])
    bystander = await psycopg.AsyncConnection.connect(database_url)
    try:
        await bystander.execute(
            "INSERT INTO test_projection_seen (projection, event_id, position)"
            " VALUES ('bystander', gen_random_uuid(), 0)")  # holds a transaction id
        async with db.transaction() as conn:
            await store.append(conn, "after", "Item", NO_STREAM,
                               [NewEvent("Named", {"n": n}) for n in range(3)])
        async with asyncio.timeout(10):
            assert await runner.rebuild("inline_seen") == 3
    finally:
        await bystander.rollback()
        await bystander.close()
    rows = await table(db, "SELECT version FROM test_inline_seen ORDER BY version")
    assert rows == [{"version": 1}, {"version": 2}, {"version": 3}]


# --------------------------------------------------------------------------- bookkeeping


async def test_projection_names_must_be_unique(db: Database) -> None:
    store = EventStore(inline_projections=[InlineSeen()])
    with pytest.raises(ValueError, match="unique"):
        ProjectionRunner(db, store, [Seen("a"), Seen("a")])
    with pytest.raises(ValueError, match="unique"):
        ProjectionRunner(db, store, [Seen("inline_seen")])
    runner = ProjectionRunner(db, store, [Seen("a")])
    with pytest.raises(KeyError, match="no asynchronous projection"):
        await runner.run_once("inline_seen")
    with pytest.raises(KeyError, match="no asynchronous projection"):
        await runner.rebuild("nothing")
