"""A round's bookkeeping against a broker that is only a list (decision 0068): the next
batch read while one is encoded, checkpoints saved in the background yet in order and
only past what was acknowledged, and a failed save that ends the round."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest
from relay_harness import append_synthetic, publish_everything

from saldo.platform.db import Database
from saldo.platform.eventstore import Checkpoint, EventStore
from saldo.relay import service, store
from saldo.relay.brokers import ACKED, FuturePending, Outcome, Pending
from saldo.relay.domain import Message
from saldo.relay.service import Relay

pytestmark = [pytest.mark.integration]


class ListBroker:
    """Acknowledges everything, a little later (as a broker does), and keeps it."""

    sink = "memory"

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def start(self) -> None: ...

    async def send(self, messages: Sequence[Message]) -> Pending:
        self.messages.extend(messages)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in messages]
        for future in futures:
            loop.call_later(0.001, future.set_result, ACKED)
        return FuturePending(futures, lambda f: f.result() if f.done() else Outcome(False),
                             loop.time() + 10)

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        return await (await self.send(messages)).outcomes()

    async def close(self) -> None: ...


async def test_every_event_once_in_commit_order_and_checkpoints_only_forward(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = await append_synthetic(db, 200, streams=8)
    saved: list[Checkpoint] = []
    advance = store.advance

    async def recording(conn: Any, sink: str, to: Checkpoint, published: int,
                        dead: int) -> None:
        await asyncio.sleep(0.005)  # a commit that waits for the disk
        saved.append(to)
        await advance(conn, sink, to, published, dead)

    monkeypatch.setattr(service.store, "advance", recording)
    broker = ListBroker()
    relay = Relay(db, EventStore(), broker, batch_size=30, in_flight=3, round_batches=4)
    assert await publish_everything(relay, db) == 200
    assert [m.event_id for m in broker.messages] == ids
    assert len(saved) == 7  # 200 events in batches of 30, each saved
    assert saved == sorted(saved)
    assert len(set(saved)) == len(saved)
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT published FROM relay_checkpoints WHERE sink = %s",
                                    (broker.sink,))
        row = await cursor.fetchone()
        await conn.rollback()
    assert row is not None
    assert row["published"] == 200


async def test_a_checkpoint_that_cannot_be_saved_ends_the_round(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    await append_synthetic(db, 100, streams=5)
    calls = 0
    advance = store.advance

    async def second_fails(conn: Any, sink: str, to: Checkpoint, published: int,
                           dead: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        await advance(conn, sink, to, published, dead)

    monkeypatch.setattr(service.store, "advance", second_fails)
    broker = ListBroker()
    relay = Relay(db, EventStore(), broker, batch_size=20, in_flight=2)

    async def rounds_until_the_failure() -> None:
        # On a server shared with other tests an open transaction elsewhere can hold the
        # commit-order horizon back for a moment (decision 0003): a round may then pass
        # fewer batches, and the relay simply runs another, as in production.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await relay.run_once(max_batches=5)
            await asyncio.sleep(0.05)

    with pytest.raises(RuntimeError, match="disk full"):
        await rounds_until_the_failure()
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT published FROM relay_checkpoints WHERE sink = %s",
                                    (broker.sink,))
        row = await cursor.fetchone()
        await conn.rollback()
    assert row is not None
    assert row["published"] == 20  # the first batch's checkpoint, not beyond the failure
