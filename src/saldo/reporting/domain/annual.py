"""The annual set of financial statements (IAS 1.10): each statement of a fiscal year with
the year before beside it (IAS 1.38 comparatives), as one report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from saldo.reporting.domain.cash_flow import CashFlows
from saldo.reporting.domain.equity import ChangesInEquity
from saldo.reporting.domain.statements import (
    ComprehensiveIncome,
    FinancialPosition,
    ProfitOrLoss,
)


@dataclass(frozen=True, slots=True)
class AnnualSet:
    """``cash_flows`` and ``changes_in_equity``: the year, then the year before (when
    comparatives are shown); the other statements carry their comparative column."""

    date_from: date
    date_to: date
    compare: tuple[date, date] | None
    financial_position: FinancialPosition
    profit_or_loss: ProfitOrLoss
    comprehensive_income: ComprehensiveIncome
    cash_flows: tuple[CashFlows, ...]
    changes_in_equity: tuple[ChangesInEquity, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        def prior(items: tuple[Any, ...]) -> dict[str, Any] | None:
            return items[1].as_json(lang) if len(items) > 1 else None

        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "compare_from": self.compare[0].isoformat() if self.compare else None,
                "compare_to": self.compare[1].isoformat() if self.compare else None,
                "comparatives": self.compare is not None,
                "financial_position": self.financial_position.as_json(lang),
                "profit_or_loss": self.profit_or_loss.as_json(lang),
                "comprehensive_income": self.comprehensive_income.as_json(lang),
                "cash_flows": self.cash_flows[0].as_json(lang),
                "cash_flows_comparative": prior(self.cash_flows),
                "changes_in_equity": self.changes_in_equity[0].as_json(lang),
                "changes_in_equity_comparative": prior(self.changes_in_equity)}
