"""The rs.ge exchange's read side. Each function runs in the caller's transaction (under
row-level security for the company the transaction names)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from saldo.platform.db import Connection

_EINVOICE = ("SELECT document_id, status, number, kind, corrects, rs_id, series, rs_number,"
             " rs_status, lines_total, lines_saved, attempts, last_error, next_attempt_at,"
             " queued_at, updated_at FROM rs_einvoices")


async def credentials_row(conn: Connection, company_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT service_user, secret, updated_at, last_sync_at FROM rs_credentials"
        " WHERE company_id = %s", (company_id,))
    return await cursor.fetchone()


async def einvoice(conn: Connection, company_id: UUID,
                   document_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(f"{_EINVOICE} WHERE company_id = %s AND document_id = %s",
                                (company_id, document_id))
    return await cursor.fetchone()


async def einvoices(conn: Connection, company_id: UUID, status: str | None = None,
                    limit: int = 500) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        f"{_EINVOICE} WHERE company_id = %s AND (%s::text IS NULL OR status = %s::text)"
        " ORDER BY queued_at DESC, document_id LIMIT %s",
        (company_id, status, status, limit))
    return list(await cursor.fetchall())


async def einvoice_counts(conn: Connection, company_id: UUID) -> dict[str, int]:
    cursor = await conn.execute("SELECT status, count(*) AS n FROM rs_einvoices"
                                " WHERE company_id = %s GROUP BY status", (company_id,))
    return {r["status"]: int(r["n"]) for r in await cursor.fetchall()}


_INCOMING = ("SELECT rs_id, series, number, date, supplier_tax_id, supplier_name, total, vat,"
             " rs_status, bill_id, match, decision, decided_by, decided_at, synced_at,"
             " vat_held, vat_transaction"
             " FROM rs_incoming")


async def incoming(conn: Connection, company_id: UUID, rs_id: int) -> dict[str, Any] | None:
    cursor = await conn.execute(f"{_INCOMING} WHERE company_id = %s AND rs_id = %s",
                                (company_id, rs_id))
    return await cursor.fetchone()


async def incoming_list(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(f"{_INCOMING} WHERE company_id = %s ORDER BY date DESC, rs_id",
                                (company_id,))
    return list(await cursor.fetchall())


async def matched_bills(conn: Connection, company_id: UUID) -> set[UUID]:
    cursor = await conn.execute("SELECT bill_id FROM rs_incoming WHERE company_id = %s"
                                " AND bill_id IS NOT NULL", (company_id,))
    return {r["bill_id"] for r in await cursor.fetchall()}


_WAYBILL = ("SELECT id, direction, rs_id, number, status, type, document_id, buyer_tax_id,"
            " buyer_name, seller_tax_id, start_address, end_address, total, buyer_decision,"
            " created_at, updated_at FROM rs_waybills")


async def waybill(conn: Connection, company_id: UUID, waybill_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(f"{_WAYBILL} WHERE company_id = %s AND id = %s",
                                (company_id, waybill_id))
    return await cursor.fetchone()


async def waybills(conn: Connection, company_id: UUID,
                   direction: str | None = None) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        f"{_WAYBILL} WHERE company_id = %s AND (%s::text IS NULL OR direction = %s::text)"
        " ORDER BY created_at DESC, id", (company_id, direction, direction))
    return list(await cursor.fetchall())
