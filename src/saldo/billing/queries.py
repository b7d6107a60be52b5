"""Billing's read side: what other contexts (tax, banking, rs.ge) and the HTTP edge read.

``open_items`` and the VAT sums are the agreed interfaces (BRIEF-CONTEXTS): banking
suggests matches from open items; tax builds the VAT return and the registration monitor
from the VAT lines of posted documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.platform.db import Connection

Day = date
ZERO = Decimal("0.00")

#: Document kinds of each sub-ledger, and their sign on the control account.
RECEIVABLE_KINDS = {"sales_invoice": 1, "credit_note": -1}
PAYABLE_KINDS = {"purchase_bill": 1, "supplier_debit_note": 1, "supplier_credit_note": -1}


@dataclass(frozen=True, slots=True)
class OpenItem:
    document_id: UUID
    kind: str
    number: str
    counterparty_id: UUID
    date: date
    due_date: Day
    currency: str
    #: What remains to be paid, in the document's currency (credit notes: owed back).
    amount_due: Decimal
    total: Decimal


async def counterparty(conn: Connection, company_id: UUID,
                       counterparty_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT * FROM counterparties WHERE company_id = %s AND id = %s",
        (company_id, counterparty_id))
    return await cursor.fetchone()


async def counterparty_by_tax_id(conn: Connection, company_id: UUID,
                                 tax_id: str) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT * FROM counterparties WHERE company_id = %s AND tax_id = %s",
        (company_id, tax_id))
    return await cursor.fetchone()


async def pending_tax_id_checks(conn: Connection, company_id: UUID,
                                limit: int = 50) -> list[dict[str, Any]]:
    """Counterparties whose tax-id check waits for rs.ge to answer (decision 0063)."""
    cursor = await conn.execute(
        "SELECT id, tax_id FROM counterparties WHERE company_id = %s"
        " AND tax_id_check = 'pending' ORDER BY created_at, id LIMIT %s", (company_id, limit))
    return list(await cursor.fetchall())


async def counterparties(conn: Connection, company_id: UUID, search: str | None,
                         limit: int, after: tuple[str, UUID] | None
                         ) -> list[dict[str, Any]]:
    """By name, then id; ``search`` matches a part of the name or the tax id's start."""
    where, params = ["company_id = %(c)s"], {"c": company_id, "limit": limit}
    if search:
        where.append("(lower(name) LIKE %(s)s OR tax_id LIKE %(t)s)")
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["s"], params["t"] = f"%{escaped}%", f"{escaped}%"
    if after:
        where.append("(lower(name), id) > (%(an)s, %(ai)s)")
        params["an"], params["ai"] = after
    cursor = await conn.execute(
        f"SELECT * FROM counterparties WHERE {' AND '.join(where)}"
        " ORDER BY lower(name), id LIMIT %(limit)s", params)
    return await cursor.fetchall()


async def document(conn: Connection, company_id: UUID,
                   document_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT d.*, c.name AS counterparty_name, c.tax_id AS counterparty_tax_id"
        "  FROM billing_documents d"
        "  JOIN counterparties c ON c.company_id = d.company_id AND c.id = d.counterparty_id"
        " WHERE d.company_id = %s AND d.id = %s", (company_id, document_id))
    return await cursor.fetchone()


async def notes_of(conn: Connection, company_id: UUID, document_id: UUID) -> list[UUID]:
    cursor = await conn.execute(
        "SELECT id FROM billing_documents WHERE company_id = %s AND corrects = %s ORDER BY date",
        (company_id, document_id))
    return [r["id"] for r in await cursor.fetchall()]


async def documents(conn: Connection, company_id: UUID, kinds: tuple[str, ...], *,
                    counterparty_id: UUID | None = None, status: str | None = None,
                    date_from: date | None = None, date_to: date | None = None,
                    limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    where = ["company_id = %(c)s", "kind = ANY(%(k)s)"]
    params: dict[str, Any] = {"c": company_id, "k": list(kinds), "limit": limit,
                              "offset": offset}
    for name, column, op, value in (("cp", "counterparty_id", "=", counterparty_id),
                                    ("st", "status", "=", status),
                                    ("df", "date", ">=", date_from),
                                    ("dt", "date", "<=", date_to)):
        if value is not None:
            where.append(f"{column} {op} %({name})s")
            params[name] = value
    cursor = await conn.execute(
        f"SELECT * FROM billing_documents WHERE {' AND '.join(where)}"
        " ORDER BY date DESC, number DESC LIMIT %(limit)s OFFSET %(offset)s", params)
    return await cursor.fetchall()


async def supplier_reference_taken(conn: Connection, company_id: UUID, supplier_id: UUID,
                                   reference: str) -> bool:
    cursor = await conn.execute(
        "SELECT 1 FROM billing_documents WHERE company_id = %s AND counterparty_id = %s"
        " AND kind = 'purchase_bill' AND supplier_reference = %s",
        (company_id, supplier_id, reference))
    return await cursor.fetchone() is not None


async def open_items(conn: Connection, company_id: UUID, *,
                     counterparty_id: UUID | None = None) -> list[OpenItem]:
    """Posted documents with something left to pay (or, for a credit note, to refund),
    oldest due first."""
    cursor = await conn.execute(
        "SELECT id, kind, number, counterparty_id, date, due_date, currency, total, settled"
        "  FROM billing_documents"
        " WHERE company_id = %(c)s AND transaction_id IS NOT NULL AND settled < total"
        "   AND (%(cp)s::uuid IS NULL OR counterparty_id = %(cp)s)"
        " ORDER BY due_date, number", {"c": company_id, "cp": counterparty_id})
    return [OpenItem(r["id"], r["kind"], r["number"], r["counterparty_id"], r["date"],
                     r["due_date"], r["currency"].strip(), r["total"] - r["settled"],
                     r["total"])
            for r in await cursor.fetchall()]


# What settled documents after ``as_of`` is added back to their current amounts: the few
# late settlements instead of every settlement of every document (ageing stays fast with
# tens of thousands of open documents).
_OPEN_AS_OF = """
WITH late AS (
    SELECT document_id, sum(amount) AS amount, sum(amount_base) AS amount_base
      FROM billing_settlements
     WHERE company_id = %(c)s AND day > %(as_of)s
     GROUP BY 1
)
SELECT d.id, d.kind, d.number, d.counterparty_id, c.name, d.date, d.due_date, d.currency,
       (d.total - d.settled + coalesce(l.amount, 0))
           * CASE WHEN d.kind = ANY(%(negative)s) THEN -1 ELSE 1 END AS amount_due,
       (d.total_base - d.settled_base + coalesce(l.amount_base, 0))
           * CASE WHEN d.kind = ANY(%(negative)s) THEN -1 ELSE 1 END AS base_due
  FROM billing_documents d
  JOIN counterparties c ON c.company_id = d.company_id AND c.id = d.counterparty_id
  LEFT JOIN late l ON l.document_id = d.id
 WHERE d.company_id = %(c)s AND d.kind = ANY(%(kinds)s) AND d.transaction_id IS NOT NULL
   AND d.date <= %(as_of)s
   AND (%(cp)s::uuid IS NULL OR d.counterparty_id = %(cp)s)
"""


def _ledger_params(company_id: UUID, ledger: str, as_of: date,
                   counterparty_id: UUID | None) -> dict[str, Any]:
    signs = RECEIVABLE_KINDS if ledger == "receivables" else PAYABLE_KINDS
    return {"c": company_id, "kinds": list(signs), "as_of": as_of, "cp": counterparty_id,
            "negative": [k for k, s in signs.items() if s < 0]}


async def open_as_of(conn: Connection, company_id: UUID, ledger: str, as_of: date,
                     counterparty_id: UUID | None = None) -> list[dict[str, Any]]:
    """The ``receivables`` or ``payables`` documents open at the end of ``as_of``: the
    amount due and its GEL (``base_due``), signed as on the control account."""
    cursor = await conn.execute(
        f"SELECT * FROM ({_OPEN_AS_OF}) o"
        " WHERE o.amount_due <> 0 OR o.base_due <> 0 ORDER BY o.due_date, o.number",
        _ledger_params(company_id, ledger, as_of, counterparty_id))
    rows = await cursor.fetchall()
    for r in rows:
        r["currency"] = r["currency"].strip()
    return rows


_AGING = f"""
SELECT o.counterparty_id, o.name,
       coalesce(sum(o.base_due) FILTER (WHERE o.late <= 0), 0) AS not_due,
       coalesce(sum(o.base_due) FILTER (WHERE o.late BETWEEN 1 AND 30), 0) AS days_1_30,
       coalesce(sum(o.base_due) FILTER (WHERE o.late BETWEEN 31 AND 60), 0) AS days_31_60,
       coalesce(sum(o.base_due) FILTER (WHERE o.late BETWEEN 61 AND 90), 0) AS days_61_90,
       coalesce(sum(o.base_due) FILTER (WHERE o.late > 90), 0) AS days_over_90,
       sum(o.base_due) AS total
  FROM (SELECT *, %(as_of)s - due_date AS late FROM ({_OPEN_AS_OF}) x
         WHERE x.base_due <> 0) o
 GROUP BY o.counterparty_id, o.name
 ORDER BY lower(o.name), o.counterparty_id
"""


async def aging(conn: Connection, company_id: UUID, ledger: str,
                as_of: date) -> list[dict[str, Any]]:
    """Receivables or payables per counterparty by days past the due date at ``as_of``
    (not due, 1–30, 31–60, 61–90, over 90), in GEL, signed as on the control account."""
    cursor = await conn.execute(_AGING, _ledger_params(company_id, ledger, as_of, None))
    return await cursor.fetchall()


async def payments(conn: Connection, company_id: UUID, *,
                   counterparty_id: UUID | None = None) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT * FROM billing_payments WHERE company_id = %(c)s"
        " AND (%(cp)s::uuid IS NULL OR counterparty_id = %(cp)s) ORDER BY date, id",
        {"c": company_id, "cp": counterparty_id})
    return await cursor.fetchall()


async def payment(conn: Connection, company_id: UUID,
                  payment_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT * FROM billing_payments WHERE company_id = %s AND id = %s",
        (company_id, payment_id))
    return await cursor.fetchone()


# ---------------------------------------------------------------------- VAT


async def vat_totals(conn: Connection, company_id: UUID, date_from: date,
                     date_to: date) -> list[dict[str, Any]]:
    """Sums of the posted VAT lines in the range, per direction, code and deductibility:
    ``{direction, vat_code, deductible, base, vat}`` in GEL (credit notes negative)."""
    cursor = await conn.execute(
        "SELECT direction, vat_code, deductible, sum(base) AS base, sum(vat) AS vat"
        "  FROM vat_daily WHERE company_id = %s AND day BETWEEN %s AND %s"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (company_id, date_from, date_to))
    return await cursor.fetchall()


async def vat_register(conn: Connection, company_id: UUID, direction: str, date_from: date,
                       date_to: date) -> list[dict[str, Any]]:
    """The sales or purchase VAT register: one row per posted document and code."""
    cursor = await conn.execute(
        "SELECT v.day, v.document_id, v.document_kind, coalesce(d.number, '') AS number,"
        "       v.counterparty_id, c.name AS counterparty_name, c.tax_id, v.vat_code,"
        "       sum(v.base) AS base, sum(v.vat) AS vat"
        "  FROM vat_lines v"
        "  JOIN counterparties c ON c.company_id = v.company_id AND c.id = v.counterparty_id"
        "  LEFT JOIN billing_documents d ON d.company_id = v.company_id AND d.id = v.document_id"
        " WHERE v.company_id = %s AND v.direction = %s AND v.day BETWEEN %s AND %s"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 4, 8",
        (company_id, direction, date_from, date_to))
    return await cursor.fetchall()


async def taxable_turnover_by_day(conn: Connection, company_id: UUID, date_from: date,
                                  date_to: date) -> list[tuple[date, Decimal]]:
    """GEL of the company's ``vat18`` supplies per day (credit notes subtract): what
    counts towards the VAT registration threshold (api/v1.md "VAT codes"; Art. 157)."""
    cursor = await conn.execute(
        "SELECT day, sum(base) AS base FROM vat_daily"
        " WHERE company_id = %s AND direction = 'sales' AND vat_code = 'vat18'"
        "   AND day BETWEEN %s AND %s GROUP BY day ORDER BY day",
        (company_id, date_from, date_to))
    return [(r["day"], r["base"]) for r in await cursor.fetchall()]


async def drafts_between(conn: Connection, company_id: UUID, date_from: date,
                         date_to: date) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT id, kind, number, date FROM billing_documents"
        " WHERE company_id = %s AND transaction_id IS NULL AND date BETWEEN %s AND %s"
        " ORDER BY date, number", (company_id, date_from, date_to))
    return await cursor.fetchall()


async def posted_since(conn: Connection, company_id: UUID, date_from: date, date_to: date,
                       since: datetime) -> list[dict[str, Any]]:
    """Documents dated in the range that were posted after ``since`` (a filed return)."""
    cursor = await conn.execute(
        "SELECT id, kind, number, date, posted_at FROM billing_documents"
        " WHERE company_id = %s AND transaction_id IS NOT NULL AND date BETWEEN %s AND %s"
        "   AND posted_at > %s ORDER BY date, number", (company_id, date_from, date_to, since))
    return await cursor.fetchall()
