"""Charts of accounts shipped with Saldo, one CSV file per chart.

``ge-standard`` is the Georgian 4-digit practitioner chart (reference/georgia.md §5.2):
classes 1-9 as headers ``X000``, groups as headers ``XY00``, four-digit leaves. A chart is
copied into each new company's books when the company is created; after that the company's
copy is its own (sub-accounts, deactivation), and changing a file here changes only
companies created later.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

from saldo.identity.service import CHARTS
from saldo.ledger.domain import Account, AccountType, CashFlow, Classification, NormalBalance


@cache
def chart(name: str) -> tuple[Account, ...]:
    if name not in CHARTS:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(f"{name}.csv").read_text(encoding="utf-8")
    codes: set[str] = set()
    parents: set[str] = set()
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        codes.add(row["code"])
        if row["parent_code"]:
            parents.add(row["parent_code"])
    return tuple(
        Account(code=row["code"], name=row["name"], name_ka=row["name_ka"],
                type=AccountType(row["type"]), normal_balance=NormalBalance(row["normal_balance"]),
                classification=Classification(row["classification"]),
                parent_code=row["parent_code"] or None, postable=row["code"] not in parents,
                # Accounts kept for history only (3370, social tax, abolished in 2008).
                active=(row.get("active") or "true") == "true",
                # IAS 7: the account's cash-flow activity (docs/reporting.md).
                cash_flow=CashFlow(row["cash_flow"]))
        for row in rows
    )
