"""Relay benchmark: events published to NATS JetStream per second, against reading the
event store alone, in the same run (issue 18 target: ratio ≥ 0.5).

    .venv/bin/python bench/relay.py                       # embedded PostgreSQL, 20,000 events
    .venv/bin/python bench/relay.py --events 5000 --rounds 2
    .venv/bin/python bench/relay.py --nats-url nats://127.0.0.1:4222 --database-url postgresql://…

Each round: the same events are read from the log in commit order in batches of
``--batch`` (``EventStore.read_all``: the reference, what any projection pays), then the
relay (``Relay.catch_up``, same batch size, ``--in-flight`` batches out at once) reads
them, builds and validates each envelope, publishes to a freshly created stream, waits for
every acknowledgement and saves its checkpoints. A third measure, raw JetStream through
the same publisher without the database or envelopes, shows what the broker and client
alone allow. The stream is deleted and made again before each relay run, so JetStream's
duplicate window never turns a publish into a cheap duplicate. Rates and the ratio are the
median over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import deque
from uuid import uuid4

from common import database_argument, migrated, progress, server
from saldo.platform.db import Database
from saldo.platform.eventstore import START, EventStore, Metadata, NewEvent, StreamAppend
from saldo.relay.brokers import NatsPublisher, Pending
from saldo.relay.domain import Message
from saldo.relay.service import Relay

STREAM = "SALDO_BENCH_ACCOUNTING"


async def fill(db: Database, count: int) -> None:
    store = EventStore()
    per_tx = 1000
    company = uuid4()
    for start in range(0, count, per_tx):
        async with db.transaction() as conn:
            appends = [StreamAppend(f"bench-{uuid4()}", "journal_transaction", 0, [
                NewEvent("TransactionDrafted", {
                    "date": "2026-03-15", "description": f"Invoice {start + i + j}",
                    "lines": [{"account_code": "1410", "debit": "1180.00"},
                              {"account_code": "6110", "credit": "1000.00"},
                              {"account_code": "3330", "credit": "180.00"}]})
                for j in range(4)], Metadata(actor="bench", company_id=company))
                for i in range(0, min(per_tx, count - start), 4)]
            await store.append_many(conn, appends)


async def read_all(db: Database, batch: int) -> int:
    store, at, total = EventStore(), START, 0
    while True:
        async with db.transaction() as conn:
            events = await store.read_all(conn, at, batch)
        if not events:
            return total
        total += len(events)
        at = events[-1].checkpoint


async def fresh_stream(url: str) -> None:
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    for info in await js.streams_info():
        if any(s.startswith("accounting.") for s in info.config.subjects or []):
            await js.delete_stream(info.config.name)
    await nc.close()


async def broker_ceiling(url: str, count: int, batch: int, in_flight: int) -> float:
    """Raw JetStream through the relay's own publisher: ``count`` messages of an
    envelope's size, sent in batches with ``in_flight`` batches out at once, every
    acknowledgement awaited; no database and no envelope work: the most any relay
    could do here with this client and this broker."""
    await fresh_stream(url)
    publisher = NatsPublisher(url, stream=STREAM)
    await publisher.start()
    body = b"x" * 420
    messages = [Message(uuid4(), "accounting.Raw", "raw", body) for _ in range(count)]
    acked = 0
    started = time.perf_counter()
    try:
        out: deque[Pending] = deque()
        for start in range(0, count, batch):
            out.append(await publisher.send(messages[start:start + batch]))
            if len(out) >= in_flight:
                acked += sum(o.ok for o in await out.popleft().outcomes())
        while out:
            acked += sum(o.ok for o in await out.popleft().outcomes())
        rate = acked / (time.perf_counter() - started)
    finally:
        await publisher.close()
    assert acked == count, f"only {acked} of {count} acknowledged"
    await fresh_stream(url)
    return rate


async def run(args: argparse.Namespace) -> int:
    async with server(args.database_url) as (url, label):
        conn = await migrated(url)
        await conn.close()
        db = Database(url, min_size=1, max_size=4)
        await db.open()
        try:
            progress(f"appending {args.events} events ({label}) ...")
            await fill(db, args.events)
            reads, relays, ceilings = [], [], []
            for round_ in range(args.rounds):
                started = time.perf_counter()
                assert await read_all(db, args.batch) == args.events
                reads.append(args.events / (time.perf_counter() - started))
                await fresh_stream(args.nats_url)
                async with db.transaction() as c:
                    await c.execute("DELETE FROM relay_checkpoints")
                publisher = NatsPublisher(args.nats_url, stream=STREAM)
                await publisher.start()
                try:
                    relay = Relay(db, EventStore(), publisher, batch_size=args.batch,
                                  in_flight=args.in_flight)
                    started = time.perf_counter()
                    assert await relay.catch_up() == args.events
                    relays.append(args.events / (time.perf_counter() - started))
                finally:
                    await publisher.close()
                ceilings.append(await broker_ceiling(args.nats_url, args.events, args.batch,
                                                     args.in_flight))
                progress(f"round {round_ + 1}: read {reads[-1]:,.0f}/s, "
                         f"relay {relays[-1]:,.0f}/s, raw JetStream {ceilings[-1]:,.0f}/s")
            await fresh_stream(args.nats_url)
        finally:
            await db.close()
    read, relay = statistics.median(reads), statistics.median(relays)
    ratio = statistics.median(r / w for r, w in zip(relays, reads, strict=True))
    ceiling = statistics.median(ceilings)
    print(f"relay to NATS: {relay:,.0f} events/s; reading the log alone: {read:,.0f} events/s; "
          f"ratio {ratio:.2f} (target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'}); "
          f"raw JetStream publish+ack of the same sizes, same client, pipelined alike: "
          f"{ceiling:,.0f} msgs/s "
          f"(relay/raw {relay / ceiling:.2f}); {args.events} events, batch {args.batch}, "
          f"{args.in_flight} in flight, {args.rounds} rounds, median")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    database_argument(parser)
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=4,
                        help="batches handed to the broker before the oldest is awaited")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
