"""The statement of changes in equity (საკუთარ კაპიტალში ცვლილებების ანგარიშგება, IAS 1.106),
with no plug row: every movement of an equity column comes from the transaction that made
it, classified by what the transaction did (docs/reporting.md).

Columns: share capital (51xx, less subscribed capital not yet paid -- an asset classified
``equity``, IAS 32.22), partners' equity (52xx), retained earnings (53xx and the result not
yet closed), the revaluation reserve (5420, IAS 16.39), the translation reserve (5430,
IAS 21.39), other reserves (any other equity account).

Rows, per line of an equity account (``v = credit − debit``):

* profit for the period: from the profit-or-loss accounts (year-end closings excluded);
* other comprehensive income: a revaluation or translation reserve moved against
  anything but equity (IAS 1.7, 1.82A);
* issue of capital and other contributions by owners: share capital, partners' equity or
  other reserves moved against a non-equity balance (cash, a receivable);
* dividends: retained earnings debited against a non-equity balance (3420, cash), or
  credited against dividends payable (a declaration reversed);
* transfers within equity: a transaction whose lines are all equity (capital subscribed
  ``Dr 1460 Cr 5150``, a reserve released to retained earnings), or an equity account
  moved against profit-or-loss accounts only (a closing made by hand);
* anything else -- retained earnings *credited* from a balance-sheet account, say -- is
  an exception: listed with its transaction, in a row of its own, never merged into a
  difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.reporting.domain.chart import ZERO, Chart, Name, Sums, money, profit, unclosed_result

EQUITY_COLUMNS: tuple[tuple[str, str | None, Name], ...] = (
    ("share_capital", "5100", Name("Share capital", "სააქციო (საწესდებო) კაპიტალი")),
    ("partners_equity", "5200", Name("Partners' equity", "პარტნიორთა კაპიტალი")),
    ("retained_earnings", "5300", Name("Retained earnings", "გაუნაწილებელი მოგება")),
    ("revaluation_reserve", "5420", Name("Revaluation reserve", "გადაფასების რეზერვი")),
    ("translation_reserve", "5430", Name("Translation reserve",
                                         "უცხოური ვალუტის გადაანგარიშების რეზერვი")),
    ("other_reserves", None, Name("Other reserves", "სხვა რეზერვები")),
    ("total", None, Name("Total equity", "სულ საკუთარი კაპიტალი")),
)
#: The reserves whose movements against non-equity are other comprehensive income.
OCI_COLUMNS = ("revaluation_reserve", "translation_reserve")
_CAPITAL_COLUMNS = ("share_capital", "partners_equity", "other_reserves")
EQUITY_ROWS: tuple[tuple[str, Name], ...] = (
    ("opening", Name("Balance at the beginning of the period",
                     "ნაშთი პერიოდის დასაწყისში")),
    ("profit", Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)")),
    ("other_comprehensive_income", Name("Other comprehensive income",
                                        "სხვა სრული შემოსავალი")),
    ("total_comprehensive_income", Name("Total comprehensive income for the period",
                                        "პერიოდის მთლიანი სრული შემოსავალი")),
    ("issue_of_capital", Name("Issue of capital and other contributions by owners",
                              "კაპიტალის გამოშვება და მესაკუთრეთა სხვა შენატანები")),
    ("dividends", Name("Dividends", "დივიდენდები")),
    ("transfers", Name("Transfers within equity", "გადატანები კაპიტალის შიგნით")),
    ("exceptions", Name("Not explained: see the exceptions listed",
                        "აუხსნელი ცვლილებები (იხ. გამონაკლისები)")),
    ("closing", Name("Balance at the end of the period", "ნაშთი პერიოდის ბოლოს")),
)
#: Rows that are not movements (the total comprehensive income sums two rows above it).
_NOT_MOVEMENTS = ("opening", "total_comprehensive_income", "closing")
DIVIDENDS_FROM, DIVIDENDS_TO = "5310", "3420"


def equity_column(chart: Chart, code: str) -> str:
    """The column of an equity account (or an asset deducted from equity: share
    capital)."""
    account = chart[code]
    if account.type == "asset":  # subscribed capital not yet paid in
        return "share_capital"
    for key, group, _ in EQUITY_COLUMNS:
        if group is not None and chart.is_under(code, group):
            return key
    return "other_reserves"


def in_equity(chart: Chart, code: str) -> bool:
    """An equity account, or an asset presented as a deduction from equity."""
    account = chart[code]
    return account.type == "equity" or (account.type == "asset"
                                        and account.classification == "equity")


def equity_codes(chart: Chart) -> list[str]:
    return sorted(c for c in chart.accounts if in_equity(chart, c))


@dataclass(frozen=True, slots=True)
class EquityException:
    """A movement of equity no row explains."""

    transaction_id: Any
    date: date | None
    number: int | None
    amounts: dict[str, Decimal]

    def as_json(self) -> dict[str, Any]:
        return {"transaction_id": str(self.transaction_id),
                "date": self.date.isoformat() if self.date else None, "number": self.number,
                **{k: money(v) for k, v in self.amounts.items()}}


@dataclass(slots=True)
class EquityMovements:
    rows: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    exceptions: list[EquityException] = field(default_factory=list)
    dividends: Decimal = ZERO

    def add(self, row: str, column: str, amount: Decimal) -> None:
        values = self.rows.setdefault(row, {})
        values[column] = values.get(column, ZERO) + amount


def _v(line: Mapping[str, Any]) -> Decimal:
    return Decimal(line["credit"]) - Decimal(line["debit"])


def equity_movements(chart: Chart, lines: Iterable[Mapping[str, Any]]) -> EquityMovements:
    """The movements of every equity column by row, from ``lines``: every line of the
    transactions in the range that touch an equity account (year-end closings left out:
    they only move profit into retained earnings, inside one column)."""
    by_transaction: dict[Any, list[Mapping[str, Any]]] = {}
    for line in lines:
        if line.get("kind") != "closing":
            by_transaction.setdefault(line["transaction_id"], []).append(line)
    out = EquityMovements()
    for tx_id, tx in by_transaction.items():
        own = [x for x in tx if in_equity(chart, x["account_code"])]
        others = [x for x in tx if not in_equity(chart, x["account_code"])]
        against_result_only = all(chart[x["account_code"]].in_profit_or_loss for x in others)
        unexplained: dict[str, Decimal] = {}
        for x in own:
            column, v = equity_column(chart, x["account_code"]), _v(x)
            if not v:
                continue
            if not others or (against_result_only and column not in OCI_COLUMNS):
                out.add("transfers", column, v)
            elif column in OCI_COLUMNS:
                out.add("other_comprehensive_income", column, v)
            elif column in _CAPITAL_COLUMNS:
                out.add("issue_of_capital", column, v)
            elif v < 0 or any(chart.is_under(o["account_code"], DIVIDENDS_TO)
                              for o in others):
                # retained earnings paid out or declared (or such a declaration reversed)
                out.add("dividends", column, v)
                out.dividends -= v
            else:
                out.add("exceptions", column, v)
                unexplained[column] = unexplained.get(column, ZERO) + v
        if unexplained:
            first = tx[0]
            out.exceptions.append(EquityException(tx_id, first.get("entry_date"),
                                                  first.get("number"), unexplained))
    out.exceptions.sort(key=lambda e: (e.date or date.min, e.number or 0))
    return out


def dividends(chart: Chart, lines: Iterable[Mapping[str, Any]]) -> Decimal:
    """Dividends declared or paid out of retained earnings in ``lines`` (a reversal counts
    negative)."""
    return equity_movements(chart, lines).dividends


@dataclass(frozen=True, slots=True)
class ChangesInEquity:
    """The statement of changes in equity (საკუთარ კაპიტალში ცვლილებების ანგარიშგება)."""

    date_from: date
    date_to: date
    rows: tuple[tuple[str, Name, dict[str, Decimal]], ...]
    exceptions: tuple[EquityException, ...] = ()

    def row(self, key: str) -> dict[str, Decimal]:
        return next((values for k, _, values in self.rows if k == key),
                    dict.fromkeys((k for k, _, _ in EQUITY_COLUMNS), ZERO))

    @property
    def reconciled(self) -> bool:
        """Opening + every movement row = closing, in every column."""
        return all(
            self.row("opening")[c] + sum((v[c] for k, _, v in self.rows
                                          if k not in _NOT_MOVEMENTS), ZERO)
            == self.row("closing")[c] for c, _, _ in EQUITY_COLUMNS)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "columns": [{"key": k, "name": n(lang), "name_ka": n.ka}
                            for k, _, n in EQUITY_COLUMNS],
                "rows": [{"key": k, "name": n(lang), "name_ka": n.ka,
                          **{c: money(v) for c, v in values.items()}}
                         for k, n, values in self.rows],
                "exceptions": [e.as_json() for e in self.exceptions],
                "reconciled": self.reconciled}


def changes_in_equity(chart: Chart, sums: Mapping[str, Sums],
                      lines: Iterable[Mapping[str, Any]], date_from: date,
                      date_to: date) -> ChangesInEquity:
    """Opening and closing balances per column from ``sums`` (``credit − debit``; retained
    earnings with the unclosed result); the movements between them from ``lines``
    (:func:`equity_movements`) and profit from ``sums``. Nothing is derived as a
    difference, so ``reconciled`` is a real check."""
    keys = [k for k, _, _ in EQUITY_COLUMNS if k != "total"]
    opening = dict.fromkeys(keys, ZERO)
    closing = dict.fromkeys(keys, ZERO)
    for code, s in sums.items():
        if in_equity(chart, code):
            column = equity_column(chart, code)
            opening[column] -= s.opening
            closing[column] -= s.closing
    unclosed_opening, unclosed_closing = unclosed_result(chart, sums)
    opening["retained_earnings"] += unclosed_opening
    closing["retained_earnings"] += unclosed_closing
    movements = equity_movements(chart, lines)
    values: dict[str, dict[str, Decimal]] = {
        "opening": opening, "closing": closing,
        "profit": {"retained_earnings": profit(chart, sums)}, **movements.rows}
    oci = values.get("other_comprehensive_income", {})
    values["total_comprehensive_income"] = {
        k: values["profit"].get(k, ZERO) + oci.get(k, ZERO) for k in keys}
    rows = []
    for key, name in EQUITY_ROWS:
        if key in ("exceptions", "transfers") and key not in values:
            continue  # shown only when something happened
        row = {k: values.get(key, {}).get(k, ZERO) for k in keys}
        rows.append((key, name, {**row, "total": sum(row.values(), ZERO)}))
    return ChangesInEquity(date_from, date_to, tuple(rows), tuple(movements.exceptions))
