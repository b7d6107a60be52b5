"""The accounting identities as Hypothesis properties over random valid ledgers.

Each example posts random balanced transactions over two fiscal years (2025, 2026) into a
fresh company with ``container.ledger.post_batch``, sometimes closes 2025, and checks:

* the trial balance's totals balance (opening, turnover, closing; at every level);
* assets = liabilities + equity at several dates;
* profit for a range = the change in retained earnings (53xx) plus the unclosed result
  over it -- whether or not a year-end close falls inside (closing only moves profit into
  retained earnings);
* both cash-flow methods equal the change in cash, and each other.

Profit, cash and assets are also checked against a model kept by the test from the
generated transactions (year-end closings touch none of them), not only against the
code's own figures.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import Harness

from saldo.identity.domain import CompanyContext, NewCompany, Permission, User
from saldo.ledger.domain import ContentInput, LineDraft
from saldo.reporting.service import Options, ReportingService

pytestmark = pytest.mark.integration

CASH = ("1110", "1210")
ASSETS = (*CASH, "1410", "1610", "2150", "2250")
OTHERS = ("3110", "3210", "3310", "3330", "3410", "3420", "4110", "5150", "5410", "5420")
INCOME_AND_EXPENSE = ("6110", "6120", "7210", "7420", "8140", "8145", "8210", "8240",
                      "8250", "9210")
ACCOUNTS = (*ASSETS, *OTHERS, *INCOME_AND_EXPENSE)
FIRST_DAY, LAST_DAY = date(2025, 1, 1), date(2026, 12, 31)
dates = st.dates(FIRST_DAY, LAST_DAY)

SETTINGS = settings(max_examples=15, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

Line = tuple[str, int, int]  # account, debit cents, credit cents


@st.composite
def transactions(draw: st.DrawFn) -> tuple[date, tuple[Line, ...]]:
    debits = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=3))
    total = sum(debits)
    parts = draw(st.integers(1, min(3, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1,
                                max_size=parts - 1, unique=True))) if parts > 1 else []
    credits = [b - a for a, b in itertools.pairwise([0, *cuts, total])]
    accounts = st.sampled_from(ACCOUNTS)
    lines = [(draw(accounts), c, 0) for c in debits] + [(draw(accounts), 0, c)
                                                         for c in credits]
    return draw(dates), tuple(lines)


def cents(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


@dataclass
class Books:
    service: ReportingService
    ctx: CompanyContext
    posted: list[tuple[date, tuple[Line, ...]]] = field(default_factory=list)

    async def report(self, name: str, **options: Any) -> Any:
        built, _ = await self.service.build(self.ctx, name, Options(**options))
        return built

    def model(self, start: date, end: date, accounts: tuple[str, ...]) -> Decimal:
        """Σ debit − credit of ``accounts`` over the generated lines dated in the range."""
        return sum((cents(dr - cr) for day, lines in self.posted if start <= day <= end
                    for code, dr, cr in lines if code in accounts), Decimal(0))


@dataclass
class World:
    h: Harness
    chief: User
    names: itertools.count[int] = field(default_factory=itertools.count)

    async def books(self, txs: list[tuple[date, tuple[Line, ...]]], close: bool) -> Books:
        identity, ledger = self.h.container.identity, self.h.container.ledger
        company = await identity.create_company(
            self.chief, NewCompany(f"Property {next(self.names)} LLC", "204567891", True))
        ctx = await identity.member_context(company.id, "chief", Permission.TRANSACTIONS_APPROVE)
        rows = [(i, ContentInput(day, f"Random {i}", [
            LineDraft(code, debit=str(cents(dr)) if dr else None,
                      credit=str(cents(cr)) if cr else None) for code, dr, cr in lines]))
            for i, (day, lines) in enumerate(txs, start=1)]
        result = await ledger.post_batch(ctx, rows)
        assert result.ok, result.findings
        if close:
            await ledger.close_fiscal_year(ctx, 2025)
        reader = await identity.member_context(company.id, "chief",
                                               Permission.REPORTS_FINANCIAL)
        return Books(ReportingService(self.h.container.app_db, ledger,
                                      threads=self.h.container.reporting.threads),
                     reader, txs)


@pytest.fixture
async def world(h: Harness) -> World:
    return World(h, await h.user("chief"))



def retained_and_unclosed(bs: Any) -> Decimal:
    """Retained earnings (group 5300) plus the unclosed result, as the statement shows."""
    equity = next(s for s in bs.sections if s.key == "equity")
    return sum((line.amounts[0] for line in equity.lines
                if line.key in ("5300", "current_result", "earlier_result")), Decimal(0))


@SETTINGS
@given(txs=st.lists(transactions(), min_size=1, max_size=8), close=st.booleans(),
       range_=st.lists(dates, min_size=2, max_size=2).map(sorted),
       as_of=st.lists(dates, min_size=2, max_size=2))
async def test_the_accounting_identities_hold(world: World, txs: list[Any], close: bool,
                                              range_: list[date], as_of: list[date]) -> None:
    books = await world.books(txs, close)
    start, end = range_
    # The trial balance balances, at every level, for the range and from the beginning.
    for level in ("postable", "class", "all"):
        for a, b in ((start, end), (FIRST_DAY, LAST_DAY)):
            tb = await books.report("trial-balance", date_from=a, date_to=b, level=level)
            od, oc, dr, cr, cd, cc = tb.totals
            assert (od, dr, cd) == (oc, cr, cc), (level, a, b)
    # Assets = liabilities + equity at every date; assets as the model has them.
    for day in (*as_of, date(2025, 12, 31), LAST_DAY):
        bs = await books.report("balance-sheet", as_of=day)
        assert bs.total_assets[0] == bs.total_liabilities[0] + bs.total_equity[0], day
        # VAT is presented net, as an asset when it is a debit (IAS 1.32; 3330 alone here).
        vat = books.model(FIRST_DAY, day, ("3330",))
        assert bs.total_assets[0] == books.model(FIRST_DAY, day, ASSETS) + max(vat, 0)
    # Profit for the range = the change in retained earnings plus the unclosed result,
    # closing or not; and it is what the generated income and expense lines say.
    pl = await books.report("profit-and-loss", date_from=start, date_to=end)
    before = await books.report("balance-sheet", as_of=start - timedelta(days=1))
    after = await books.report("balance-sheet", as_of=end)
    assert pl.profit[0] == retained_and_unclosed(after) - retained_and_unclosed(before)
    assert pl.profit[0] == -books.model(start, end, INCOME_AND_EXPENSE)
    # The statement of changes in equity carries the same profit into retained earnings.
    ce = await books.report("changes-in-equity", date_from=start, date_to=end)
    assert ce.row("profit")["retained_earnings"] == pl.profit[0]
    assert ce.row("closing")["total"] == after.total_equity[0]
    # ... with no plug: every row from the transactions that made it, and they add up.
    assert ce.reconciled
    assert "other" not in {key for key, _, _ in ce.rows}
    # Both cash-flow methods equal the change in cash (with the effect of exchange rates
    # on cash, IAS 7.28), and agree on every total.
    cash_change = books.model(start, end, CASH)
    totals = []
    for method in ("indirect", "direct"):
        cf = await books.report("cash-flow", date_from=start, date_to=end, method=method)
        assert cf.closing_cash - cf.opening_cash == cash_change, method
        assert cf.net_change + cf.fx_effect == cash_change, method
        assert cf.difference == 0
        assert cf.opening_cash == books.model(FIRST_DAY, start - timedelta(days=1), CASH)
        totals.append((*(s.total for s in cf.sections), cf.fx_effect))
    assert totals[0] == totals[1]
