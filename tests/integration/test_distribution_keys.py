"""The schema is ready to be distributed by company (issue 18 item 5; docs/scaling.md §2;
decisions 0059, 0065): every primary, unique and foreign key of a table that holds a
``company_id`` includes ``company_id``, so Citus can enforce each within one shard.

The few keys that may stay global are listed with the reason in docs/scaling.md; a new
one fails here until it follows the rule or is added there and below with its reason."""

from __future__ import annotations

import pytest

from saldo.platform.db import Database

pytestmark = pytest.mark.integration

#: (table, constraint) pairs allowed without company_id, each explained in docs/scaling.md.
GLOBAL_KEYS = {
    # The event store's own keys: per shard once distributed; event ids are UUIDv7.
    ("events", "events_pkey"),
    ("events", "events_event_id_key"),
    ("events", "events_stream_version"),
    # A stream's newest snapshot, keyed by the stream as its events are (decision 0067).
    ("snapshots", "snapshots_pkey"),
    # Foreign keys to users, a global table that becomes a Citus reference table.
    ("memberships", "memberships_user_id_fkey"),
    ("member_invitations", "member_invitations_invited_by_fkey"),
    # Relay machinery, kept on the coordinator as a local table.
    ("relay_dead_letters", "relay_dead_letters_pkey"),
}

QUERY = """
SELECT c.conrelid::regclass::text AS table_name, c.conname AS constraint_name
  FROM pg_constraint c
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
 WHERE c.contype IN ('p', 'u', 'f') AND c.connamespace = 'public'::regnamespace
   AND EXISTS (SELECT 1 FROM pg_attribute x WHERE x.attrelid = c.conrelid
                                              AND x.attname = 'company_id'
                                              AND NOT x.attisdropped)
 GROUP BY 1, 2
HAVING NOT 'company_id' = ANY (array_agg(a.attname::text))
"""


async def test_every_company_key_includes_company_id(db: Database) -> None:
    async with db.connection() as conn:
        rows = await (await conn.execute(QUERY)).fetchall()
        keyed = await (await conn.execute(
            "SELECT count(*) AS n FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'f')"
            " AND c.connamespace = 'public'::regnamespace AND EXISTS (SELECT 1 FROM"
            " pg_attribute a WHERE a.attrelid = c.conrelid AND a.attname = 'company_id'"
            " AND a.attnum = ANY (c.conkey))")).fetchone()
        await conn.rollback()
    assert keyed is not None
    assert keyed["n"] > 20
    found = {(r["table_name"], r["constraint_name"]) for r in rows}
    unexplained = sorted(found - GLOBAL_KEYS)
    assert not unexplained, (
        "keys of company tables without company_id (docs/scaling.md §2: include "
        f"company_id, e.g. PRIMARY KEY (company_id, id), or explain it there): {unexplained}")
