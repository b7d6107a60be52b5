"""The event store's contract, run against every PostgreSQL server the suite knows.

The properties that matter most are the ones a single-threaded test cannot see:
optimistic concurrency between writers that truly overlap, and a reader of all events
that delivers every committed event exactly once, in commit order, even when a writer
that began early commits late.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from saldo.kernel.errors import ConcurrencyError, Conflict
from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import (
    NO_STREAM,
    START,
    Checkpoint,
    EventStore,
    Metadata,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamAppend,
    Upcasters,
)

pytestmark = pytest.mark.integration


@asynccontextmanager
async def raw_connection(url: str) -> AsyncIterator[Connection]:
    """A connection of its own, outside the pool: one per simulated process."""
    conn = await psycopg.AsyncConnection.connect(url, row_factory=dict_row)
    try:
        yield conn
    finally:
        await conn.close()


def event(n: int, type_: str = "Counted", **extra: Any) -> NewEvent:
    return NewEvent(type_, {"n": n, **extra})


async def stream_rows(db: Database, stream_id: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        cursor = await conn.execute(
            "SELECT event_id, version, event_type, schema_version, data FROM events"
            " WHERE stream_id = %s ORDER BY version",
            (stream_id,),
        )
        rows = await cursor.fetchall()
        await conn.rollback()
    return rows


async def poll_until(
    store: EventStore, conn: Connection, after: Checkpoint, want: int, timeout: float = 15.0
) -> list[RecordedEvent]:
    """Read all events after ``after`` until ``want`` arrived.

    The xid8 horizon is cluster-wide: a transaction left open by anyone on the server holds
    every reader back. That can only delay delivery, never reorder or skip it, so tests wait
    (with a bound) instead of assuming the very next poll sees a commit.
    """
    seen: list[RecordedEvent] = []
    checkpoint = after
    async with asyncio.timeout(timeout):
        while len(seen) < want:
            batch = await store.read_all(conn, checkpoint)
            seen.extend(batch)
            if batch:
                checkpoint = batch[-1].checkpoint
            else:
                await asyncio.sleep(0.01)
    return seen


# --------------------------------------------------------------------------- appending


async def test_append_assigns_consecutive_versions_and_records_metadata(db: Database) -> None:
    store = EventStore()
    company = UUID("0190c2a4-0000-7000-8000-000000000001")
    meta = Metadata(actor="nino", company_id=company, correlation_id="req-1")
    async with db.transaction() as conn:
        first = await store.append(conn, "acct-1", "Account", NO_STREAM, [event(1), event(2)], meta)
        second = await store.append(conn, "acct-1", "Account", 2, [event(3)])

    assert [e.version for e in first + second] == [1, 2, 3]
    assert [e.data for e in first + second] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert first[0].metadata == {"actor": "nino", "company_id": str(company),
                                 "correlation_id": "req-1"}
    assert first[0].company_id == company
    assert second[0].metadata == {}
    # Events of one transaction share its id; positions rise within it.
    assert first[0].transaction_id == first[1].transaction_id == second[0].transaction_id
    assert first[0].position < first[1].position < second[0].position

    async with db.connection() as conn:
        assert await store.stream_version(conn, "acct-1") == 3
        assert await store.stream_version(conn, "no-such-stream") == 0
        read = await store.read_stream(conn, "acct-1")
        after_one = await store.read_stream(conn, "acct-1", after_version=1)
        await conn.rollback()
    assert read == first + second
    assert [e.version for e in after_one] == [2, 3]


async def test_append_of_nothing_writes_nothing(db: Database) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        assert await store.append(conn, "empty", "Account", NO_STREAM, []) == []
        assert await store.append_many(conn, []) == []
    assert await stream_rows(db, "empty") == []


async def test_decimals_travel_as_strings_never_floats(db: Database) -> None:
    from decimal import Decimal

    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "money", "Account", NO_STREAM,
                           [NewEvent("Posted", {"amount": Decimal("0.10")})])
    rows = await stream_rows(db, "money")
    assert rows[0]["data"] == {"amount": "0.10"}


@pytest.mark.parametrize(("expected", "label"), [(1, "too low"), (3, "too high"),
                                                 (NO_STREAM, "no stream")])
async def test_wrong_expected_version_is_refused(db: Database, expected: int, label: str) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "acct-2", "Account", NO_STREAM, [event(1), event(2)])

    with pytest.raises(ConcurrencyError) as caught:
        async with db.transaction() as conn:
            await store.append(conn, "acct-2", "Account", expected, [event(3)])
    assert caught.value.stream_id == "acct-2", label
    assert caught.value.expected == expected
    assert caught.value.actual == 2
    assert [r["version"] for r in await stream_rows(db, "acct-2")] == [1, 2]


async def test_expected_version_none_appends_at_the_end(db: Database) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "acct-3", "Account", None, [event(1)])
        await store.append(conn, "acct-3", "Account", None, [event(2), event(3)])
    rows = await stream_rows(db, "acct-3")
    assert [(r["version"], r["data"]["n"]) for r in rows] == [(1, 1), (2, 2), (3, 3)]


async def test_reusing_an_event_id_is_a_conflict_not_a_version_clash(db: Database) -> None:
    store = EventStore()
    first = event(1)
    async with db.transaction() as conn:
        await store.append(conn, "acct-4", "Account", NO_STREAM, [first])
    with pytest.raises(Conflict) as caught:
        async with db.transaction() as conn:
            await store.append(conn, "acct-5", "Account", NO_STREAM, [first])
    assert not isinstance(caught.value, ConcurrencyError)
    assert caught.value.data["event_id"] == first.event_id
    assert await stream_rows(db, "acct-5") == []


async def test_concurrent_appenders_at_one_version_exactly_one_wins(
    db: Database, database_url: str
) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "contested", "Account", NO_STREAM, [event(0)])

    writers = 8
    barrier = asyncio.Barrier(writers)
    batches = [[event(w, writer=w), event(w, writer=w, second=True)] for w in range(writers)]

    async def contender(w: int) -> list[RecordedEvent]:
        async with raw_connection(database_url) as conn:
            async with conn.transaction():
                await barrier.wait()  # all eight transactions are open before anyone appends
                recorded = await store.append(conn, "contested", "Account", 1, batches[w])
                # Hold the transaction open so the losers are still racing the winner.
                await asyncio.sleep(0.05)
            return recorded

    results = await asyncio.gather(*(contender(w) for w in range(writers)),
                                   return_exceptions=True)

    winners = [w for w, r in enumerate(results) if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == writers - 1
    assert all(isinstance(e, ConcurrencyError) for e in losers), losers
    assert all(e.stream_id == "contested" and e.expected == 1 for e in losers)  # type: ignore[attr-defined]

    rows = await stream_rows(db, "contested")
    winner_ids = [e.event_id for e in batches[winners[0]]]
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert [r["event_id"] for r in rows[1:]] == winner_ids
    async with db.connection() as conn:
        total = await (await conn.execute("SELECT count(*) AS n FROM events")).fetchone()
        await conn.rollback()
    assert total == {"n": 3}  # not one row of any loser


async def test_concurrent_creators_of_one_stream_exactly_one_wins(
    db: Database, database_url: str
) -> None:
    store = EventStore()
    writers = 6
    barrier = asyncio.Barrier(writers)

    async def creator(w: int) -> int:
        async with raw_connection(database_url) as conn:
            async with conn.transaction():
                await barrier.wait()
                await store.append(conn, "new-stream", "Account", NO_STREAM, [event(w)])
                await asyncio.sleep(0.05)
            return w

    results = await asyncio.gather(*(creator(w) for w in range(writers)), return_exceptions=True)
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert all(isinstance(r, ConcurrencyError) for r in results if not isinstance(r, int))
    rows = await stream_rows(db, "new-stream")
    assert [(r["version"], r["data"]["n"]) for r in rows] == [(1, winners[0])]


# --------------------------------------------------------------------------- batched appends


async def test_append_many_writes_every_stream_in_one_transaction(db: Database) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "b", "Account", NO_STREAM, [event(1)])
    async with db.transaction() as conn:
        recorded = await store.append_many(conn, [
            StreamAppend("a", "Account", NO_STREAM, [event(1), event(2)], Metadata(actor="x")),
            StreamAppend("b", "Account", 1, [event(2)]),
        ])
    assert [(e.stream_id, e.version) for e in recorded] == [("a", 1), ("a", 2), ("b", 2)]
    assert recorded[0].metadata == {"actor": "x"}
    assert len({e.transaction_id for e in recorded}) == 1
    assert [r["version"] for r in await stream_rows(db, "a")] == [1, 2]
    assert [r["version"] for r in await stream_rows(db, "b")] == [1, 2]


async def test_append_many_is_all_or_nothing_and_names_the_stream_that_moved(
    db: Database,
) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "moved", "Account", NO_STREAM, [event(1), event(2)])

    async with db.transaction() as conn:
        with pytest.raises(ConcurrencyError) as caught:
            await store.append_many(conn, [
                StreamAppend("fresh", "Account", NO_STREAM, [event(1)]),
                StreamAppend("moved", "Account", 1, [event(3)]),
            ])
        # Nothing of the batch was written, even inside the caller's transaction.
        left = await (await conn.execute("SELECT count(*) AS n FROM events")).fetchone()
        assert left == {"n": 2}
    assert caught.value.stream_id == "moved"
    assert caught.value.expected == 1
    assert caught.value.actual == 2
    assert await stream_rows(db, "fresh") == []


async def test_append_many_of_new_streams_refuses_one_that_exists(db: Database) -> None:
    # All-new batches skip the guard: the unique key (stream_id, version 1) is the check.
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "taken", "Account", NO_STREAM, [event(1)])

    async with db.transaction() as conn:
        with pytest.raises(ConcurrencyError) as caught:
            await store.append_many(conn, [
                StreamAppend("new-1", "Account", NO_STREAM, [event(1), event(2)]),
                StreamAppend("taken", "Account", NO_STREAM, [event(3)]),
            ])
    assert caught.value.stream_id == "taken"
    assert await stream_rows(db, "new-1") == []
    assert [r["version"] for r in await stream_rows(db, "taken")] == [1]


async def test_append_many_refuses_a_stream_named_twice_or_no_expected_version(
    db: Database,
) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        with pytest.raises(ValueError, match="twice"):
            await store.append_many(conn, [StreamAppend("x", "A", NO_STREAM, [event(1)]),
                                           StreamAppend("x", "A", 1, [event(2)])])
        with pytest.raises(ValueError, match="expected version"):
            await store.append_many(conn, [StreamAppend("y", "A", None, [event(1)])])
    assert await stream_rows(db, "x") == []


# --------------------------------------------------------------------------- reading all


async def test_read_all_pages_through_commit_order(db: Database) -> None:
    store = EventStore()
    for t in range(5):
        async with db.transaction() as conn:
            await store.append(conn, f"s{t % 2}", "Account", None, [event(t), event(t)])

    async with db.connection() as conn:
        await conn.set_autocommit(True)
        everything = await poll_until(store, conn, START, 10)
        pages: list[RecordedEvent] = []
        checkpoint = START
        while page := await store.read_all(conn, checkpoint, limit=3):
            assert len(page) <= 3
            pages.extend(page)
            checkpoint = page[-1].checkpoint
        await conn.set_autocommit(False)

    assert pages == everything
    assert [e.data["n"] for e in everything] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    keys = [e.checkpoint for e in everything]
    assert keys == sorted(keys)
    assert len(set(keys)) == 10


async def test_late_committer_is_not_skipped(db: Database, database_url: str) -> None:
    """A (early xid, low position) commits after B: the reader must wait for A, then get it."""
    store = EventStore()
    async with (
        raw_connection(database_url) as a,
        raw_connection(database_url) as b,
        raw_connection(database_url) as reader,
    ):
        await reader.set_autocommit(True)

        # Not autocommit: the first statement opens A's transaction and fixes its xid.
        a_xid = (await (await a.execute("SELECT pg_current_xact_id()::text AS x")).fetchone())["x"]
        [a_event] = await store.append(a, "late", "Account", NO_STREAM, [event(1, "Late")])

        async with b.transaction():
            [b_event] = await store.append(b, "early", "Account", NO_STREAM, [event(2, "Early")])

        # A really began first: lower transaction id and lower position, yet uncommitted.
        assert a_event.transaction_id == int(a_xid)
        assert a_event.transaction_id < b_event.transaction_id
        assert a_event.position < b_event.position

        # B is committed, but while A is open the reader must not move past A.
        for _ in range(5):
            assert await store.read_all(reader, START) == []
            await asyncio.sleep(0.01)

        await a.commit()

        delivered = await poll_until(store, reader, START, 2)
        assert [e.event_id for e in delivered] == [a_event.event_id, b_event.event_id]
        # Nothing is delivered twice: from the last checkpoint there is nothing more.
        assert await store.read_all(reader, delivered[-1].checkpoint) == []
        assert await store.read_all(reader, delivered[0].checkpoint) == delivered[1:]


async def test_late_committer_after_reader_already_advanced(
    db: Database, database_url: str
) -> None:
    """The reader has a checkpoint past earlier events when A and B race."""
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "before", "Account", NO_STREAM, [event(0)])

    async with (
        raw_connection(database_url) as a,
        raw_connection(database_url) as b,
        raw_connection(database_url) as reader,
    ):
        await reader.set_autocommit(True)
        [first] = await poll_until(store, reader, START, 1)
        checkpoint = first.checkpoint

        [a_event] = await store.append(a, "late", "Account", NO_STREAM, [event(1)])
        async with b.transaction():
            [b_event] = await store.append(b, "early", "Account", NO_STREAM, [event(2)])
        assert a_event.checkpoint < b_event.checkpoint

        assert await store.read_all(reader, checkpoint) == []
        await a.commit()
        delivered = await poll_until(store, reader, checkpoint, 2)
        assert [e.event_id for e in delivered] == [a_event.event_id, b_event.event_id]


async def test_rolled_back_events_are_never_delivered(db: Database, database_url: str) -> None:
    store = EventStore()
    async with raw_connection(database_url) as a, raw_connection(database_url) as reader:
        await reader.set_autocommit(True)
        await store.append(a, "ghost", "Account", NO_STREAM, [event(1)])
        await a.rollback()
        async with a.transaction():
            [kept] = await store.append(a, "kept", "Account", NO_STREAM, [event(2)])
        delivered = await poll_until(store, reader, START, 1)
        await asyncio.sleep(0.05)
        assert delivered + await store.read_all(reader, delivered[-1].checkpoint) == [kept]


async def test_many_concurrent_writers_are_seen_exactly_once_in_commit_order(
    db: Database, database_url: str
) -> None:
    store = EventStore()
    writers, transactions = 8, 200
    rng = random.Random(20240611)
    plans = [
        [(rng.randint(1, 3), rng.random() < 0.2, rng.random() * 0.002) for _ in range(transactions)]
        for _ in range(writers)
    ]
    committed: set[UUID] = set()
    by_transaction: dict[int, list[UUID]] = {}

    async def writer(w: int) -> None:
        versions: dict[str, int] = {}
        async with raw_connection(database_url) as conn:
            for t, (size, batched, delay) in enumerate(plans[w]):
                async with conn.transaction():
                    if batched:  # several streams in one statement
                        appends = [
                            StreamAppend(f"w{w}-s{(t + k) % 7}", "Account",
                                         versions.get(f"w{w}-s{(t + k) % 7}", NO_STREAM),
                                         [event(t, writer=w)])
                            for k in range(size)
                        ]
                        recorded = await store.append_many(conn, appends)
                    else:
                        stream = f"w{w}-s{t % 7}"
                        recorded = await store.append(
                            conn, stream, "Account", versions.get(stream, NO_STREAM),
                            [event(t, writer=w) for _ in range(size)])
                    # Dawdle inside the transaction so commits interleave out of xid order.
                    await asyncio.sleep(delay)
                for e in recorded:
                    versions[e.stream_id] = e.version
                    committed.add(e.event_id)
                    by_transaction.setdefault(e.transaction_id, []).append(e.event_id)

    seen: list[RecordedEvent] = []

    async def subscriber() -> None:
        async with aclosing(store.subscribe(db.connection, poll_interval=0.005,
                                            batch_size=97)) as events:
            async for e in events:
                seen.append(e)

    following = asyncio.create_task(subscriber())
    try:
        async with asyncio.timeout(60):
            await asyncio.gather(*(writer(w) for w in range(writers)))
        # Wait (bounded) for the subscriber to catch up; a skipped event never arrives.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while len(seen) < len(committed):
                    await asyncio.sleep(0.01)
        # Linger a moment: anything delivered now would be a duplicate or a ghost.
        await asyncio.sleep(0.1)
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following

    ids = [e.event_id for e in seen]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    assert set(ids) == committed, "an event was skipped or a ghost delivered"
    assert len(committed) == sum(
        size for plan in plans for size, _, _ in plan
    )

    # Commit order: transaction ids never go back, each transaction's events arrive
    # together and in position order.
    xids = [e.transaction_id for e in seen]
    assert xids == sorted(xids)
    for xid, expected in by_transaction.items():
        got = [e for e in seen if e.transaction_id == xid]
        assert [e.event_id for e in got] == expected
        first = ids.index(got[0].event_id)
        assert ids[first:first + len(got)] == expected
        assert [e.position for e in got] == sorted(e.position for e in got)

    # Every stream is gap-free.
    async with db.connection() as conn:
        gaps = await (await conn.execute(
            "SELECT stream_id FROM events GROUP BY stream_id"
            " HAVING max(version) <> count(*) OR min(version) <> 1"
        )).fetchall()
        await conn.rollback()
    assert gaps == []


async def committed_and_visible(
    db: Database, store: EventStore, stream: str, count: int
) -> list[RecordedEvent]:
    """``count`` events appended to a new stream, once a reader of all events sees them."""
    async with db.transaction() as conn:
        recorded = await store.append(conn, stream, "Account", NO_STREAM,
                                      [event(n) for n in range(count)])
    async with db.connection() as conn:
        await conn.set_autocommit(True)
        await poll_until(store, conn, START, count)
        await conn.set_autocommit(False)
    return recorded


async def test_subscribe_from_a_checkpoint_and_stop_when_caught_up(db: Database) -> None:
    store = EventStore()
    recorded = await committed_and_visible(db, store, "sub", 5)

    everything = [e async for e in store.subscribe(db.connection, stop_when_caught_up=True,
                                                   batch_size=2)]
    rest = [e async for e in store.subscribe(db.connection, recorded[1].checkpoint,
                                             stop_when_caught_up=True)]
    assert [e.event_id for e in everything] == [e.event_id for e in recorded]
    assert [e.event_id for e in rest] == [e.event_id for e in recorded[2:]]

    # The pooled connection is handed back in its usual mode.
    async with db.connection() as conn:
        assert conn.autocommit is False


async def test_a_subscriber_stopped_early_hands_both_connections_back(
    db: Database, database_url: str
) -> None:
    """subscribe() reads the next page ahead on its second connection; a caller that stops
    in the middle must get both back idle and in their usual mode, with no page lost for
    the next subscriber."""
    store = EventStore()
    pair = Database(database_url, min_size=2, max_size=2)  # exactly the two it holds
    await pair.open()
    try:
        recorded = await committed_and_visible(db, store, "early", 10)

        got: list[RecordedEvent] = []
        async with aclosing(store.subscribe(pair.connection, START, batch_size=2,
                                            stop_when_caught_up=True)) as events:
            async for e in events:
                got.append(e)
                if len(got) == 3:  # inside the second page; the third is read ahead
                    break
        assert [e.event_id for e in got] == [e.event_id for e in recorded[:3]]

        async with pair.connection() as first, pair.connection() as second:
            for conn in (first, second):
                assert conn.autocommit is False
                assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        again = [e async for e in store.subscribe(pair.connection, got[-1].checkpoint,
                                                  batch_size=2, stop_when_caught_up=True)]
        assert [e.event_id for e in again] == [e.event_id for e in recorded[3:]]
    finally:
        await pair.close()


async def test_a_subscriber_cancelled_mid_page_hands_both_connections_back(
    db: Database, database_url: str
) -> None:
    """Cancelling the task that follows the log, while the next page is read ahead, must
    leave no query running on a connection that goes back to the pool."""
    store = EventStore()
    pair = Database(database_url, min_size=2, max_size=2)
    await pair.open()
    try:
        await committed_and_visible(db, store, "cancelled", 10)
        reached = asyncio.Event()

        async def follow() -> None:
            async with aclosing(store.subscribe(pair.connection, START, batch_size=2,
                                                stop_when_caught_up=True)) as events:
                async for e in events:
                    if e.version == 3:  # inside the second page; the third is read ahead
                        reached.set()
                        await asyncio.sleep(3600)

        following = asyncio.create_task(follow())
        async with asyncio.timeout(10):
            await reached.wait()
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following

        async with asyncio.timeout(10), pair.connection() as first, \
                pair.connection() as second:
            for conn in (first, second):
                assert conn.autocommit is False
                assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                assert (await (await conn.execute("SELECT 1 AS one")).fetchone()) == {"one": 1}
    finally:
        await pair.close()


# --------------------------------------------------------------------------- snapshots


async def test_snapshot_round_trip_newer_wins(db: Database) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "long", "Account", NO_STREAM, [event(n) for n in range(1, 7)])
        assert await store.load_snapshot(conn, "long") is None
        snapshot, events = await store.load(conn, "long")
        assert snapshot is None
        assert [e.version for e in events] == [1, 2, 3, 4, 5, 6]

        await store.save_snapshot(conn, Snapshot("long", "Account", 3, {"total": 6}))
        assert await store.load_snapshot(conn, "long") == Snapshot(
            "long", "Account", 3, {"total": 6})

        await store.save_snapshot(conn, Snapshot("long", "Account", 5, {"total": 15},
                                                 schema_version=2))
        # An older snapshot arriving late does not replace the newer one.
        await store.save_snapshot(conn, Snapshot("long", "Account", 4, {"total": 10}))
        await store.save_snapshot(conn, Snapshot("long", "Account", 5, {"total": -1}))

        snapshot, events = await store.load(conn, "long")
    assert snapshot == Snapshot("long", "Account", 5, {"total": 15}, schema_version=2)
    assert [e.version for e in events] == [6]
    assert events[0].data == {"n": 6}


# --------------------------------------------------------------------------- upcasting


def three_versions() -> Upcasters:
    upcasters = Upcasters()

    @upcasters.register("PriceSet", 1)
    def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"amount": data["price"], "currency": "GEL"}

    @upcasters.register("PriceSet", 2)
    def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {"money": {"amount": data["amount"], "currency": data["currency"]}}

    return upcasters


async def test_old_schema_is_upcast_on_read_and_stored_row_is_unchanged(db: Database) -> None:
    store = EventStore(upcasters=three_versions())
    async with db.transaction() as conn:
        await store.append(conn, "item", "Item", NO_STREAM, [
            NewEvent("PriceSet", {"price": "10.00"}, schema_version=1),
            NewEvent("PriceSet", {"amount": "11.00", "currency": "USD"}, schema_version=2),
            NewEvent("PriceSet", {"money": {"amount": "12.00", "currency": "EUR"}},
                     schema_version=3),
            NewEvent("Renamed", {"name": "x"}, schema_version=1),
        ])
    want = [
        (3, {"money": {"amount": "10.00", "currency": "GEL"}}),
        (3, {"money": {"amount": "11.00", "currency": "USD"}}),
        (3, {"money": {"amount": "12.00", "currency": "EUR"}}),
        (1, {"name": "x"}),
    ]
    async with db.connection() as conn:
        await conn.set_autocommit(True)
        from_stream = await store.read_stream(conn, "item")
        from_all = await poll_until(store, conn, START, 4)
        _, loaded = await store.load(conn, "item")
        await conn.set_autocommit(False)
    for read in (from_stream, from_all, loaded):
        assert [(e.schema_version, e.data) for e in read] == want

    rows = await stream_rows(db, "item")
    assert [(r["schema_version"], r["data"]) for r in rows] == [
        (1, {"price": "10.00"}),
        (2, {"amount": "11.00", "currency": "USD"}),
        (3, {"money": {"amount": "12.00", "currency": "EUR"}}),
        (1, {"name": "x"}),
    ]


async def test_read_all_json_is_read_all_undecoded_and_decode_upcasts(db: Database) -> None:
    store = EventStore(upcasters=three_versions())
    async with db.transaction() as conn:
        await store.append(conn, "priced", "Item", NO_STREAM, [
            NewEvent("PriceSet", {"price": "10.00"}, schema_version=1),
            NewEvent("Renamed", {"name": "ნ", "lines": [1, 2]}),
        ], Metadata(actor="clerk", correlation_id="c-9"))
    async with db.connection() as conn:
        await conn.set_autocommit(True)
        decoded = await poll_until(store, conn, START, 2)
        stored = await store.read_all_json(conn, START, 10)
        page = await store.read_all_json(conn, stored[0].checkpoint, 10)
        await conn.set_autocommit(False)
    assert [e.event_id for e in stored] == [e.event_id for e in decoded]
    assert page == stored[1:]
    first, second = stored
    # As stored: the JSON text PostgreSQL prints, version 1, nothing upcast.
    assert (first.schema_version, json.loads(first.data)) == (1, {"price": "10.00"})
    assert json.loads(first.metadata)["actor"] == "clerk"
    assert json.loads(second.data) == {"lines": [1, 2], "name": "ნ"}
    assert first.checkpoint == decoded[0].checkpoint
    # decode() is what read_all() gives, upcast to the newest version.
    assert store.decode(first) == decoded[0]
    assert store.decode(first).data == {"money": {"amount": "10.00", "currency": "GEL"}}
    assert store.upcasters.covers("PriceSet")
    assert not store.upcasters.covers("Renamed")


# --------------------------------------------------------------------------- immutability


@pytest.mark.parametrize("statement", [
    "UPDATE events SET data = '{}'::jsonb",
    "UPDATE events SET stream_id = 'elsewhere'",
    "DELETE FROM events",
])
async def test_events_are_immutable(db: Database, statement: str) -> None:
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "fixed", "Account", NO_STREAM, [event(1)])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        async with db.transaction() as conn:
            await conn.execute(statement)
    rows = await stream_rows(db, "fixed")
    assert [(r["version"], r["data"]) for r in rows] == [(1, {"n": 1})]


async def test_appends_are_counted_in_the_metrics(db: Database) -> None:
    from saldo.platform.metrics import REGISTRY

    def appended() -> float:
        return REGISTRY.get_sample_value("saldo_events_appended_total") or 0.0

    before = appended()
    store = EventStore()
    async with db.transaction() as conn:
        await store.append(conn, "counted", "Account", NO_STREAM, [event(1), event(2)])
        await store.append_many(conn, [StreamAppend("counted-2", "Account", NO_STREAM,
                                                    [event(3)])])
    assert appended() == before + 3
