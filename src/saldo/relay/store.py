"""The relay's tables: a checkpoint per sink, the dead letters, consumers' memory."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from saldo.platform.db import Connection
from saldo.platform.eventstore import Checkpoint, xid8
from saldo.relay.domain import Source


async def try_lock(conn: Connection, sink: str) -> bool:
    """One relay per sink at a time: a transaction-scoped advisory lock. A second relay
    (a standby replica) finds it taken and waits for the next poll.

    An advisory lock assigns no transaction id, so holding it while the broker answers
    does not hold back the commit-order horizon other readers of the log wait for (a
    ``SELECT … FOR UPDATE`` on the checkpoint row would)."""
    cursor = await conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)) AS ok",
                                (f"saldo.relay:{sink}",))
    row = await cursor.fetchone()
    return bool(row and row["ok"])


async def checkpoint(conn: Connection, sink: str) -> Checkpoint:
    cursor = await conn.execute(
        "SELECT transaction_id, position FROM relay_checkpoints WHERE sink = %s", (sink,))
    row = await cursor.fetchone()
    return Checkpoint(row["transaction_id"], row["position"]) if row else Checkpoint()


async def advance(conn: Connection, sink: str, to: Checkpoint, published: int,
                  dead: int) -> None:
    await conn.execute(
        "INSERT INTO relay_checkpoints AS c (sink, transaction_id, position, published,"
        " dead_letters) VALUES (%s, %s::text::xid8, %s, %s, %s)"
        " ON CONFLICT (sink) DO UPDATE SET transaction_id = excluded.transaction_id,"
        " position = excluded.position, published = c.published + excluded.published,"
        " dead_letters = c.dead_letters + excluded.dead_letters, updated_at = now()"
        # Never backwards: a relay that lost its lock (its connection dropped) while
        # another took over must not undo the newer relay's progress.
        " WHERE (c.transaction_id, c.position) < (excluded.transaction_id, excluded.position)",
        (sink, xid8(to.transaction_id), to.position, published, dead))


async def record_dead_letters(conn: Connection, sink: str,
                              letters: Sequence[tuple[Source, str]]) -> None:
    for event, error in letters:
        await conn.execute(
            "INSERT INTO relay_dead_letters (sink, event_id, position, event_type, company_id,"
            " error) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (sink, event.event_id, event.position, event.type, event.company_id, error[:4000]))


async def remember(conn: Connection, consumer: str, event_id: UUID) -> bool:
    """Record that ``consumer`` handles ``event_id``; False if it did already."""
    cursor = await conn.execute(
        "INSERT INTO relay_consumed (consumer, event_id) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING RETURNING 1 AS fresh", (consumer, event_id))
    return await cursor.fetchone() is not None
