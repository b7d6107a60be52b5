"""The turnover trial balance (ბრუნვითი უწყისი)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.reporting.domain.chart import ZERO, Account, Chart, Sums, money, sides


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    account: Account
    depth: int
    sums: Sums

    @property
    def columns(self) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
        od, oc = sides(self.sums.opening)
        cd, cc = sides(self.sums.closing)
        return od, oc, self.sums.debit, self.sums.credit, cd, cc


TB_COLUMNS = ("opening_debit", "opening_credit", "debit", "credit", "closing_debit",
              "closing_credit")


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """The turnover trial balance (ბრუნვითი უწყისი)."""

    date_from: date
    date_to: date
    level: str
    rows: tuple[TrialBalanceRow, ...]
    totals: tuple[Decimal, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            row: dict[str, Any] = {"code": r.account.code, "name": r.account.label(lang),
                                   "name_ka": r.account.name_ka, "level": r.depth,
                                   "postable": r.account.postable}
            row.update(zip(TB_COLUMNS, map(money, r.columns), strict=True))
            rows.append(row)
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "level": self.level, "rows": rows,
                "totals": dict(zip(TB_COLUMNS, map(money, self.totals), strict=True))}


def rolled_up(chart: Chart, sums: Mapping[str, Sums]) -> dict[str, Sums]:
    """Every account's sums with its sub-accounts' added: a header holds its subtree."""
    totals: dict[str, Sums] = {}
    for code, s in sums.items():
        for ancestor in chart.lineage(code):
            totals[ancestor] = totals.get(ancestor, Sums()) + s
    return totals


def trial_balance(chart: Chart, sums: Mapping[str, Sums], date_from: date, date_to: date,
                  level: str = "postable", account_class: int | None = None,
                  include_zero: bool = False) -> TrialBalance:
    """Rows at ``level``: ``postable`` (default) the accounts that take postings, no
    roll-up rows; ``class``/``group``/``account`` the headers at depth 0/1/2 holding their
    subtree (with any postable account above that depth, so nothing is left out);
    ``all`` every account, headers rolled up. Totals add the rows shown -- for ``all``
    the postable rows only, so nothing is counted twice."""
    rolled = rolled_up(chart, sums)
    depth_of = {"class": 0, "group": 1, "account": 2}
    rows: list[TrialBalanceRow] = []
    for code in sorted(chart.accounts):
        account = chart[code]
        depth = chart.depth(code)
        if level in depth_of:
            wanted = depth == depth_of[level] or (account.postable and depth < depth_of[level])
        else:
            wanted = level == "all" or account.postable
        if not wanted or (account_class is not None and chart.class_of(code) != account_class):
            continue
        row = TrialBalanceRow(account, depth, rolled.get(code, Sums()))
        if not any(row.columns) and not (include_zero and account.active):
            continue
        rows.append(row)
    counted = [r for r in rows if level != "all" or r.account.postable]
    totals = tuple(sum((r.columns[i] for r in counted), ZERO) for i in range(6))
    return TrialBalance(date_from, date_to, level, tuple(rows), totals)
