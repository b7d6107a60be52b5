"""The ledger's read side: plain data from the read models, in the caller's transaction
(scoped to one company; row-level security lets nothing else through)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from saldo.ledger.domain import InvalidEntry, periods_of_year
from saldo.platform.db import Connection

_ACCOUNT_COLUMNS = ("code, name, name_ka, type, normal_balance, classification, parent_code,"
                    " postable, active, custom")


async def accounts(conn: Connection, company_id: UUID,
                   include_inactive: bool = True) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE company_id = %s"
        f"{'' if include_inactive else ' AND active'} ORDER BY code",
        (company_id,))
    return list(await cursor.fetchall())


async def account(conn: Connection, company_id: UUID, code: str) -> dict[str, Any] | None:
    cursor = await conn.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE company_id = %s AND code = %s",
        (company_id, code))
    return await cursor.fetchone()


# A header's balance is its subtree's: the descendants come from the chart (hundreds of
# rows), the sums from the turnover table's primary key, one range per account.
_BALANCE = """
WITH RECURSIVE tree AS (
    SELECT code FROM accounts WHERE company_id = %(company)s AND code = %(code)s
    UNION ALL
    SELECT a.code FROM accounts a JOIN tree ON a.parent_code = tree.code
     WHERE a.company_id = %(company)s
)
SELECT coalesce(sum(t.debit), 0) AS debit, coalesce(sum(t.credit), 0) AS credit
  FROM tree JOIN account_turnover t
    ON t.company_id = %(company)s AND t.account_code = tree.code AND t.day <= %(as_of)s
"""

# A leaf (the common case) needs no tree walk.
_LEAF_BALANCE = """
SELECT coalesce(sum(debit), 0) AS debit, coalesce(sum(credit), 0) AS credit
  FROM account_turnover
 WHERE company_id = %(company)s AND account_code = %(code)s AND day <= %(as_of)s
"""


async def balance(conn: Connection, company_id: UUID, code: str, as_of: date,
                  *, postable: bool) -> tuple[Decimal, Decimal]:
    """Posted debit and credit totals of ``code`` (and its sub-accounts) up to ``as_of``."""
    cursor = await conn.execute(_LEAF_BALANCE if postable else _BALANCE,
                                {"company": company_id, "code": code, "as_of": as_of})
    row = await cursor.fetchone()
    assert row is not None
    return Decimal(row["debit"]), Decimal(row["credit"])


_TRANSACTION_COLUMNS = (
    "id, number, status, date, description, reference, currency, exchange_rate, entries,"
    " total, created_by, approved_by, posted_by, reverses, reversed_by, reversal_reason,"
    " fiscal_year, version, created_at, updated_at")


async def transaction(conn: Connection, company_id: UUID,
                      transaction_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        f"SELECT {_TRANSACTION_COLUMNS} FROM journal_transactions"
        " WHERE company_id = %s AND id = %s", (company_id, transaction_id))
    return await cursor.fetchone()


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None
    limit: int = 50
    cursor: str | None = None


class InvalidCursor(InvalidEntry):
    code = "invalid_cursor"
    title = "Invalid cursor"


def encode_cursor(row: dict[str, Any]) -> str:
    raw = orjson.dumps([row["date"].isoformat(), str(row["id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[date, UUID]:
    try:
        day, ident = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return date.fromisoformat(day), UUID(ident)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursor("The cursor is not one this API handed out.",
                            field="cursor") from None


async def transactions(conn: Connection, company_id: UUID,
                       f: TransactionFilter) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first (date, then id -- ids are time-ordered UUIDv7), keyset-paginated."""
    where: list[str] = ["company_id = %s"]
    params: list[Any] = [company_id]
    if f.status:
        where.append("status = %s")
        params.append(f.status)
    if f.date_from:
        where.append("date >= %s")
        params.append(f.date_from)
    if f.date_to:
        where.append("date <= %s")
        params.append(f.date_to)
    if f.account:
        where.append("account_codes @> ARRAY[%s]::text[]")
        params.append(f.account)
    if f.cursor:
        day, ident = decode_cursor(f.cursor)
        where.append("(date, id) < (%s, %s)")
        params.extend([day, ident])
    cursor = await conn.execute(
        f"SELECT {_TRANSACTION_COLUMNS} FROM journal_transactions"
        f" WHERE {' AND '.join(where)} ORDER BY date DESC, id DESC LIMIT %s",
        (*params, f.limit + 1))
    rows = list(await cursor.fetchall())
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None


async def fiscal_periods(conn: Connection, company_id: UUID, year: int,
                         start_month: int) -> list[dict[str, Any]]:
    """The twelve months of ``year``; months of a year not opened yet show as open."""
    cursor = await conn.execute(
        "SELECT period, status FROM fiscal_periods WHERE company_id = %s AND fiscal_year = %s",
        (company_id, year))
    statuses = {r["period"]: r["status"] for r in await cursor.fetchall()}
    return [{"period": p.period, "start": p.start, "end": p.end,
             "status": statuses.get(p.period, "open")}
            for p in periods_of_year(year, start_month)]
