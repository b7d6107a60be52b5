"""Banking's read models, updated inline in the appending transaction: ``bank_accounts``,
``bank_statements``, ``bank_lines`` (with their reconciliation), ``bank_allocations`` and
``bank_rules``. A whole statement's lines are inserted by one statement
(``jsonb_to_recordset``): COPY is not allowed into a table under row-level security.

``bank_line_suggestions`` is not projected: it is a cache of the ranked matches the
service computes from other contexts' open documents (an import, a refresh).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from saldo.banking import domain as d
from saldo.platform.db import Connection
from saldo.platform.eventstore import RecordedEvent

READ_MODELS = ("bank_accounts", "bank_statements", "bank_lines", "bank_line_suggestions",
               "bank_allocations", "bank_rules")
PROJECTED = tuple(t for t in READ_MODELS if t != "bank_line_suggestions")

_INSERT_LINES = """
INSERT INTO bank_lines (company_id, id, statement_id, bank_account_id, row_no, booking_date,
                        value_date, amount, currency, bank_id, reference, description,
                        counterparty_name, counterparty_iban, counterparty_tax_id, dedup_key)
SELECT %(company)s, x.id, %(statement)s, %(account)s, x.row, x.booking_date, x.value_date,
       x.amount, x.currency, x.bank_id, x.reference, x.description, x.counterparty_name,
       x.counterparty_iban, x.counterparty_tax_id, x.dedup_key
  FROM jsonb_to_recordset(%(lines)s::jsonb) AS x(
       id uuid, row integer, booking_date date, value_date date, amount numeric,
       currency text, bank_id text, reference text, description text,
       counterparty_name text, counterparty_iban text, counterparty_tax_id text,
       dedup_key text)
"""

_INSERT_STATEMENT = """
INSERT INTO bank_statements (company_id, id, bank_account_id, format, filename, sha256,
                             opening_balance, closing_balance, period_from, period_to,
                             lines_imported, duplicates_skipped, findings, imported_at,
                             imported_by)
VALUES (%(company)s, %(id)s, %(account)s, %(format)s, %(filename)s, %(sha256)s, %(opening)s,
        %(closing)s, %(from)s, %(to)s, %(count)s, %(skipped)s, %(findings)s::jsonb, %(at)s,
        %(by)s)
"""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class BankingProjection:
    name = "banking"
    #: The streams it reads (the event store hands it no others).
    stream_types = ("banking.",)

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for event in events:
            if event.type in d.EVENTS:
                await self._apply(conn, event)

    async def reset(self, conn: Connection) -> None:
        # The suggestions are not rebuilt from events: they are kept (a line replayed has
        # its id, so they still belong to it).
        await conn.execute(f"TRUNCATE {', '.join(PROJECTED)}")

    async def _apply(self, conn: Connection, event: RecordedEvent) -> None:
        data, company = event.data, event.company_id
        if event.type == d.BankAccountOpened.type:
            await conn.execute(
                "INSERT INTO bank_accounts (company_id, id, iban, bank_code, currency,"
                " account_code, name, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (company, data["bank_account_id"], data["iban"], data.get("bank_code"),
                 data["currency"], data["account_code"], data.get("name") or "",
                 event.recorded_at))
        elif event.type == d.StatementImported.type:
            lines = data["lines"]
            days = [ln["booking_date"] for ln in lines]
            await conn.execute(_INSERT_STATEMENT, {
                "company": company, "id": data["statement_id"],
                "account": data["bank_account_id"], "format": data["format"],
                "filename": data.get("filename") or "", "sha256": data["sha256"],
                "opening": data.get("opening_balance"), "closing": data.get("closing_balance"),
                "from": min(days) if days else None, "to": max(days) if days else None,
                "count": len(lines), "skipped": data["duplicates_skipped"],
                "findings": _json(data.get("findings") or []), "at": event.recorded_at,
                "by": event.metadata.get("actor")})
            if lines:
                await conn.execute(_INSERT_LINES, {
                    "company": company, "statement": data["statement_id"],
                    "account": data["bank_account_id"], "lines": _json(lines)})
        elif event.type == d.StatementUndone.type:
            await conn.execute(
                "DELETE FROM bank_line_suggestions WHERE company_id = %s AND line_id IN"
                " (SELECT id FROM bank_lines WHERE company_id = %s AND statement_id = %s)",
                (company, company, data["statement_id"]))
            await conn.execute("DELETE FROM bank_lines WHERE company_id = %s"
                               " AND statement_id = %s", (company, data["statement_id"]))
            await conn.execute("DELETE FROM bank_statements WHERE company_id = %s AND id = %s",
                               (company, data["statement_id"]))
        elif event.type == d.LineReconciled.type:
            await conn.execute(
                "UPDATE bank_lines SET status = 'reconciled', transaction_id = %s,"
                " account_code = %s, payment_id = %s, rule_id = %s, reconciled_at = %s"
                " WHERE company_id = %s AND id = %s",
                (data["transaction_id"], data.get("account_code"), data.get("payment_id"),
                 data.get("rule_id"), event.recorded_at, company, data["line_id"]))
            allocations = data.get("allocations") or []
            if allocations:
                await conn.execute(
                    "INSERT INTO bank_allocations (company_id, line_id, document_id, amount)"
                    " SELECT %s, %s, x.document_id, x.amount FROM jsonb_to_recordset(%s::jsonb)"
                    " AS x(document_id uuid, amount numeric)",
                    (company, data["line_id"], _json(allocations)))
        elif event.type == d.LineUnreconciled.type:
            await conn.execute(
                "UPDATE bank_lines SET status = 'unreconciled', transaction_id = NULL,"
                " account_code = NULL, payment_id = NULL, rule_id = NULL, reconciled_at = NULL"
                " WHERE company_id = %s AND id = %s", (company, data["line_id"]))
            await conn.execute("DELETE FROM bank_allocations WHERE company_id = %s"
                               " AND line_id = %s", (company, data["line_id"]))
        elif event.type == d.RuleCreated.type:
            await conn.execute(
                "INSERT INTO bank_rules (company_id, id, contains, account_code, direction,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (company, data["rule_id"], data["contains"], data["account_code"],
                 data.get("direction") or "any", event.recorded_at))
        elif event.type == d.RuleDeleted.type:
            await conn.execute("DELETE FROM bank_rules WHERE company_id = %s AND id = %s",
                               (company, data["rule_id"]))
