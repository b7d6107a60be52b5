"""Writes of the fx context: rates, and the log of their changes."""

from __future__ import annotations

from collections.abc import Sequence

from saldo.fx.domain import OfficialRate
from saldo.platform.db import Connection

_UPSERT = """
INSERT INTO fx_rates (currency, valid_from, rate, source, quantity, published, updated_by)
VALUES (%(currency)s, %(valid_from)s, %(rate)s, %(source)s, %(quantity)s, %(published)s,
        %(by)s)
ON CONFLICT (currency, valid_from) DO UPDATE
   SET rate = excluded.rate, source = excluded.source, quantity = excluded.quantity,
       published = excluded.published, updated_by = excluded.updated_by, updated_at = now()
 WHERE fx_rates.rate IS DISTINCT FROM excluded.rate
    OR fx_rates.source IS DISTINCT FROM excluded.source
RETURNING rate
"""

_LOG = """
INSERT INTO fx_rate_changes (currency, valid_from, old_rate, new_rate, source, changed_by)
VALUES (%s, %s, %s, %s, %s, %s)
"""


async def save_rates(conn: Connection, rates: Sequence[OfficialRate], by: str) -> int:
    """Insert or replace each rate, logging the change; returns how many were new or
    changed (a rate stored again unchanged is no change and leaves no log row)."""
    changed = 0
    for rate in rates:
        cursor = await conn.execute(
            "SELECT rate FROM fx_rates WHERE currency = %s AND valid_from = %s FOR UPDATE",
            (rate.currency, rate.valid_from))
        old = await cursor.fetchone()
        cursor = await conn.execute(_UPSERT, {
            "currency": rate.currency, "valid_from": rate.valid_from, "rate": rate.rate,
            "source": rate.source, "quantity": rate.quantity, "published": rate.published,
            "by": by})
        if await cursor.fetchone() is not None:
            changed += 1
            await conn.execute(_LOG, (rate.currency, rate.valid_from,
                                      old["rate"] if old else None, rate.rate, rate.source, by))
    return changed
