"""The consumer's half of at-least-once: handle each event once, whatever arrives twice.

The relay may publish an event again (a crash between the broker's ack and the saved
checkpoint; a broker error mid-batch), and a broker may redeliver what a consumer did not
acknowledge. :class:`Deduplicator` keeps the ids of the events a named consumer has
handled in ``relay_consumed`` and runs the consumer's handler in the *same* transaction
as the insert: either both commit (handled, remembered) or neither does (handled again
next delivery). Use it from any consumer that writes to PostgreSQL::

    dedup = Deduplicator(db, "invoicing")
    async def on_message(msg):
        await dedup.handle(msg.data, apply)   # apply(conn, envelope)
        await msg.ack()
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from saldo.platform.db import Connection, Database
from saldo.relay import store

Handler = Callable[[Connection, dict[str, Any]], Awaitable[None]]


class Deduplicator:
    def __init__(self, db: Database, consumer: str) -> None:
        self.db, self.consumer = db, consumer

    async def handle(self, body: bytes | str | dict[str, Any], handler: Handler) -> bool:
        """Run ``handler`` for this envelope unless this consumer handled its event id
        already; True if it ran."""
        envelope: dict[str, Any] = json.loads(body) if isinstance(body, bytes | str) else body
        event_id = UUID(str(envelope["id"]))
        async with self.db.transaction() as conn:
            if not await store.remember(conn, self.consumer, event_id):
                return False
            await handler(conn, envelope)
        return True
