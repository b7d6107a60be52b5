"""The rates other contexts read: the official rate in effect on a day.

Rates are reference data of no company (no row-level security): any connection reads
them, including a unit of work's own (``uow.conn``), so a posting sees the rate in its own
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.platform.db import Connection

__all__ = ["RateInEffect", "rate_in_effect", "rates", "rates_in_effect"]


@dataclass(frozen=True, slots=True)
class RateInEffect:
    """GEL per ONE unit of ``currency``, published for ``valid_from`` (the latest such day
    on or before the day asked), from ``source`` (``nbg`` or ``manual``)."""

    currency: str
    rate: Decimal
    valid_from: date
    source: str


def _in_effect(row: dict[str, Any]) -> RateInEffect:
    return RateInEffect(row["currency"].strip(), Decimal(row["rate"]).normalize(),
                        row["valid_from"], row["source"])


# The primary key (currency, valid_from) answers it with one backward index step.
_IN_EFFECT = """
SELECT currency, rate, valid_from, source FROM fx_rates
 WHERE currency = %s AND valid_from <= %s
 ORDER BY valid_from DESC LIMIT 1
"""


async def rate_in_effect(conn: Connection, currency: str, on: date) -> RateInEffect | None:
    """The official rate in effect on ``on``: the one with the latest ``valid_from`` on or
    before it (weekends and holidays keep the last rate), or ``None`` if there is none."""
    cursor = await conn.execute(_IN_EFFECT, (currency.strip().upper(), on))
    row = await cursor.fetchone()
    return _in_effect(row) if row else None


async def rates_in_effect(conn: Connection, currencies: Iterable[str],
                          on: date) -> dict[str, RateInEffect]:
    """:func:`rate_in_effect` for several currencies at once (those without a rate are
    missing from the answer)."""
    wanted = sorted({c.strip().upper() for c in currencies})
    if not wanted:
        return {}
    cursor = await conn.execute(
        "SELECT r.currency, r.rate, r.valid_from, r.source"
        "  FROM unnest(%s::text[]) AS c(code)"
        "  CROSS JOIN LATERAL (SELECT currency, rate, valid_from, source FROM fx_rates"
        "                       WHERE currency = c.code AND valid_from <= %s"
        "                       ORDER BY valid_from DESC LIMIT 1) r", (wanted, on))
    return {r.currency: r for r in map(_in_effect, await cursor.fetchall())}


async def rates(conn: Connection, *, currency: str | None = None,
                first: date | None = None, last: date | None = None,
                limit: int = 1000) -> list[dict[str, Any]]:
    """Stored rates, newest first: (currency, valid_from, rate, source, quantity,
    published, updated_by, updated_at)."""
    cursor = await conn.execute(
        "SELECT currency, valid_from, rate, source, quantity, published, updated_by,"
        "       updated_at FROM fx_rates"
        " WHERE (%(currency)s::text IS NULL OR currency = %(currency)s)"
        "   AND (%(first)s::date IS NULL OR valid_from >= %(first)s)"
        "   AND (%(last)s::date IS NULL OR valid_from <= %(last)s)"
        " ORDER BY valid_from DESC, currency LIMIT %(limit)s",
        {"currency": currency, "first": first, "last": last, "limit": limit})
    out = []
    for row in await cursor.fetchall():
        row["currency"] = row["currency"].strip()
        row["rate"] = Decimal(row["rate"]).normalize()
        out.append(row)
    return out
