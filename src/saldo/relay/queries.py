"""What the relay has done: per sink, where it stands, how far behind, its dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from saldo.platform.db import Connection
from saldo.platform.eventstore import xid8


@dataclass(frozen=True, slots=True)
class SinkStatus:
    sink: str
    transaction_id: int
    position: int
    published: int
    dead_letters: int
    behind: int
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    sink: str
    event_id: UUID
    position: int
    event_type: str
    company_id: UUID | None
    error: str
    recorded_at: datetime


async def status(conn: Connection, sinks: list[str]) -> list[SinkStatus]:
    cursor = await conn.execute("SELECT * FROM relay_checkpoints")
    rows: dict[str, dict[str, Any]] = {r["sink"]: r for r in await cursor.fetchall()}
    result = []
    for sink in sorted(set(sinks) | set(rows)):
        row = rows.get(sink, {})
        tx, pos = int(row.get("transaction_id", 0)), int(row.get("position", 0))
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM events WHERE (transaction_id, position) >"
            " (%s::text::xid8, %s)", (xid8(tx), pos))
        behind = await cursor.fetchone()
        result.append(SinkStatus(sink, tx, pos, int(row.get("published", 0)),
                                 int(row.get("dead_letters", 0)),
                                 int(behind["n"]) if behind else 0, row.get("updated_at")))
    return result


async def dead_letters(conn: Connection, sink: str | None = None,
                       limit: int = 100) -> list[DeadLetter]:
    cursor = await conn.execute(
        "SELECT sink, event_id, position, event_type, company_id, error, recorded_at"
        " FROM relay_dead_letters WHERE %(sink)s::text IS NULL OR sink = %(sink)s"
        " ORDER BY recorded_at, position LIMIT %(limit)s", {"sink": sink, "limit": limit})
    return [DeadLetter(**row) for row in await cursor.fetchall()]
