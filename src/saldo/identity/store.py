"""SQL for identity's tables (the write side) and the audit events that go with them.

Every function takes the caller's connection: the service decides the transaction and,
for company rows, the company it is scoped to (row-level security does the rest).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import errors as pg_errors

from saldo.identity.domain import NewCompany, Role, User
from saldo.kernel.errors import Conflict
from saldo.kernel.ids import new_id
from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import EventStore, Metadata, NewEvent

# ---------------------------------------------------------------------- users


class UsernameTaken(Conflict):
    code = "username_taken"
    title = "Username taken"


def _user(row: Mapping[str, Any]) -> User:
    return User(row["id"], row["username"], row["full_name"], row["is_superuser"],
                row["is_active"])


_USER_COLUMNS = "id, username, full_name, is_superuser, is_active"


async def insert_user(
    conn: Connection, username: str, full_name: str, password_hash: str, *, is_superuser: bool
) -> User:
    user_id = new_id()
    try:
        async with conn.transaction():  # a savepoint: the caller's transaction survives
            cursor = await conn.execute(
                f"INSERT INTO users (id, username, full_name, password_hash, is_superuser)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {_USER_COLUMNS}",
                (user_id, username, full_name, password_hash, is_superuser),
            )
    except pg_errors.UniqueViolation:
        raise UsernameTaken(f"The username {username!r} is taken.", username=username) from None
    row = await cursor.fetchone()
    assert row is not None
    return _user(row)


async def user_by_id(conn: Connection, user_id: UUID) -> User | None:
    cursor = await conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s", (user_id,))
    row = await cursor.fetchone()
    return _user(row) if row else None


async def user_for_login(conn: Connection, username: str) -> tuple[User, str] | None:
    cursor = await conn.execute(
        f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower(%s)",
        (username,),
    )
    row = await cursor.fetchone()
    return (_user(row), row["password_hash"]) if row else None


async def user_by_username(conn: Connection, username: str) -> User | None:
    cursor = await conn.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE lower(username) = lower(%s)", (username,)
    )
    row = await cursor.fetchone()
    return _user(row) if row else None


async def set_password_hash(conn: Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = %s WHERE id = %s",
                       (password_hash, user_id))


async def principal(
    db: Database, user_id: UUID, family_id: UUID, company_id: UUID | None = None
) -> tuple[User, bool, Role | None] | None:
    """The user behind an access token, whether the token's family is still alive, and
    (given ``company_id``) the user's role there.

    One statement in its own implicit transaction (``saldo_principal``, migration 0007),
    because every authenticated request asks it: the company-scoped ones need all three
    answers before they may do anything.
    """
    row = await db.fetch_one("SELECT * FROM saldo_principal(%s, %s, %s)",
                             (user_id, family_id, company_id))
    if row is None:
        return None
    return _user(row), bool(row["family_alive"]), Role(row["role"]) if row["role"] else None


# ---------------------------------------------------------------------- companies


async def insert_company(conn: Connection, company: NewCompany, created_by: UUID,
                         company_id: UUID) -> None:
    """Insert a company; the transaction must be scoped to ``company_id`` already."""
    await conn.execute(
        "INSERT INTO companies (id, name, tax_id, vat_payer, base_currency, chart_of_accounts,"
        "                       fiscal_year_start_month, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (company_id, company.name, company.tax_id, company.vat_payer, company.base_currency,
         company.chart_of_accounts, company.fiscal_year_start_month, created_by),
    )


async def lock_company(conn: Connection, company_id: UUID) -> bool:
    """Lock the company row: membership changes of one company happen one at a time."""
    cursor = await conn.execute("SELECT 1 FROM companies WHERE id = %s FOR UPDATE", (company_id,))
    return await cursor.fetchone() is not None


async def membership_role(conn: Connection, company_id: UUID, user_id: UUID) -> Role | None:
    cursor = await conn.execute(
        "SELECT role FROM memberships WHERE company_id = %s AND user_id = %s",
        (company_id, user_id),
    )
    row = await cursor.fetchone()
    return Role(row["role"]) if row else None


async def insert_membership(conn: Connection, company_id: UUID, user_id: UUID, role: Role) -> None:
    await conn.execute(
        "INSERT INTO memberships (company_id, user_id, role) VALUES (%s, %s, %s)",
        (company_id, user_id, role.value),
    )


async def update_membership(conn: Connection, company_id: UUID, user_id: UUID, role: Role) -> None:
    await conn.execute(
        "UPDATE memberships SET role = %s WHERE company_id = %s AND user_id = %s",
        (role.value, company_id, user_id),
    )


async def delete_membership(conn: Connection, company_id: UUID, user_id: UUID) -> None:
    await conn.execute("DELETE FROM memberships WHERE company_id = %s AND user_id = %s",
                       (company_id, user_id))


async def count_roles(conn: Connection, company_id: UUID, roles: list[Role]) -> int:
    cursor = await conn.execute(
        "SELECT count(*) AS n FROM memberships WHERE company_id = %s AND role = ANY(%s)",
        (company_id, [r.value for r in roles]),
    )
    row = await cursor.fetchone()
    return int(row["n"]) if row else 0


# ---------------------------------------------------------------------- refresh tokens


async def insert_family(conn: Connection, user_id: UUID) -> UUID:
    family_id = new_id()
    await conn.execute("INSERT INTO token_families (id, user_id) VALUES (%s, %s)",
                       (family_id, user_id))
    return family_id


async def insert_refresh_token(
    conn: Connection, token_hash: bytes, family_id: UUID, parent_id: UUID | None,
    expires_at: datetime,
) -> UUID:
    token_id = new_id()
    await conn.execute(
        "INSERT INTO refresh_tokens (id, token_hash, family_id, parent_id, expires_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (token_id, token_hash, family_id, parent_id, expires_at),
    )
    return token_id


async def refresh_token_for_update(conn: Connection, token_hash: bytes) -> dict[str, Any] | None:
    """The token and its family, both locked: of two concurrent refreshes with one token,
    the second waits, then sees the token rotated (and treats it as reuse)."""
    cursor = await conn.execute(
        "SELECT t.id, t.family_id, t.expires_at, t.rotated_at, f.user_id, f.revoked_at,"
        "       t.expires_at <= now() AS expired"
        "  FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id"
        " WHERE t.token_hash = %s"
        "   FOR UPDATE OF t, f",
        (token_hash,),
    )
    return await cursor.fetchone()


async def mark_rotated(conn: Connection, token_id: UUID) -> None:
    await conn.execute("UPDATE refresh_tokens SET rotated_at = now() WHERE id = %s", (token_id,))


async def revoke_family(conn: Connection, family_id: UUID, because: str) -> bool:
    """Revoke a family; False if it was revoked already."""
    cursor = await conn.execute(
        "UPDATE token_families SET revoked_at = now(), revoked_because = %s"
        " WHERE id = %s AND revoked_at IS NULL RETURNING id",
        (because, family_id),
    )
    return await cursor.fetchone() is not None


async def live_families(conn: Connection, user_id: UUID) -> list[UUID]:
    """The user's families not revoked yet, locked (logging out everywhere)."""
    cursor = await conn.execute(
        "SELECT id FROM token_families WHERE user_id = %s AND revoked_at IS NULL"
        " ORDER BY id FOR UPDATE", (user_id,))
    return [row["id"] for row in await cursor.fetchall()]


# ---------------------------------------------------------------------- audit


async def record(
    conn: Connection,
    events: EventStore,
    stream_id: str,
    stream_type: str,
    event_type: str,
    data: Mapping[str, Any],
    metadata: Metadata,
) -> None:
    """Append one audit event to ``stream_id`` in the caller's transaction.

    Audit streams (a user's, a company's) have no decision riding on their version, so
    appends are serialised per stream with a transaction-level advisory lock instead of
    failing one of two concurrent logins with a version conflict.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (stream_id,))
    await events.append(conn, stream_id, stream_type, None, [NewEvent(event_type, data)],
                        metadata)


# ------------------------------------------------------------ member invitations

async def insert_invitation(conn: Connection, company_id: UUID, username: str, role: Role,
                            invited_by: UUID) -> None:
    """Invite ``username`` (no user of that name yet); inviting again updates the role."""
    await conn.execute(
        "INSERT INTO member_invitations (company_id, username, role, invited_by)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (company_id, username)"
        " DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by",
        (company_id, username, role.value, invited_by))


async def invitation_role(conn: Connection, company_id: UUID, username: str) -> Role | None:
    cursor = await conn.execute(
        "SELECT role FROM member_invitations WHERE company_id = %s AND lower(username) = lower(%s)",
        (company_id, username))
    row = await cursor.fetchone()
    return Role(row["role"]) if row else None


async def delete_invitation(conn: Connection, company_id: UUID, username: str) -> bool:
    cursor = await conn.execute(
        "DELETE FROM member_invitations WHERE company_id = %s AND lower(username) = lower(%s)",
        (company_id, username))
    return cursor.rowcount > 0


async def invitations_of(conn: Connection, username: str) -> list[tuple[UUID, Role, UUID]]:
    """(company, role, invited by) of every invitation of ``username``, across companies:
    readable only while that user is being created (``saldo.invitee``)."""
    await conn.execute("SELECT set_config('saldo.invitee', %s, true)", (username,))
    cursor = await conn.execute(
        "SELECT company_id, role, invited_by FROM member_invitations"
        " WHERE lower(username) = lower(%s) ORDER BY created_at", (username,))
    rows = await cursor.fetchall()
    await conn.execute("SELECT set_config('saldo.invitee', '', true)")
    return [(r["company_id"], Role(r["role"]), r["invited_by"]) for r in rows]


async def act_for_company(conn: Connection, company_id: UUID) -> None:
    """Row-level security: the rest of this transaction acts for ``company_id``."""
    await conn.execute("SELECT set_config('saldo.company_id', %s, true)", (str(company_id),))
