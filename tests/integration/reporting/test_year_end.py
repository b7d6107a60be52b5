"""Year-end close through the reports: after ``POST …/fiscal-years/2025/close`` the year's
income and expense sit in retained earnings, next year opens on the closing balance
sheet, the year's profit or loss statement is unchanged, and reopening restores every
figure.

2025 (GEL): a sale of 1,000 + 18% VAT, paid; rent 300; an FX loss of 20; profit tax 15
→ profit 665. 2026: a sale of 200 in cash.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem
from test_statements import by_key, report

pytestmark = pytest.mark.integration

YEAR_2025: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("2025-01-05", "Capital", [("1210", "5000.00", ""), ("5150", "", "5000.00")]),
    ("2025-03-15", "Invoice 1", [("1410", "1180.00", ""), ("6110", "", "1000.00"),
                                 ("3330", "", "180.00")]),
    ("2025-04-01", "Invoice 1 paid", [("1210", "1180.00", ""), ("1410", "", "1180.00")]),
    ("2025-05-31", "Rent", [("7420", "300.00", ""), ("1210", "", "300.00")]),
    ("2025-11-30", "FX revaluation", [("8240", "20.00", ""), ("1220", "", "20.00")]),
    ("2025-12-31", "Profit tax", [("9210", "15.00", ""), ("3310", "", "15.00")]),
]
YEAR_2026: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("2026-02-01", "Cash sale", [("1110", "200.00", ""), ("6110", "", "200.00")]),
]
Y2025 = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
Y2026 = {"date_from": "2026-01-01", "date_to": "2026-12-31"}
PL_CLASSES = ("6", "7", "8", "9")


@pytest.fixture
async def books(h: Harness) -> Books:
    books = await h.books()
    await books.post_batch(YEAR_2025 + YEAR_2026)
    return books


async def year_action(books: Books, year: int, action: str) -> dict[str, Any]:
    r = await books.h.client.post(books.url(f"/fiscal-years/{year}/{action}"),
                                  headers=books.chief)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def figures(books: Books) -> dict[str, Any]:
    """What closing and reopening must leave as it found it (balances, statements)."""
    tb = await report(books, "trial-balance", **Y2025)
    bs = await report(books, "balance-sheet", as_of="2025-12-31")
    return {"balances": {r["code"]: (r["closing_debit"], r["closing_credit"])
                         for r in tb["rows"] if {r["closing_debit"], r["closing_credit"]}
                         != {"0.00"}},
            "opening_2026": (await report(books, "trial-balance", **Y2026))["totals"],
            "balance_sheet": bs,
            "profit_and_loss": await report(books, "profit-and-loss", **Y2025),
            "cash_flow": await report(books, "cash-flow", **Y2025)}


def signed_balances(bs: dict[str, Any]) -> dict[str, Decimal]:
    """Each account of the balance sheet as debit − credit."""
    out: dict[str, Decimal] = {}
    for section in bs["sections"]:
        sign = 1 if section["side"] == "assets" else -1
        for line in section["lines"]:
            for account in line.get("accounts", []):
                out[account["code"]] = sign * Decimal(account["amount"])
    return out


async def test_closing_zeroes_income_and_expense_into_retained_earnings(books: Books) -> None:
    before = await report(books, "balance-sheet", as_of="2025-12-31")
    equity = by_key(by_key(before["sections"])["equity"]["lines"])
    assert equity["current_result"]["amount"] == "665.00"
    await year_action(books, 2025, "close")
    tb = await report(books, "trial-balance", **Y2025)
    rows = by_key(tb["rows"], "code")
    for code, row in rows.items():
        if code.startswith(PL_CLASSES):
            assert (row["closing_debit"], row["closing_credit"]) == ("0.00", "0.00"), code
    assert rows["6110"]["debit"] == "1000.00"  # the closing entry's turnover
    assert (rows["5310"]["closing_debit"], rows["5310"]["closing_credit"]) == ("0.00",
                                                                               "665.00")
    assert tb["totals"]["closing_debit"] == tb["totals"]["closing_credit"]
    after = await report(books, "balance-sheet", as_of="2025-12-31")
    equity = by_key(by_key(after["sections"])["equity"]["lines"])
    assert equity["current_result"]["amount"] == "0.00"
    assert equity["5300"]["amount"] == "665.00"
    assert (after["total_assets"], after["total_equity"]) == (before["total_assets"],
                                                              before["total_equity"])
    # The year's profit or loss leaves the closing entry out.
    pl = await report(books, "profit-and-loss", **Y2025)
    assert (pl["revenue"], pl["expenses"], pl["profit"]) == ("1000.00", "335.00", "665.00")
    lines = by_key(pl["lines"])
    assert (lines["fx_net"]["amount"], lines["profit_tax"]["amount"],
            lines["profit_before_tax"]["amount"]) == ("-20.00", "-15.00", "680.00")
    # And the statement of changes in equity carries it into retained earnings.
    ce = by_key((await report(books, "changes-in-equity", **Y2025))["rows"])
    assert (ce["profit"]["retained_earnings"], ce["closing"]["retained_earnings"]) == (
        "665.00", "665.00")
    assert "transfers" not in ce
    assert "exceptions" not in ce


async def test_next_years_opening_trial_balance_is_the_closing_balance_sheet(
        books: Books) -> None:
    await year_action(books, 2025, "close")
    bs = signed_balances(await report(books, "balance-sheet", as_of="2025-12-31"))
    tb = await report(books, "trial-balance", **Y2026)
    opening = {r["code"]: Decimal(r["opening_debit"]) - Decimal(r["opening_credit"])
               for r in tb["rows"]}
    assert {c: v for c, v in opening.items() if v} == {c: v for c, v in bs.items() if v}
    assert not any(opening.get(c) for c in opening if c.startswith(PL_CLASSES))
    # 2026 starts from the closed books: its own profit only.
    bs_2026 = await report(books, "balance-sheet", as_of="2026-12-31")
    equity = by_key(by_key(bs_2026["sections"])["equity"]["lines"])
    assert equity["current_result"]["amount"] == "200.00"
    assert "earlier_result" not in equity


async def test_an_unclosed_year_shows_as_an_earlier_result(books: Books) -> None:
    bs = await report(books, "balance-sheet", as_of="2026-12-31")
    equity = by_key(by_key(bs["sections"])["equity"]["lines"])
    assert (equity["current_result"]["amount"], equity["earlier_result"]["amount"]) == (
        "200.00", "665.00")
    assert bs["balanced"] is True


async def test_reopening_restores_the_previous_figures(books: Books) -> None:
    before = await figures(books)
    await year_action(books, 2025, "close")
    assert (await figures(books))["opening_2026"] != before["opening_2026"]
    await year_action(books, 2025, "reopen")
    after = await figures(books)
    assert after == before


async def test_reopening_a_year_with_a_locked_period_is_refused(books: Books) -> None:
    await year_action(books, 2025, "close")
    r = await books.h.client.post(books.url("/fiscal-periods/2025-06/lock"),
                                  headers=books.chief)
    assert r.status_code == 200, r.text
    r = await books.h.client.post(books.url("/fiscal-years/2025/reopen"), headers=books.chief)
    expect_problem(r, 409, "period_locked")
    tb = by_key((await report(books, "trial-balance", **Y2025))["rows"], "code")
    assert tb["5310"]["closing_credit"] == "665.00"
