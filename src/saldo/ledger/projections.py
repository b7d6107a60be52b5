"""The ledger's read models, updated inline in the appending transaction.

One projection, ``ledger``, keeps the chart (``accounts``), the fiscal calendar
(``fiscal_periods``), the number counters, the transaction list (``journal_transactions``),
the posted lines (``journal_lines``, partitioned by month) and the turnover per account and
day (``account_turnover``) that balances and reports read. ``saldo projections rebuild
ledger`` drops them all and replays the log; a test proves the result equals the live
tables.

A batch is applied set-wise, a handful of statements whatever its size, which is what
makes bulk posting fast. Within a transaction's stream the event types only ever occur in
the order drafted → amended* → approved → posted → reversed (or drafted → discarded), so
applying the batch phase by phase in that order gives the same state as event by event.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

from saldo.ledger import domain as d
from saldo.ledger import store
from saldo.platform.db import Connection
from saldo.platform.eventstore import RecordedEvent

TRANSACTION_EVENTS = frozenset({
    d.TRANSACTION_DRAFTED, d.TRANSACTION_AMENDED, d.TRANSACTION_DISCARDED,
    d.TRANSACTION_APPROVED, d.TRANSACTION_POSTED, d.TRANSACTION_REVERSED,
})
CALENDAR_EVENTS = frozenset({
    d.CHART_LOADED, d.ACCOUNT_ADDED, d.ACCOUNT_CHANGED, d.ACCOUNT_DELETED,
    d.FISCAL_YEAR_OPENED, d.PERIOD_CLOSED, d.PERIOD_REOPENED, d.PERIOD_LOCKED,
    d.FISCAL_YEAR_CLOSED, d.FISCAL_YEAR_REOPENED,
})

READ_MODELS = ("accounts", "fiscal_years", "fiscal_periods", "transaction_numbers",
               "journal_transactions", "journal_lines", "account_turnover",
               "account_currency_turnover")

_INSERT_ACCOUNTS = """
INSERT INTO accounts (company_id, code, name, name_ka, type, normal_balance, classification,
                      parent_code, postable, active, custom, cash_flow)
SELECT %s, a.code, a.name, a.name_ka, a.type, a.normal_balance, a.classification,
       a.parent_code, a.postable, a.active, a.custom, a.cash_flow
  FROM jsonb_to_recordset(%s::jsonb) AS a(code text, name text, name_ka text, type text,
       normal_balance text, classification text, parent_code text, postable boolean,
       active boolean, custom boolean, cash_flow text)
"""

# Every array parameter is sent in binary (%b): as text (%s) psycopg would escape each
# '"' of every JSON document with a Python-level re.sub, which made posting a batch of
# 2,000 transactions spend a third of its time here (bench/posting.py).
# Drafts, and transactions drafted and posted in the same batch (imports, reversals),
# which go in already posted: one insert instead of an insert and an update.
_INSERT_DRAFTS = """
INSERT INTO journal_transactions (company_id, id, status, number, fiscal_year, posted_by,
    date, description, reference, currency, exchange_rate, entries, account_codes, total,
    created_by, reverses, version, created_at, updated_at, kind, source_type, source_id)
SELECT t.company_id, t.id, t.status, t.number, t.fiscal_year, t.posted_by, t.date,
       t.description, t.reference, t.currency, t.exchange_rate, t.entries,
       string_to_array(t.codes, ' '), t.total, t.created_by, t.reverses, t.version, t.at,
       t.updated, t.kind, t.source_type, t.source_id
  FROM unnest(%b::uuid[], %b::uuid[], %b::text[], %b::int[], %b::int[], %b::text[],
              %b::date[], %b::text[], %b::text[], %b::text[], %b::numeric[], %b::jsonb[],
              %b::text[], %b::numeric[], %b::text[], %b::uuid[], %b::int[],
              %b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[], %b::uuid[])
       AS t(company_id, id, status, number, fiscal_year, posted_by, date, description,
            reference, currency, exchange_rate, entries, codes, total, created_by, reverses,
            version, at, updated, kind, source_type, source_id)
"""

_AMEND = """
UPDATE journal_transactions
   SET date = %s, description = %s, reference = %s, currency = %s, exchange_rate = %s,
       entries = %s::jsonb, account_codes = string_to_array(%s, ' '), total = %s,
       version = %s, updated_at = %s
 WHERE company_id = %s AND id = %s
"""

_STATUS = """
UPDATE journal_transactions t
   SET status = %s, approved_by = CASE WHEN %s::text = 'approved' THEN u.by ELSE t.approved_by END,
       version = u.version, updated_at = u.at
  FROM unnest(%b::uuid[], %b::uuid[], %b::text[], %b::int[], %b::timestamptz[])
       AS u(company_id, id, by, version, at)
 WHERE t.company_id = u.company_id AND t.id = u.id
"""

#: The two turnover upserts, as common table expressions over a ``lines`` CTE of the rows
#: just inserted into journal_lines: the daily turnovers move in the same statement as the
#: lines, for a single post (``_POST``) and for a chunk of bulk posting (ledger/batch.py).
TURNOVERS_OF_LINES = """turnover AS (
    INSERT INTO account_turnover AS a (company_id, account_code, day, closing, debit_base,
                                       credit_base, lines)
    SELECT company_id, account_code, entry_date, kind = 'closing', sum(debit_base),
           sum(credit_base), count(*)
      FROM lines GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (company_id, account_code, day, closing)
    DO UPDATE SET debit_base = a.debit_base + excluded.debit_base,
                  credit_base = a.credit_base + excluded.credit_base,
                  lines = a.lines + excluded.lines
    RETURNING 1
), currency_turnover AS (
    -- Per currency too (foreign balances, IAS 21 revaluation), in the same lock order.
    INSERT INTO account_currency_turnover AS c (company_id, account_code, currency, day,
                                                debit_base, credit_base, amount_debit,
                                                amount_credit, lines)
    SELECT company_id, account_code, currency, entry_date, sum(debit_base), sum(credit_base),
           sum(amount_debit), sum(amount_credit), count(*)
      FROM lines GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (company_id, account_code, currency, day)
    DO UPDATE SET debit_base = c.debit_base + excluded.debit_base,
                  credit_base = c.credit_base + excluded.credit_base,
                  amount_debit = c.amount_debit + excluded.amount_debit,
                  amount_credit = c.amount_credit + excluded.amount_credit,
                  lines = c.lines + excluded.lines
    RETURNING 1
)"""

# Posting, in one statement: the rows not inserted as posted get their numbers; the
# counters follow (a no-op when posting, where the service has advanced them already; their
# source on a rebuild); the lines are written from the rows' entries; and the turnover rows
# are upserted in (company, account, day) order -- every poster takes those row locks in
# the same order, so two postings never deadlock on them. (Data-modifying CTEs all run,
# read or not, and see the rows as they were before the statement: entries, dates and
# currencies do not change on posting, and the number comes from the parameters.)
_POST = """
WITH p AS (
    SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::int[], %b::int[], %b::text[], %b::int[],
                         %b::timestamptz[], %b::bool[])
           AS p(company_id, id, number, fiscal_year, by, version, at, inserted)
), posted AS (
    UPDATE journal_transactions t
       SET status = 'posted', number = p.number, fiscal_year = p.fiscal_year,
           posted_by = p.by, version = p.version, updated_at = p.at
      FROM p
     WHERE NOT p.inserted AND t.company_id = p.company_id AND t.id = p.id
    RETURNING 1
), numbers AS (
    INSERT INTO transaction_numbers AS n (company_id, fiscal_year, last_number)
    SELECT company_id, fiscal_year, max(number) FROM p GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (company_id, fiscal_year)
    DO UPDATE SET last_number = excluded.last_number
     WHERE n.last_number < excluded.last_number
    RETURNING 1
), lines AS (
    INSERT INTO journal_lines (company_id, entry_date, transaction_id, line_no, number,
                               account_code, debit_base, credit_base, currency, amount_debit,
                               amount_credit, description, kind, counterparty_id,
                               document_id, line_kind)
    SELECT t.company_id, t.date, t.id, l.n, p.number, l.e->>'account_code',
           (l.e->>'debit_base')::numeric, (l.e->>'credit_base')::numeric,
           coalesce(l.e->>'currency', t.currency),
           (l.e->>'debit')::numeric, (l.e->>'credit')::numeric,
           coalesce(l.e->>'description', ''), t.kind, (l.e->>'counterparty_id')::uuid,
           (l.e->>'document_id')::uuid, coalesce(l.e->>'kind', 'regular')
      FROM p
      JOIN journal_transactions t ON t.company_id = p.company_id AND t.id = p.id
     CROSS JOIN LATERAL jsonb_array_elements(t.entries) WITH ORDINALITY AS l(e, n)
    RETURNING company_id, account_code, entry_date, debit_base, credit_base, kind, currency,
              amount_debit, amount_credit
), """ + TURNOVERS_OF_LINES + """
SELECT 1
"""

_REVERSED = """
UPDATE journal_transactions
   SET reversed_by = %s, reversal_reason = %s, version = %s, updated_at = %s
 WHERE company_id = %s AND id = %s
"""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _codes(entries: Sequence[dict[str, Any]]) -> str:
    return " ".join(sorted({e["account_code"] for e in entries}))


def _total(entries: Sequence[dict[str, Any]]) -> Decimal:
    return sum((Decimal(e["debit_base"]) for e in entries), Decimal(0))


def _source(source: dict[str, str] | None) -> tuple[str | None, str | None]:
    return (source["type"], source["id"]) if source else (None, None)


def _transaction_id(event: RecordedEvent) -> str:
    return event.stream_id.removeprefix(TRANSACTION_STREAM_PREFIX)


TRANSACTION_STREAM_PREFIX = "ledger.transaction-"


class LedgerProjection:
    name = "ledger"

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        transactions: list[RecordedEvent] = []
        for event in events:
            if event.type in TRANSACTION_EVENTS:
                transactions.append(event)
            elif event.type in CALENDAR_EVENTS:
                await self._calendar(conn, event)
        if transactions:
            await self._transactions(conn, transactions)

    async def reset(self, conn: Connection) -> None:
        await conn.execute(f"TRUNCATE {', '.join(READ_MODELS)}")

    # ------------------------------------------------------------------ chart and calendar

    async def _calendar(self, conn: Connection, event: RecordedEvent) -> None:
        data, company = event.data, event.company_id
        if event.type == d.CHART_LOADED:
            await conn.execute(_INSERT_ACCOUNTS, (company, _json(_with_cash_flow(
                data["accounts"]))))
        elif event.type == d.ACCOUNT_ADDED:
            await conn.execute(_INSERT_ACCOUNTS, (company, _json(_with_cash_flow(
                [data["account"]]))))
            if data.get("parent_becomes_header"):
                await conn.execute("UPDATE accounts SET postable = false"
                                   " WHERE company_id = %s AND code = %s",
                                   (company, data["account"]["parent_code"]))
        elif event.type == d.ACCOUNT_CHANGED:
            changes = data["changes"]
            columns = [c for c in ("name", "name_ka", "active", "type", "normal_balance",
                                   "classification", "cash_flow") if c in changes]
            if columns:
                assignments = ", ".join(f"{c} = %s" for c in columns)
                await conn.execute(
                    f"UPDATE accounts SET {assignments} WHERE company_id = %s AND code = %s",
                    (*[changes[c] for c in columns], company, data["code"]))
        elif event.type == d.ACCOUNT_DELETED:
            # A parent left without sub-accounts is a leaf again (postable = no children,
            # as when the chart was loaded).
            await conn.execute(
                "WITH gone AS (DELETE FROM accounts WHERE company_id = %(c)s AND code = %(code)s"
                "              RETURNING parent_code)"
                " UPDATE accounts p SET postable = true FROM gone"
                "  WHERE p.company_id = %(c)s AND p.code = gone.parent_code"
                "    AND NOT EXISTS (SELECT 1 FROM accounts k WHERE k.company_id = %(c)s"
                "                       AND k.parent_code = p.code AND k.code <> %(code)s)",
                {"c": company, "code": data["code"]})
        elif event.type == d.FISCAL_YEAR_OPENED:
            periods = data["periods"]
            await store.ensure_partitions(conn, periods[0]["start"], periods[-1]["end"])
            await conn.execute(
                "INSERT INTO fiscal_periods (company_id, period, fiscal_year, start_date,"
                "                            end_date)"
                " SELECT %s, p.period, %s, p.start, p.end"
                "   FROM jsonb_to_recordset(%s::jsonb) AS p(period text, start date, \"end\" date)"
                " ON CONFLICT DO NOTHING",
                (company, data["year"], _json(periods)))
            await conn.execute(
                "INSERT INTO fiscal_years (company_id, fiscal_year, status)"
                " VALUES (%s, %s, 'open') ON CONFLICT DO NOTHING", (company, data["year"]))
        elif event.type == d.FISCAL_YEAR_CLOSED:
            await conn.execute(
                "UPDATE fiscal_years SET status = 'closed', closing_transaction = %s"
                " WHERE company_id = %s AND fiscal_year = %s",
                (data.get("closing_transaction"), company, data["year"]))
        elif event.type == d.FISCAL_YEAR_REOPENED:
            await conn.execute(
                "UPDATE fiscal_years SET status = 'open', closing_transaction = NULL"
                " WHERE company_id = %s AND fiscal_year = %s", (company, data["year"]))
        else:
            status = {d.PERIOD_CLOSED: "closed", d.PERIOD_REOPENED: "open",
                      d.PERIOD_LOCKED: "locked"}[event.type]
            await conn.execute("UPDATE fiscal_periods SET status = %s"
                               " WHERE company_id = %s AND period = %s",
                               (status, company, data["period"]))

    # ------------------------------------------------------------------ transactions

    async def _transactions(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        by_type: dict[str, list[RecordedEvent]] = {t: [] for t in TRANSACTION_EVENTS}
        types: dict[str, set[str]] = {}
        for event in events:
            by_type[event.type].append(event)
            types.setdefault(event.stream_id, set()).add(event.type)
        # Streams drafted and posted in this batch with nothing in between go in posted.
        born_posted = {e.stream_id: e for e in by_type[d.TRANSACTION_POSTED]
                       if d.TRANSACTION_DRAFTED in types[e.stream_id]
                       and types[e.stream_id] <= _BORN_POSTED}
        if drafted := by_type[d.TRANSACTION_DRAFTED]:
            rows = []
            for e in drafted:
                data, post = e.data, born_posted.get(e.stream_id)
                last = post or e
                rows.append((
                    e.company_id, _transaction_id(e), "posted" if post else "draft",
                    post.data["number"] if post else None,
                    post.data["fiscal_year"] if post else None,
                    post.data["by"] if post else None, data["date"], data["description"],
                    data.get("reference"), data["currency"], data["exchange_rate"],
                    _json(data["entries"]), _codes(data["entries"]), _total(data["entries"]),
                    data["by"], data.get("reverses"), last.version, e.recorded_at,
                    last.recorded_at, data.get("kind", d.REGULAR),
                    *_source(data.get("source"))))
            await conn.execute(_INSERT_DRAFTS, _columns(rows, 22))
        for e in by_type[d.TRANSACTION_AMENDED]:
            data = e.data
            await conn.execute(_AMEND, (
                data["date"], data["description"], data.get("reference"), data["currency"],
                data["exchange_rate"], _json(data["entries"]), _codes(data["entries"]),
                _total(data["entries"]), e.version, e.recorded_at, e.company_id,
                _transaction_id(e)))
        for event_type, status in ((d.TRANSACTION_DISCARDED, "discarded"),
                                   (d.TRANSACTION_APPROVED, "approved")):
            if batch := by_type[event_type]:
                await conn.execute(_STATUS, (status, status, *_columns([
                    (e.company_id, _transaction_id(e), e.data["by"], e.version, e.recorded_at)
                    for e in batch], 5)))
        if posted := by_type[d.TRANSACTION_POSTED]:
            await conn.execute(_POST, _columns([
                (e.company_id, _transaction_id(e), e.data["number"], e.data["fiscal_year"],
                 e.data["by"], e.version, e.recorded_at, e.stream_id in born_posted)
                for e in posted], 8))
        for e in by_type[d.TRANSACTION_REVERSED]:
            await conn.execute(_REVERSED, (e.data["reversed_by"], e.data.get("reason"),
                                           e.version, e.recorded_at, e.company_id,
                                           _transaction_id(e)))


_BORN_POSTED = frozenset({d.TRANSACTION_DRAFTED, d.TRANSACTION_POSTED, d.TRANSACTION_REVERSED})


def _columns(rows: Any, width: int) -> list[list[Any]]:
    """Rows transposed into one list per column (parameters for ``unnest``)."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _with_cash_flow(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accounts of events recorded before accounts had a cash-flow activity get the
    standard one (``Account.from_data`` does the same)."""
    return [a if a.get("cash_flow") else {**a, "cash_flow": d.standard_cash_flow(a["code"]).value}
            for a in accounts]
