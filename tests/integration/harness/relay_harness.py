"""Helpers for the relay tests: synthetic events in bulk, the relay process's
environment (importable as ``relay_harness``)."""

from __future__ import annotations

import os
from uuid import UUID, uuid4

from identity_harness import as_url

from saldo.platform.db import Database
from saldo.platform.eventstore import EventStore, Metadata, NewEvent, StreamAppend

#: The JetStream stream the tests publish to (``SALDO_NATS_STREAM``).
STREAM = "SALDO_TEST_ACCOUNTING"


async def append_synthetic(db: Database, count: int, *, streams: int = 50,
                           event_type: str = "LoadTested") -> list[UUID]:
    """``count`` events spread over ``streams`` new streams; returns their ids in order."""
    store = EventStore()
    ids: list[UUID] = []
    per = count // streams
    company = uuid4()
    async with db.transaction() as conn:
        appends = []
        for s in range(streams):
            events = [NewEvent(event_type, {"n": s * per + i, "amount": "10.00"})
                      for i in range(per)]
            ids.extend(e.event_id for e in events)
            appends.append(StreamAppend(f"loadtest-{uuid4()}", "loadtest", 0, events,
                                        Metadata(actor="test", company_id=company)))
        await store.append_many(conn, appends)
    return ids


def relay_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=as_url(db_url), SALDO_LOG_FORMAT="json",
               SALDO_SECRET_KEY="relay-test-key-" + "x" * 40, **extra)
    return env


