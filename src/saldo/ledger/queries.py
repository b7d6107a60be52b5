"""The ledger's read side: plain data from the read models, in the caller's transaction
(scoped to one company; row-level security lets nothing else through)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from psycopg.rows import tuple_row

from saldo.ledger.domain import InvalidLine, periods_of_year
from saldo.platform.db import Connection

_ACCOUNT_COLUMNS = ("code, name, name_ka, type, normal_balance, classification, parent_code,"
                    " postable, active, custom, cash_flow")


async def accounts(conn: Connection, company_id: UUID,
                   active: bool | None = None) -> list[dict[str, Any]]:
    """The chart, by code; ``active`` keeps only active (or only inactive) accounts."""
    cursor = await conn.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE company_id = %(company)s"
        " AND (%(active)s::boolean IS NULL OR active = %(active)s) ORDER BY code",
        {"company": company_id, "active": active})
    return list(await cursor.fetchall())


async def account(conn: Connection, company_id: UUID, code: str) -> dict[str, Any] | None:
    cursor = await conn.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE company_id = %s AND code = %s",
        (company_id, code))
    return await cursor.fetchone()


#: ``tree``: the account %(code)s and every account below it (a header's sub-accounts),
#: walked in the chart (hundreds of rows at most).
SUBTREE = """
WITH RECURSIVE tree AS (
    SELECT code FROM accounts WHERE company_id = %(company)s AND code = %(code)s
    UNION ALL
    SELECT a.code FROM accounts a JOIN tree ON a.parent_code = tree.code
     WHERE a.company_id = %(company)s
)"""

# A header's balance is its subtree's: the sums come from the turnover table's primary
# key, one range per account.
_BALANCE = SUBTREE + """
SELECT coalesce(sum(t.debit_base), 0) AS debit, coalesce(sum(t.credit_base), 0) AS credit
  FROM tree JOIN account_turnover t
    ON t.company_id = %(company)s AND t.account_code = tree.code AND t.day <= %(as_of)s
"""

# A leaf (the common case) needs no tree walk.
_LEAF_BALANCE = """
SELECT coalesce(sum(debit_base), 0) AS debit, coalesce(sum(credit_base), 0) AS credit
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


# ---------------------------------------------------------------------- currencies

_CURRENCY_BALANCE = SUBTREE + """
SELECT coalesce(sum(t.amount_debit), 0) AS debit,
       coalesce(sum(t.amount_credit), 0) AS credit,
       coalesce(sum(t.debit_base), 0) AS debit_base,
       coalesce(sum(t.credit_base), 0) AS credit_base
  FROM tree JOIN account_currency_turnover t
    ON t.company_id = %(company)s AND t.account_code = tree.code
   AND t.currency = %(currency)s AND t.day <= %(as_of)s
"""


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    """An account's posted totals in one currency up to a day: in the currency
    (``debit``, ``credit``) and their carrying amount in GEL, the base currency
    (``debit_base``, ``credit_base``), as a line names them (decision 0017). The read
    model's columns are ``amount_debit`` (the currency) and ``debit_base`` (GEL)."""

    currency: str
    debit: Decimal
    credit: Decimal
    debit_base: Decimal
    credit_base: Decimal


async def currency_balance(conn: Connection, company_id: UUID, code: str, currency: str,
                           as_of: date) -> CurrencyBalance:
    """The lines of ``code`` (and its sub-accounts) in ``currency`` up to ``as_of``."""
    cursor = await conn.execute(_CURRENCY_BALANCE, {"company": company_id, "code": code,
                                                    "currency": currency, "as_of": as_of})
    row = await cursor.fetchone()
    assert row is not None
    return CurrencyBalance(currency, Decimal(row["debit"]), Decimal(row["credit"]),
                           Decimal(row["debit_base"]), Decimal(row["credit_base"]))


async def currency_balances(conn: Connection, company_id: UUID, code: str, as_of: date,
                            base_currency: str) -> list[CurrencyBalance]:
    """``code``'s (and its sub-accounts') balances per foreign currency up to ``as_of``,
    where either the currency or the GEL balance is not zero."""
    cursor = await conn.execute(SUBTREE + """
        SELECT t.currency, sum(t.amount_debit) AS debit, sum(t.amount_credit) AS credit,
               sum(t.debit_base) AS debit_base, sum(t.credit_base) AS credit_base
          FROM tree JOIN account_currency_turnover t
            ON t.company_id = %(company)s AND t.account_code = tree.code
           AND t.currency <> %(base)s AND t.day <= %(as_of)s
         GROUP BY t.currency
        HAVING sum(t.amount_debit) <> sum(t.amount_credit)
            OR sum(t.debit_base) <> sum(t.credit_base)
         ORDER BY t.currency""", {"company": company_id, "code": code, "as_of": as_of,
                                  "base": base_currency})
    return [CurrencyBalance(r["currency"].strip(), Decimal(r["debit"]), Decimal(r["credit"]),
                            Decimal(r["debit_base"]), Decimal(r["credit_base"]))
            for r in await cursor.fetchall()]


async def foreign_positions(conn: Connection, company_id: UUID, as_of: date,
                            base_currency: str) -> list[tuple[str, str, Decimal, Decimal]]:
    """Every (account, currency) with a foreign-currency or GEL balance up to ``as_of`` in
    a currency other than the base: (account_code, currency, balance in the currency,
    carrying amount in GEL), debit positive. One pass over the per-currency turnover."""
    cursor = await conn.execute(
        "SELECT account_code, currency, sum(amount_debit) - sum(amount_credit) AS amount,"
        "       sum(debit_base) - sum(credit_base) AS gel"
        "  FROM account_currency_turnover"
        " WHERE company_id = %s AND currency <> %s AND day <= %s"
        " GROUP BY account_code, currency"
        " HAVING sum(amount_debit) <> sum(amount_credit)"
        " OR sum(debit_base) <> sum(credit_base)"
        " ORDER BY account_code, currency", (company_id, base_currency, as_of))
    return [(r["account_code"], r["currency"].strip(), Decimal(r["amount"]),
             Decimal(r["gel"])) for r in await cursor.fetchall()]


async def revaluations(conn: Connection, company_id: UUID,
                       as_of: date) -> list[dict[str, Any]]:
    """The revaluation transactions dated ``as_of``, oldest first."""
    cursor = await conn.execute(
        "SELECT id, number, entries FROM journal_transactions"
        " WHERE company_id = %s AND source_type = 'fx_revaluation' AND date = %s"
        "   AND status = 'posted' AND reverses IS NULL ORDER BY created_at, number",
        (company_id, as_of))
    return list(await cursor.fetchall())


async def classifications(conn: Connection, company_id: UUID,
                          codes: Iterable[str]) -> dict[str, str]:
    cursor = await conn.execute(
        "SELECT code, classification FROM accounts WHERE company_id = %s AND code = ANY(%s)",
        (company_id, sorted(set(codes))))
    return {r["code"]: r["classification"] for r in await cursor.fetchall()}


_TRANSACTION_COLUMNS = (
    "id, number, status, date, description, reference, currency, exchange_rate, entries,"
    " total, created_by, approved_by, posted_by, reverses, reversed_by, reversal_reason,"
    " fiscal_year, version, created_at, updated_at, source_type, source_id")


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


class InvalidCursor(InvalidLine):
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
    where = ["company_id = %(company)s"]
    params: dict[str, Any] = {"company": company_id, "limit": f.limit + 1}
    if f.status:
        where.append("status = %(status)s")
        params["status"] = f.status
    if f.date_from:
        where.append("date >= %(date_from)s")
        params["date_from"] = f.date_from
    if f.date_to:
        where.append("date <= %(date_to)s")
        params["date_to"] = f.date_to
    if f.account:  # the account or any account below it (a header's sub-accounts)
        where.append(f"account_codes && ARRAY({SUBTREE} SELECT code FROM tree)")
        params["code"] = f.account
    if f.cursor:
        params["day"], params["id"] = decode_cursor(f.cursor)
        where.append("(date, id) < (%(day)s, %(id)s)")
    cursor = await conn.execute(
        f"SELECT {_TRANSACTION_COLUMNS} FROM journal_transactions"
        f" WHERE {' AND '.join(where)} ORDER BY date DESC, id DESC LIMIT %(limit)s",
        params)
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


# ======================================================================================
# Reporting: the plain-text journal export (issue 5, item 9). Appended for
# saldo.reporting.export; everything below reads the posted read models only.
# ======================================================================================


# One statement over the posted lines (the read model the turnover is built from, so an
# export sums to exactly what the balances say), with each line's transaction. Read
# through a server-side cursor: a single snapshot however long the download takes, and
# never the whole journal in memory.
_POSTED_JOURNAL = """
SELECT l.transaction_id, l.entry_date, l.number, t.fiscal_year, t.description, t.reference,
       t.currency, t.exchange_rate, t.reverses, t.kind, l.line_no, l.account_code,
       l.amount_debit, l.amount_credit, l.debit_base, l.credit_base,
       l.description AS line_description
  FROM journal_lines l
  JOIN journal_transactions t ON t.company_id = l.company_id AND t.id = l.transaction_id
 WHERE l.company_id = %(company)s{range}
 ORDER BY l.entry_date, l.number, l.transaction_id, l.line_no
"""

#: A line's amounts as a line names them (decision 0017): ``debit``/``credit`` in the
#: transaction's currency (the read model's ``amount_debit``/``amount_credit``),
#: ``debit_base``/``credit_base`` in GEL (the read model's too, migration 0051).
_LINE_KEYS = ("line_no", "account_code", "debit", "credit", "debit_base", "credit_base",
              "line_description")
#: The columns of ``_POSTED_JOURNAL``, in order: rows travel as tuples.
JOURNAL_COLUMNS = ("transaction_id", "entry_date", "number", "fiscal_year", "description",
                   "reference", "currency", "exchange_rate", "reverses", "kind",
                   *_LINE_KEYS)
_TX_KEYS = JOURNAL_COLUMNS[:10]
#: Where the account code sits in a journal row.
ACCOUNT_CODE = JOURNAL_COLUMNS.index("account_code")


def _day_range(column: str, date_from: date | None, date_to: date | None) -> str:
    return ((f" AND {column} >= %(date_from)s" if date_from else "")
            + (f" AND {column} <= %(date_to)s" if date_to else ""))


async def posted_journal(conn: Connection, company_id: UUID, date_from: date | None,
                         date_to: date | None, *, fetch: int = 5000
                         ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
    """The lines of posted transactions dated in the range (either end open), ordered by
    date, number and line, as batches of ``fetch`` tuples in ``JOURNAL_COLUMNS`` order.
    :class:`JournalGrouper` makes transactions of them; it is pure, so a caller can run
    it off the event loop. A transaction's lines may span two batches.

    Must run inside the caller's transaction (a server-side cursor lives in one)."""
    params = {"company": company_id, "date_from": date_from, "date_to": date_to}
    query = _POSTED_JOURNAL.format(range=_day_range("l.entry_date", date_from, date_to))
    async with conn.cursor(name="saldo_posted_journal", row_factory=tuple_row) as cursor:
        await cursor.execute(query, params)
        while rows := await cursor.fetchmany(fetch):
            yield rows


class JournalGrouper:
    """Journal rows (``JOURNAL_COLUMNS``) into transactions: each a dict of the
    transaction's columns (``entry_date`` as ``date``) with its ``lines`` (transaction-
    currency ``debit``/``credit``, GEL ``debit_base``/``credit_base``,
    ``line_description``) in line order. Feed batches in order, then :meth:`finish`."""

    def __init__(self) -> None:
        self._current: dict[str, Any] | None = None

    def feed(self, rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """The transactions these rows complete (the last one waits for the next batch)."""
        done: list[dict[str, Any]] = []
        current = self._current
        for row in rows:
            if current is None or current["transaction_id"] != row[0]:
                if current is not None:
                    done.append(current)
                current = dict(zip(_TX_KEYS, row, strict=False))
                current["date"] = current.pop("entry_date")
                current["lines"] = []
            current["lines"].append(dict(zip(_LINE_KEYS, row[len(_TX_KEYS):], strict=True)))
        self._current = current
        return done

    def finish(self) -> list[dict[str, Any]]:
        """The last transaction, once every batch was fed."""
        last, self._current = self._current, None
        return [last] if last is not None else []


async def accounts_moved(conn: Connection, company_id: UUID, date_from: date | None,
                         date_to: date | None) -> dict[str, date]:
    """Accounts with posted lines in the range, each with the first day it moved."""
    cursor = await conn.execute(
        "SELECT account_code, min(day) AS first_day FROM account_turnover"
        f" WHERE company_id = %(company)s{_day_range('day', date_from, date_to)}"
        " GROUP BY account_code",
        {"company": company_id, "date_from": date_from, "date_to": date_to})
    return {r["account_code"]: r["first_day"] for r in await cursor.fetchall()}


async def balances_before(conn: Connection, company_id: UUID,
                          day: date) -> dict[str, Decimal]:
    """Each account's posted balance (debit − credit, base currency) before ``day``;
    accounts at zero are left out."""
    cursor = await conn.execute(
        "SELECT account_code, sum(debit_base) - sum(credit_base) AS balance"
        "  FROM account_turnover"
        " WHERE company_id = %s AND day < %s GROUP BY account_code"
        " HAVING sum(debit_base) <> sum(credit_base)", (company_id, day))
    return {r["account_code"]: Decimal(r["balance"]) for r in await cursor.fetchall()}


# ======================================================================================
# Reporting: statements, trial balance and general ledger (issue 5, items 1-6). Appended
# for saldo.reporting.service. Balances come from the daily turnover (one row per account
# and day), never from the journal; only the general ledger, the direct cash-flow method
# and the equity statement's dividends read lines, always within a date range.
# ======================================================================================


# Per account: totals before the range, turnover in it, and the part of that turnover made
# by year-end closing transactions (kept apart in turnover, so P&L can leave them out).
_TURNOVER_BY_ACCOUNT = """
SELECT account_code,
       coalesce(sum(debit_base) FILTER (WHERE day < %(date_from)s), 0) AS opening_debit,
       coalesce(sum(credit_base) FILTER (WHERE day < %(date_from)s), 0) AS opening_credit,
       coalesce(sum(debit_base) FILTER (WHERE day >= %(date_from)s), 0) AS debit,
       coalesce(sum(credit_base) FILTER (WHERE day >= %(date_from)s), 0) AS credit,
       coalesce(sum(debit_base) FILTER (WHERE day >= %(date_from)s AND closing), 0)
           AS year_end_debit,
       coalesce(sum(credit_base) FILTER (WHERE day >= %(date_from)s AND closing), 0)
           AS year_end_credit,
       coalesce(sum(lines) FILTER (WHERE day >= %(date_from)s), 0)::bigint AS lines
  FROM account_turnover
 WHERE company_id = %(company)s AND day <= %(date_to)s{accounts}
 GROUP BY account_code
"""


async def turnover_by_account(conn: Connection, company_id: UUID, date_from: date,
                              date_to: date, codes: Sequence[str] | None = None
                              ) -> list[dict[str, Any]]:
    """Every account that moved up to ``date_to`` (of ``codes`` only, when given):
    ``opening_debit``/``opening_credit`` (posted before ``date_from``), ``debit``/
    ``credit`` (from ``date_from`` to ``date_to``) and ``year_end_debit``/
    ``year_end_credit`` (the part of the turnover in the range made by year-end closing
    transactions and their reversals), ``lines`` (posted lines in the range). Base
    currency."""
    query = _TURNOVER_BY_ACCOUNT.format(
        accounts="" if codes is None else " AND account_code = ANY(%(codes)s)")
    cursor = await conn.execute(query, {"company": company_id, "date_from": date_from,
                                        "date_to": date_to, "codes": list(codes or ())})
    return list(await cursor.fetchall())


# A line's counter accounts: the accounts on the other side of the same transaction (all
# other accounts if there is none, e.g. a line against its own account). Lines of one
# transaction share its date, so the lookup stays inside one partition. For the line
# ``l`` of the statement it is put in; ``{dates}`` may bound ``o.entry_date`` by the
# statement's range as well (true anyway), so that the planner drops the partitions
# outside it instead of keeping every month in both sub-plans to prune while executing.
_COUNTER_ACCOUNTS = """
       coalesce((SELECT array_agg(DISTINCT o.account_code ORDER BY o.account_code)
                   FROM journal_lines o
                  WHERE o.company_id = l.company_id AND o.entry_date = l.entry_date{dates}
                    AND o.transaction_id = l.transaction_id AND o.line_no <> l.line_no
                    AND ((l.debit_base > 0 AND o.credit_base > 0)
                         OR (l.credit_base > 0 AND o.debit_base > 0))),
                (SELECT array_agg(DISTINCT o.account_code ORDER BY o.account_code)
                   FROM journal_lines o
                  WHERE o.company_id = l.company_id AND o.entry_date = l.entry_date{dates}
                    AND o.transaction_id = l.transaction_id
                    AND o.account_code <> l.account_code),
                ARRAY[]::text[]) AS counter_accounts"""

# Lines of the given accounts with their transaction's description and counter accounts.
_ACCOUNT_LINES = """
SELECT l.account_code, l.entry_date AS date, l.number, l.transaction_id, l.line_no,
       l.debit_base AS debit, l.credit_base AS credit,
       coalesce(nullif(l.description, ''), t.description) AS description,
       t.kind,""" + _COUNTER_ACCOUNTS.format(dates="") + """
  FROM journal_lines l
  JOIN journal_transactions t ON t.company_id = l.company_id AND t.id = l.transaction_id
 WHERE l.company_id = %(company)s AND l.entry_date >= %(date_from)s
   AND l.entry_date <= %(date_to)s{accounts}
 ORDER BY l.account_code, l.entry_date, l.number, l.line_no
"""


async def account_lines(conn: Connection, company_id: UUID, codes: Sequence[str] | None,
                        date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Posted lines of ``codes`` (every account when ``None``) dated in the range, in
    account, date and number order: ``date, number, transaction_id, debit, credit,
    description`` (the line's, else the transaction's) and ``counter_accounts``."""
    query = _ACCOUNT_LINES.format(
        accounts="" if codes is None else " AND l.account_code = ANY(%(codes)s)")
    cursor = await conn.execute(query, {"company": company_id, "date_from": date_from,
                                        "date_to": date_to, "codes": list(codes or ())})
    return list(await cursor.fetchall())


# One page of each account's card: the lines numbered ``skip + 1`` to ``skip + count`` in
# the range, in card order, each with its ordinal and the movement (debit − credit) of
# the account's lines in the range up to and including it, so the running balance
# continues across pages. The daily turnover says, per account, on which day the page's
# first line falls and how many lines and how much movement lie before that day; only
# the lines from that day on are read, at most ``count`` past the page's start, however
# far into the range the page is. The counter accounts and the transaction's description
# are looked up for the page's lines alone. (entry_date, number, transaction_id,
# line_no) orders the lines of an account totally: the running sums need no tie.
_CARD_PAGE = """
WITH days AS (
    SELECT account_code, day, sum(lines) AS lines, sum(debit_base - credit_base) AS moved
      FROM account_turnover
     WHERE company_id = %(company)s AND account_code = ANY(%(codes)s)
       AND day >= %(date_from)s AND day <= %(date_to)s
     GROUP BY account_code, day
), running AS (
    SELECT account_code, day, lines,
           (sum(lines) OVER w - lines)::bigint AS lines_before,
           sum(moved) OVER w - moved AS moved_before
      FROM days
    WINDOW w AS (PARTITION BY account_code ORDER BY day)
), start AS (
    SELECT DISTINCT ON (account_code) account_code, day, lines_before, moved_before
      FROM running
     WHERE lines_before + lines > %(skip)s
     ORDER BY account_code, day
), page AS (
    SELECT l.*, s.lines_before + row_number() OVER p AS position,
           s.moved_before + sum(l.debit_base - l.credit_base) OVER p AS moved
      FROM start s
     CROSS JOIN LATERAL (
           SELECT l.company_id, l.account_code, l.entry_date, l.number, l.transaction_id,
                  l.line_no, l.debit_base, l.credit_base, l.description
             FROM journal_lines l
            WHERE l.company_id = %(company)s AND l.account_code = s.account_code
              AND l.entry_date >= s.day AND l.entry_date >= %(date_from)s
              AND l.entry_date <= %(date_to)s
            ORDER BY l.entry_date, l.number, l.transaction_id, l.line_no
            LIMIT %(skip)s - s.lines_before + %(count)s) l
    WINDOW p AS (PARTITION BY l.account_code
                 ORDER BY l.entry_date, l.number, l.transaction_id, l.line_no
                 ROWS UNBOUNDED PRECEDING)
)
SELECT l.account_code, l.entry_date AS date, l.number, l.transaction_id, l.line_no,
       l.debit_base AS debit, l.credit_base AS credit,
       coalesce(nullif(l.description, ''), t.description) AS description,
       t.kind, l.position, l.moved,""" + _COUNTER_ACCOUNTS.format(
    dates="\n                    AND o.entry_date >= %(date_from)s"
          " AND o.entry_date <= %(date_to)s") + """
  FROM page l
  JOIN journal_transactions t ON t.company_id = l.company_id AND t.id = l.transaction_id
 WHERE l.position > %(skip)s
 ORDER BY l.account_code, l.position
"""


async def account_card_page(conn: Connection, company_id: UUID, codes: Sequence[str],
                            date_from: date, date_to: date, skip: int,
                            count: int) -> list[dict[str, Any]]:
    """The posted lines of ``codes`` dated in the range that come after the first
    ``skip`` of each account, at most ``count`` per account, in account, date and number
    order: what :func:`account_lines` returns for them (``date, number, transaction_id,
    debit, credit, description, counter_accounts``), with ``position`` (the line's
    ordinal in its account's range, from 1) and ``moved`` (debit − credit of the
    account's lines in the range up to and including this one). An account with no more
    than ``skip`` lines in the range has none."""
    if not codes or count <= 0:
        return []
    cursor = await conn.execute(_CARD_PAGE, {
        "company": company_id, "codes": list(codes), "date_from": date_from,
        "date_to": date_to, "skip": max(skip, 0), "count": count})
    return list(await cursor.fetchall())



_TRANSACTIONS_TOUCHING = """
SELECT l.transaction_id, l.account_code, l.debit_base AS debit, l.credit_base AS credit,
       l.kind, l.entry_date, l.number, l.line_no, l.counterparty_id
  FROM journal_lines l
 WHERE l.company_id = %(company)s AND l.entry_date >= %(date_from)s
   AND l.entry_date <= %(date_to)s
   AND l.transaction_id IN (
       SELECT transaction_id FROM journal_lines
        WHERE company_id = %(company)s AND entry_date >= %(date_from)s
          AND entry_date <= %(date_to)s AND account_code = ANY(%(codes)s))
 ORDER BY l.entry_date, l.transaction_id, l.line_no
"""


async def lines_of_transactions_touching(conn: Connection, company_id: UUID,
                                         codes: Sequence[str], date_from: date,
                                         date_to: date) -> list[dict[str, Any]]:
    """Every line (``transaction_id, account_code, debit, credit, kind, entry_date,
    number, line_no, counterparty_id``) of the posted
    transactions dated in the range that have a line on one of ``codes``: the cash
    transactions of the direct cash-flow method, the dividend declarations of the
    statement of changes in equity."""
    if not codes:
        return []
    cursor = await conn.execute(_TRANSACTIONS_TOUCHING, {
        "company": company_id, "date_from": date_from, "date_to": date_to,
        "codes": list(codes)})
    return list(await cursor.fetchall())


# ---------------------------------------------------------------------- report limits

_LINE_COUNT = """
SELECT coalesce(sum(lines), 0) AS lines
  FROM account_turnover
 WHERE company_id = %(company)s AND day >= %(date_from)s AND day <= %(date_to)s{accounts}
"""


async def journal_line_count(conn: Connection, company_id: UUID,
                             codes: Sequence[str] | None, date_from: date,
                             date_to: date) -> int:
    """The number of posted lines on ``codes`` (every account when ``None``) dated in the
    range: what :func:`saldo.ledger.queries.account_lines` would return."""
    query = _LINE_COUNT.format(
        accounts="" if codes is None else " AND account_code = ANY(%(codes)s)")
    cursor = await conn.execute(query, {"company": company_id, "date_from": date_from,
                                        "date_to": date_to, "codes": list(codes or ())})
    row = await cursor.fetchone()
    return int(row["lines"]) if row is not None else 0


# ======================================================================================
# For document contexts (payroll, issue 14): may a document date take postings? Checked
# before a document is drafted, so that a payment date in a closed period is refused at
# once rather than when the document is posted.
# ======================================================================================


async def period_status(conn: Connection, company_id: UUID, day: date) -> str:
    """The status of the month of ``day``: ``open``, ``closed`` or ``locked`` (a month of a
    year not opened yet is open)."""
    cursor = await conn.execute(
        "SELECT status FROM fiscal_periods WHERE company_id = %s AND period = %s",
        (company_id, f"{day.year:04d}-{day.month:02d}"))
    row = await cursor.fetchone()
    return str(row["status"]) if row else "open"
