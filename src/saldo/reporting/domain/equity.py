"""The statement of changes in equity (საკუთარ კაპიტალში ცვლილებების ანგარიშგება)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.reporting.domain.chart import ZERO, Chart, Name, Sums, money, profit, unclosed_result

EQUITY_COLUMNS: tuple[tuple[str, str | None, Name], ...] = (
    ("share_capital", "5100", Name("Share capital", "სააქციო (საწესდებო) კაპიტალი")),
    ("partners_equity", "5200", Name("Partners' equity", "პარტნიორთა კაპიტალი")),
    ("retained_earnings", "5300", Name("Retained earnings", "გაუნაწილებელი მოგება")),
    ("reserves", "5400", Name("Reserves", "რეზერვები")),
    ("total", None, Name("Total equity", "სულ საკუთარი კაპიტალი")),
)
EQUITY_ROWS: tuple[tuple[str, Name], ...] = (
    ("opening", Name("Balance at the beginning of the period",
                     "ნაშთი პერიოდის დასაწყისში")),
    ("profit", Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)")),
    ("dividends", Name("Dividends", "დივიდენდები")),
    ("other", Name("Other movements", "სხვა ცვლილებები")),
    ("closing", Name("Balance at the end of the period", "ნაშთი პერიოდის ბოლოს")),
)
DIVIDENDS_FROM, DIVIDENDS_TO = "5310", "3420"


def equity_column(chart: Chart, code: str) -> str:
    """The column of an equity account: 51xx share capital, 52xx partners' equity, 53xx
    retained earnings, 54xx and any other equity reserves."""
    for key, group, _ in EQUITY_COLUMNS:
        if group is not None and chart.is_under(code, group):
            return key
    return "reserves"


def dividends(chart: Chart, lines: Iterable[Mapping[str, Any]]) -> Decimal:
    """Dividends declared: per transaction, the debit to retained earnings (5310) matched
    by a credit to dividends payable (3420); a reversal counts negative."""
    per_tx: dict[Any, list[Decimal]] = {}
    for x in lines:
        code = x["account_code"]
        pair = per_tx.setdefault(x["transaction_id"], [ZERO, ZERO])
        if chart.is_under(code, DIVIDENDS_FROM):
            pair[0] += Decimal(x["debit"]) - Decimal(x["credit"])
        elif chart.is_under(code, DIVIDENDS_TO):
            pair[1] += Decimal(x["credit"]) - Decimal(x["debit"])
    total = ZERO
    for retained, payable in per_tx.values():
        if retained > 0 and payable > 0:
            total += min(retained, payable)
        elif retained < 0 and payable < 0:
            total -= min(-retained, -payable)
    return total


@dataclass(frozen=True, slots=True)
class ChangesInEquity:
    """The statement of changes in equity (საკუთარ კაპიტალში ცვლილებების ანგარიშგება)."""

    date_from: date
    date_to: date
    rows: tuple[tuple[str, Name, dict[str, Decimal]], ...]

    def row(self, key: str) -> dict[str, Decimal]:
        return next(values for k, _, values in self.rows if k == key)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "columns": [{"key": k, "name": n(lang), "name_ka": n.ka}
                            for k, _, n in EQUITY_COLUMNS],
                "rows": [{"key": k, "name": n(lang), "name_ka": n.ka,
                          **{c: money(v) for c, v in values.items()}}
                         for k, n, values in self.rows]}


def changes_in_equity(chart: Chart, sums: Mapping[str, Sums], dividends_declared: Decimal,
                      date_from: date, date_to: date) -> ChangesInEquity:
    """Opening and closing balances per column (``credit − debit``; retained earnings with
    the unclosed result), profit for the period and dividends in retained earnings, and
    whatever else moved as other movements -- so each column adds up by construction."""
    keys = [k for k, _, _ in EQUITY_COLUMNS if k != "total"]
    opening = dict.fromkeys(keys, ZERO)
    closing = dict.fromkeys(keys, ZERO)
    for code, s in sums.items():
        if chart[code].type == "equity":
            column = equity_column(chart, code)
            opening[column] -= s.opening
            closing[column] -= s.closing
    unclosed_opening, unclosed_closing = unclosed_result(chart, sums)
    opening["retained_earnings"] += unclosed_opening
    closing["retained_earnings"] += unclosed_closing
    profit_row = {**dict.fromkeys(keys, ZERO), "retained_earnings": profit(chart, sums)}
    dividend_row = {**dict.fromkeys(keys, ZERO), "retained_earnings": -dividends_declared}
    other = {k: closing[k] - opening[k] - profit_row[k] - dividend_row[k] for k in keys}
    rows = []
    for (key, name), values in zip(EQUITY_ROWS, (opening, profit_row, dividend_row, other,
                                                 closing), strict=True):
        rows.append((key, name, {**values, "total": sum(values.values(), ZERO)}))
    return ChangesInEquity(date_from, date_to, tuple(rows))
