"""Billing's read models, updated inline in the appending transaction (exact at once):
counterparties, documents with their amount due and status, settlements, payments and the
VAT lines of posted documents. ``saldo projections rebuild billing`` replays the log."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

from saldo.billing import domain as d
from saldo.kernel.money import round_half_up
from saldo.platform.db import Connection
from saldo.platform.eventstore import RecordedEvent

READ_MODELS = ("counterparties", "billing_documents", "billing_numbers", "billing_settlements",
               "billing_payments", "vat_lines", "billing_settings", "vat_daily")

EVENTS = frozenset({d.CounterpartyRegistered.type, d.CounterpartyTaxIdChecked.type,
                    d.BillingSettingsChanged.type,
                    *d.DOCUMENT_EVENTS, *d.PAYMENT_EVENTS})


def _status(row: dict[str, Any]) -> str:
    return d.status_of(row["transaction_id"] is not None, Decimal(row["total"]),
                       Decimal(row["settled"]), Decimal(row["credited"]),
                       d.DocumentKind(row["kind"]).credit).value


def vat_rows(kind: d.DocumentKind, lines: Sequence[d.Line], rate: Decimal,
             vat_payer: bool) -> list[tuple[int, str, str, Decimal, Decimal, bool]]:
    """(line_no, direction, vat code, base GEL, VAT GEL, deductible) per line, signed: what
    the document's journal books on the VAT accounts (line by line, at its rate)."""
    sign = -1 if kind.credit else 1
    direction = "sales" if kind.sales else "purchases"
    rows = []
    for i, line in enumerate(lines):
        base = round_half_up(line.net * rate, 2) * sign
        vat = round_half_up(line.vat * rate, 2) * sign
        rows.append((i, direction, line.vat_code.value, base, vat, vat_payer))
    return rows


async def _daily(conn: Connection, company: Any, day: Any,
                 rows: Sequence[tuple[str, str, bool, Decimal, Decimal]]) -> None:
    """Add (direction, code, deductible, base, VAT) rows to the day's VAT sums, in key
    order (concurrent postings of a day lock the same rows in the same order)."""
    sums: dict[tuple[str, str, bool], tuple[Decimal, Decimal]] = {}
    for direction, code, deductible, base, vat in rows:
        b, v = sums.get((direction, code, deductible), (Decimal(0), Decimal(0)))
        sums[(direction, code, deductible)] = (b + base, v + vat)
    for (direction, code, deductible), (base, vat) in sorted(sums.items()):
        await conn.execute(
            "INSERT INTO vat_daily AS t (company_id, day, direction, vat_code, deductible,"
            " base, vat) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (company_id, day, direction, vat_code, deductible)"
            " DO UPDATE SET base = t.base + excluded.base, vat = t.vat + excluded.vat",
            (company, day, direction, code, deductible, base, vat))


class BillingProjection:
    name = "billing"
    #: The streams it reads (the event store hands it no others).
    stream_types = ("billing.",)

    async def reset(self, conn: Connection) -> None:
        for table in READ_MODELS:
            await conn.execute(f"DELETE FROM {table}")

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for e in events:
            if e.type not in EVENTS:
                continue
            company = e.company_id
            if e.type == d.CounterpartyRegistered.type:
                await self._counterparty(conn, e)
            elif e.type == d.CounterpartyTaxIdChecked.type:
                await self._tax_id_checked(conn, e)
            elif e.type == d.BillingSettingsChanged.type:
                await conn.execute(
                    "INSERT INTO billing_settings (company_id, require_approval)"
                    " VALUES (%s, %s) ON CONFLICT (company_id)"
                    " DO UPDATE SET require_approval = excluded.require_approval",
                    (company, e.data["require_approval"]))
            elif e.type == d.DocumentApproved.type:
                await conn.execute(
                    "UPDATE billing_documents SET approved_by = %s, version = %s"
                    " WHERE company_id = %s AND id = %s",
                    (e.data["by"], e.version, company, e.data["document_id"]))
            elif e.type == d.DocumentDrafted.type:
                drafted = d.DocumentDrafted.from_data(e.data)
                await conn.execute(
                    "INSERT INTO billing_documents (company_id, id, kind, number,"
                    " counterparty_id, date, due_date, currency, exchange_rate, reference,"
                    " supplier_reference, corrects, lines, net_total, vat_total, total,"
                    " status, created_by, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb,"
                    " %s, %s, %s, 'draft', %s, %s)",
                    (company, drafted.document_id, drafted.kind, drafted.number,
                     drafted.counterparty_id, drafted.date, drafted.due_date,
                     drafted.currency, drafted.exchange_rate, drafted.reference,
                     drafted.supplier_reference, drafted.corrects,
                     orjson.dumps(list(drafted.lines)).decode(), drafted.net_total,
                     drafted.vat_total, drafted.total, drafted.by, e.version))
                # The counter follows the numbers drafted (a no-op live, where drafting
                # advanced it; its source on a rebuild).
                series, year, number = drafted.number.rsplit("-", 2)
                await conn.execute(
                    "INSERT INTO billing_numbers AS n (company_id, series, year, last_number)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (company_id, series, year)"
                    " DO UPDATE SET last_number = greatest(n.last_number, excluded.last_number)",
                    (company, series, int(year), int(number)))
            elif e.type == d.DocumentPosted.type:
                posted = d.DocumentPosted.from_data(e.data)
                cursor = await conn.execute(
                    "UPDATE billing_documents SET number = %s, transaction_id = %s,"
                    " total_base = %s, version = %s, status = 'posted', posted_at = %s"
                    " WHERE company_id = %s AND id = %s"
                    " RETURNING kind, counterparty_id, date, lines, exchange_rate",
                    (posted.number, posted.transaction_id, posted.total_base, e.version,
                     e.recorded_at, company, posted.document_id))
                row = await cursor.fetchone()
                assert row is not None
                kind = d.DocumentKind(row["kind"])
                lines = [d.line_from_data(x) for x in row["lines"]]
                deductible = posted.vat_deductible
                rows = vat_rows(kind, lines, Decimal(row["exchange_rate"]), deductible)
                await conn.execute(
                    "INSERT INTO vat_lines (company_id, day, document_id, line_no, direction,"
                    " document_kind, vat_code, counterparty_id, base, vat, deductible)"
                    " SELECT %s, %s, %s, v.no, v.direction, %s, v.code, %s, v.base, v.vat,"
                    "        v.ded"
                    "   FROM unnest(%s::int[], %s::text[], %s::text[], %s::numeric[],"
                    "               %s::numeric[], %s::bool[])"
                    "        AS v(no, direction, code, base, vat, ded)",
                    (company, row["date"], posted.document_id, kind.value,
                     row["counterparty_id"], *(list(c) for c in zip(*rows, strict=True))))
                await _daily(conn, company, row["date"],
                             [(r[1], r[2], r[5], r[3], r[4]) for r in rows])
            elif e.type == d.DocumentSettled.type:
                settled = d.DocumentSettled.from_data(e.data)
                credit = settled.amount if settled.by_kind in (
                    d.DocumentKind.CREDIT_NOTE.value,
                    d.DocumentKind.SUPPLIER_CREDIT_NOTE.value) else Decimal(0)
                cursor = await conn.execute(
                    "UPDATE billing_documents SET settled = settled + %s,"
                    " settled_base = settled_base + %s, credited = credited + %s,"
                    " version = %s WHERE company_id = %s AND id = %s"
                    " RETURNING kind, transaction_id, total, settled, credited",
                    (settled.amount, settled.amount_base, credit, e.version, company,
                     settled.document_id))
                row = await cursor.fetchone()
                assert row is not None
                await conn.execute(
                    "UPDATE billing_documents SET status = %s WHERE company_id = %s AND id = %s",
                    (_status(row), company, settled.document_id))
                await conn.execute(
                    "INSERT INTO billing_settlements (company_id, document_id, by_document,"
                    " by_kind, day, amount, amount_base) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (company, settled.document_id, settled.by_document, settled.by_kind,
                     settled.date, settled.amount, settled.amount_base))
            elif e.type == d.SettlementReversed.type:
                undone = d.SettlementReversed.from_data(e.data)
                credit = undone.amount if undone.by_kind in (
                    d.DocumentKind.CREDIT_NOTE.value,
                    d.DocumentKind.SUPPLIER_CREDIT_NOTE.value) else Decimal(0)
                cursor = await conn.execute(
                    "UPDATE billing_documents SET settled = settled - %s,"
                    " settled_base = settled_base - %s, credited = credited - %s,"
                    " version = %s WHERE company_id = %s AND id = %s"
                    " RETURNING kind, transaction_id, total, settled, credited",
                    (undone.amount, undone.amount_base, credit, e.version, company,
                     undone.document_id))
                row = await cursor.fetchone()
                assert row is not None
                await conn.execute(
                    "UPDATE billing_documents SET status = %s WHERE company_id = %s AND id = %s",
                    (_status(row), company, undone.document_id))
                # A negative settlement on the reversal's day: the amounts due as of an
                # earlier day still count the payment.
                await conn.execute(
                    "INSERT INTO billing_settlements (company_id, document_id, by_document,"
                    " by_kind, day, amount, amount_base) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (company, undone.document_id, undone.by_document, undone.by_kind,
                     undone.date, -undone.amount, -undone.amount_base))
            elif e.type == d.PaymentReversed.type:
                r = d.PaymentReversed.from_data(e.data)
                cursor = await conn.execute(
                    "UPDATE billing_payments SET reversed_on = %s,"
                    " reversal_transaction_id = %s, version = %s"
                    " WHERE company_id = %s AND id = %s"
                    " RETURNING counterparty_id",
                    (r.date, r.transaction_id, e.version, company, r.payment_id))
                row = await cursor.fetchone()
                assert row is not None
                await self._undo_advance_vat(conn, e, r, row["counterparty_id"])
            elif e.type == d.PaymentRecorded.type:
                p = d.PaymentRecorded.from_data(e.data)
                await conn.execute(
                    "INSERT INTO billing_payments (company_id, id, counterparty_id, date,"
                    " direction, amount, currency, exchange_rate, account_code, reference,"
                    " allocations, unallocated, advance_vat, transaction_id, created_by,"
                    " version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb,"
                    " %s, %s, %s, %s, %s)",
                    (company, p.payment_id, p.counterparty_id, p.date, p.direction, p.amount,
                     p.currency, p.exchange_rate, p.account_code, p.reference,
                     orjson.dumps(list(p.allocations)).decode(), p.unallocated,
                     p.advance_vat, p.transaction_id, p.by, e.version))
                if p.advance_vat:
                    await self._advance_vat(conn, e, p.payment_id, p.counterparty_id, p.date,
                                            p.unallocated, p.advance_vat, p.exchange_rate, 1)
            elif e.type == d.AdvanceApplied.type:
                a = d.AdvanceApplied.from_data(e.data)
                cursor = await conn.execute(
                    "UPDATE billing_payments SET unallocated = unallocated - %s,"
                    " advance_vat = advance_vat - %s, version = %s,"
                    " allocations = allocations || %s::jsonb"
                    " WHERE company_id = %s AND id = %s"
                    " RETURNING counterparty_id, exchange_rate",
                    (a.amount, a.advance_vat, e.version,
                     orjson.dumps(list(a.allocations)).decode(), company, a.payment_id))
                row = await cursor.fetchone()
                assert row is not None
                if a.advance_vat:
                    await self._advance_vat(conn, e, a.transaction_id, row["counterparty_id"],
                                            a.date, a.amount, a.advance_vat,
                                            Decimal(row["exchange_rate"]), -1)

    async def _advance_vat(self, conn: Connection, e: RecordedEvent, document_id: Any,
                           counterparty_id: Any, day: Any, gross: Decimal, vat: Decimal,
                           rate: Decimal, sign: int) -> None:
        """VAT on an advance received (+), and its offset when the advance is applied to
        the supply (−): Tax Code, georgia.md §1.5."""
        base = round_half_up((gross - vat) * rate, 2) * sign
        await conn.execute(
            "INSERT INTO vat_lines (company_id, day, document_id, line_no, direction,"
            " document_kind, vat_code, counterparty_id, base, vat, deductible)"
            " VALUES (%s, %s, %s, %s, 'sales', 'advance', 'advance18', %s, %s, %s, true)"
            " ON CONFLICT DO NOTHING",
            (e.company_id, day, document_id, e.version, counterparty_id, base,
             round_half_up(vat * rate, 2) * sign))
        await _daily(conn, e.company_id, day, [("sales", "advance18", True, base,
                                                round_half_up(vat * rate, 2) * sign)])

    async def _undo_advance_vat(self, conn: Connection, e: RecordedEvent,
                                r: d.PaymentReversed, counterparty_id: Any) -> None:
        """The VAT lines of the advance (the payment's, less its applications' offsets),
        negated on the reversal's day: exactly what the reversed journals take off 3331."""
        cursor = await conn.execute(
            "SELECT coalesce(sum(base), 0) AS base, coalesce(sum(vat), 0) AS vat"
            "  FROM vat_lines WHERE company_id = %s AND document_kind = 'advance'"
            "   AND document_id = ANY(%s::uuid[])",
            (e.company_id, [str(r.payment_id), *r.applications]))
        left = await cursor.fetchone()
        assert left is not None
        if not left["base"] and not left["vat"]:
            return
        base, vat = -Decimal(left["base"]), -Decimal(left["vat"])
        await conn.execute(
            "INSERT INTO vat_lines (company_id, day, document_id, line_no, direction,"
            " document_kind, vat_code, counterparty_id, base, vat, deductible)"
            " VALUES (%s, %s, %s, %s, 'sales', 'advance', 'advance18', %s, %s, %s, true)"
            " ON CONFLICT DO NOTHING",
            (e.company_id, r.date, r.transaction_id, e.version, counterparty_id, base, vat))
        await _daily(conn, e.company_id, r.date, [("sales", "advance18", True, base, vat)])

    async def _tax_id_checked(self, conn: Connection, e: RecordedEvent) -> None:
        c = d.CounterpartyTaxIdChecked.from_data(e.data)
        verified = c.status == "verified"
        await conn.execute(
            "UPDATE counterparties SET tax_id_check = %s, tax_id_check_detail = %s,"
            " tax_id_checked_at = %s, name = coalesce(%s, name),"
            " vat_payer = coalesce(%s, vat_payer) WHERE company_id = %s AND id = %s",
            (c.status, c.detail or None, e.recorded_at, c.name if verified else None,
             c.vat_payer if verified else None, e.company_id, c.counterparty_id))

    async def _counterparty(self, conn: Connection, e: RecordedEvent) -> None:
        c = d.CounterpartyRegistered.from_data(e.data)
        bank = d.bank_of(c.iban)
        await conn.execute(
            "INSERT INTO counterparties (company_id, id, name, tax_id, country, resident,"
            " vat_payer, iban, bank_bic, bank_name, email, phone, address, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (e.company_id, c.counterparty_id, c.name, c.tax_id, c.country, c.resident,
             c.vat_payer, c.iban, bank[0] if bank else None, bank[1] if bank else None,
             c.email, c.phone, c.address, e.recorded_at))
