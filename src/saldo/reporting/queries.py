"""Reporting's own reads: how many journal lines a report would read, counted before it
reads them (docs/reporting.md §1, limits).

The count comes from the ledger's daily turnover (``account_turnover.lines``, one row per
account and day), so it costs what a trial balance costs, whatever the number of lines.

This belongs in ``saldo.ledger.queries``, the one door reporting uses to the ledger's
tables (ADR 0012); it lives here only until that module is free to take it (it was
being changed when the limit was added). Move it there unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from saldo.platform.db import Connection

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
