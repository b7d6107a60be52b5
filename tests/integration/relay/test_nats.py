"""The relay to the machine's NATS JetStream: at least once across a killed relay,
exactly once through the deduplicating consumer, broker-side deduplication by
``Nats-Msg-Id``, and poison events to ``accounting.dead_letter`` without a stop."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from typing import Any
from uuid import UUID, uuid4

import pytest
from relay_harness import STREAM, append_synthetic, relay_env

from saldo.platform.db import Database
from saldo.platform.eventstore import EventStore, Metadata, NewEvent
from saldo.relay.brokers import NatsPublisher
from saldo.relay.consumer import Deduplicator
from saldo.relay.service import Relay

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def drain(js: Any, subject: str = "accounting.>") -> list[Any]:
    """Every message the stream holds on ``subject``, through a fresh pull consumer (each
    message acknowledged, as a real consumer does)."""
    sub = await js.pull_subscribe(subject, durable=f"t{uuid4().hex[:10]}", stream=STREAM)
    import nats

    got: list[Any] = []
    while True:
        try:
            batch = await sub.fetch(500, timeout=1)
        except (nats.errors.TimeoutError, TimeoutError):
            break
        for msg in batch:
            await msg.ack()
        got.extend(batch)
    await sub.unsubscribe()
    return got


async def all_event_ids(db: Database) -> list[UUID]:
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT event_id FROM events ORDER BY transaction_id, position")
        return [r["event_id"] for r in await cursor.fetchall()]


async def relay_row(db: Database, sink: str = "nats") -> dict[str, Any]:
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT * FROM relay_checkpoints WHERE sink = %s", (sink,))
        row = await cursor.fetchone()
        await conn.rollback()
    return dict(row) if row else {"published": 0, "position": 0}


async def test_killed_relay_loses_nothing_and_consumer_sees_each_once(
    db: Database, h: Any, js: Any, nats_url: str, spawn: Any,
) -> None:
    # Real business events first: two posted transactions through the API.
    books = await h.books()
    for amount in ("100.00", "250.50"):
        await books.post([("1110", amount, ""), ("5110", "", amount)])
    await append_synthetic(db, 4000, streams=40)
    expected = await all_event_ids(db)
    total = len(expected)
    assert total > 4000

    env = relay_env(db.url, SALDO_NATS_URL=nats_url, SALDO_NATS_STREAM=STREAM,
                    SALDO_RELAY_BATCH_SIZE="25")
    first = spawn(env, "--sink", "nats")
    deadline = time.monotonic() + 60
    while (await relay_row(db))["published"] < 300:  # mid-stream: some batches passed
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < deadline, "the relay published nothing"
        await asyncio.sleep(0.01)
    first.send_signal(signal.SIGKILL)  # no goodbye: mid-batch, connections dropped
    first.wait(timeout=10)
    at_kill = (await relay_row(db))["published"]
    assert 300 <= at_kill < total, "killed mid-stream"

    second = spawn(env, "--sink", "nats")
    deadline = time.monotonic() + 120
    while (await relay_row(db))["position"] < max_position(await positions(db)):
        assert second.poll() is None, second.stderr.read() if second.stderr else ""
        assert time.monotonic() < deadline, "the restarted relay did not catch up"
        await asyncio.sleep(0.05)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0

    messages = await drain(js)
    ids = [UUID(json.loads(m.data)["id"]) for m in messages]
    # At least once: every event arrived. (JetStream dropped most repeats by
    # Nats-Msg-Id; whatever got through is the consumer's to drop.)
    assert set(ids) == set(expected)
    assert all(m.headers["Nats-Msg-Id"] == json.loads(m.data)["id"] for m in messages)
    # A stream's events arrive in stream order.
    by_stream: dict[str, list[int]] = {}
    for m in messages:
        body = json.loads(m.data)
        by_stream.setdefault(body["subject"], []).append(body["sequence"])
    assert all(seqs == sorted(seqs) for seqs in by_stream.values())

    # Exactly once through the deduplicating consumer, even delivered twice over.
    handled: list[UUID] = []

    async def apply(_conn: Any, envelope: dict[str, Any]) -> None:
        handled.append(UUID(envelope["id"]))

    dedup = Deduplicator(db, "test-consumer")
    for message in messages + messages:
        await dedup.handle(message.data, apply)
    assert sorted(handled) == sorted(expected)
    assert len(handled) == total


async def positions(db: Database) -> list[int]:
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT position FROM events")
        return [r["position"] for r in await cursor.fetchall()]


def max_position(values: list[int]) -> int:
    return max(values) if values else 0


async def test_replay_is_deduplicated_by_the_broker(db: Database, js: Any,
                                                    nats_url: str) -> None:
    ids = await append_synthetic(db, 200, streams=4)
    publisher = NatsPublisher(nats_url, stream=STREAM)
    await publisher.start()
    try:
        relay = Relay(db, EventStore(), publisher, batch_size=64)
        assert await relay.catch_up() == 200
        async with db.transaction() as conn:  # lose the checkpoint: everything again
            await conn.execute("DELETE FROM relay_checkpoints")
        assert await relay.catch_up() == 200
    finally:
        await publisher.close()
    info = await js.stream_info(STREAM)
    assert info.state.messages == 200  # the 200 repeats were dropped by Nats-Msg-Id
    assert {UUID(json.loads(m.data)["id"]) for m in await drain(js)} == set(ids)


async def test_poison_event_goes_to_dead_letter_and_relay_goes_on(
    db: Database, js: Any, nats_url: str,
) -> None:
    before = await append_synthetic(db, 10, streams=2)
    store = EventStore()
    poison_id, big_id = uuid4(), uuid4()
    async with db.transaction() as conn:
        # Breaks TransactionPosted's documented schema (v1 requires number, fiscal_year).
        await store.append(conn, f"tx-{uuid4()}", "journal_transaction", 0,
                           [NewEvent("TransactionPosted", {"by": "x"}, event_id=poison_id)],
                           Metadata(actor="test"))
        # Larger than the server's max_payload (1 MiB by default): refused for good.
        await store.append(conn, f"doc-{uuid4()}", "document", 0,
                           [NewEvent("DocumentStored", {"blob": "x" * 1_100_000},
                                     event_id=big_id)], Metadata(actor="test"))
    after = await append_synthetic(db, 10, streams=2)

    publisher = NatsPublisher(nats_url, stream=STREAM)
    await publisher.start()
    try:
        relay = Relay(db, EventStore(), publisher, batch_size=500)
        assert await relay.catch_up() == 22
    finally:
        await publisher.close()

    letters = await drain(js, "accounting.dead_letter")
    bodies = {json.loads(m.data)["event"]["id"]: json.loads(m.data) for m in letters}
    assert set(bodies) == {str(poison_id), str(big_id)}
    assert "number" in bodies[str(poison_id)]["error"]
    assert "max_payload" in bodies[str(big_id)]["error"]
    assert bodies[str(poison_id)]["kind"] == "dead_letter"
    published = {UUID(json.loads(m.data)["id"]) for m in await drain(js, "accounting.LoadTested")}
    assert published == set(before) | set(after)  # the events after the poison went on
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT event_id FROM relay_dead_letters ORDER BY position")
        assert [r["event_id"] for r in await cursor.fetchall()] == [poison_id, big_id]
        row = await (await conn.execute("SELECT published, dead_letters FROM relay_checkpoints"
                                        )).fetchone()
    assert row is not None
    assert (row["published"], row["dead_letters"]) == (20, 2)
