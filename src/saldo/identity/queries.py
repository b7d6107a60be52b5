"""Identity's read side. Each function runs in the caller's transaction, which names the
user (``GET /me``, ``GET /companies``) or the company (members, audit); row-level
security lets nothing else through."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from saldo.platform.db import Connection

IDENTITY_STREAM_TYPES = ["identity.user", "identity.company", "identity.login"]


async def memberships(conn: Connection, user_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT c.id AS company_id, c.name AS company_name, m.role"
        "  FROM memberships m JOIN companies c ON c.id = m.company_id"
        " WHERE m.user_id = %s ORDER BY c.name, c.id",
        (user_id,),
    )
    return list(await cursor.fetchall())


async def companies(conn: Connection, user_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT c.id, c.name, c.tax_id, c.vat_payer, c.base_currency, c.chart_of_accounts,"
        "       c.fiscal_year_start_month, m.role"
        "  FROM memberships m JOIN companies c ON c.id = m.company_id"
        " WHERE m.user_id = %s ORDER BY c.name, c.id",
        (user_id,),
    )
    return list(await cursor.fetchall())


async def members(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT username, full_name, role, status FROM ("
        " SELECT u.username, u.full_name, m.role, 'active' AS status"
        "   FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.company_id = %(c)s"
        " UNION ALL"
        " SELECT i.username, '' AS full_name, i.role, 'invited' AS status"
        "   FROM member_invitations i WHERE i.company_id = %(c)s"
        ") AS m ORDER BY lower(username)",
        {"c": company_id},
    )
    return list(await cursor.fetchall())


_AUDIT_COLUMNS = ("SELECT position, event_type AS type, recorded_at, metadata->>'actor' AS actor,"
                  "       company_id, data FROM events")


async def company_audit(conn: Connection, company_id: UUID, limit: int) -> list[dict[str, Any]]:
    """Identity events of one company (its creation, members and roles), newest first."""
    cursor = await conn.execute(
        f"{_AUDIT_COLUMNS} WHERE company_id = %s AND stream_type = 'identity.company'"
        " ORDER BY position DESC LIMIT %s",
        (company_id, limit),
    )
    return list(await cursor.fetchall())


async def system_audit(
    conn: Connection, limit: int, event_type: str | None
) -> list[dict[str, Any]]:
    """Every identity event (logins, failures, revocations, memberships), newest first."""
    cursor = await conn.execute(
        # The LIKE is the partial index's predicate (migration 0011), written out so that
        # the planner uses the index even for a generic plan, where ANY(%s) is unknown.
        f"{_AUDIT_COLUMNS} WHERE stream_type LIKE 'identity.%%' AND stream_type = ANY(%s)"
        "   AND (%s::text IS NULL OR event_type = %s::text)"
        " ORDER BY position DESC LIMIT %s",
        (IDENTITY_STREAM_TYPES, event_type, event_type, limit),
    )
    return list(await cursor.fetchall())


async def company_settings(conn: Connection, company_id: UUID) -> dict[str, Any] | None:
    """What other contexts need to know of a company: currency, fiscal year, VAT status."""
    cursor = await conn.execute(
        "SELECT id, name, tax_id, vat_payer, base_currency, fiscal_year_start_month"
        "  FROM companies WHERE id = %s", (company_id,))
    return await cursor.fetchone()
