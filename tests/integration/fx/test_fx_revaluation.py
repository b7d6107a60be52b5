"""IAS 21 revaluation (issue 12 item 4) and foreign-currency balances (item 2), with the
figures worked by hand (docs/currencies.md, "A month-end revaluation").

The books of March 2026 (USD 2.7000 and EUR 2.9000 from 2 March; closing rates from 31
March: USD 2.7500, EUR 2.9500):

    10 Mar  USD capital paid in     Dr 1220  USD 1,000.00 = 2,700.00  Cr 5150
    12 Mar  USD export invoice      Dr 1410  USD   500.00 = 1,350.00  Cr 6115
    15 Mar  EUR advertising bill    Dr 7310  EUR   200.00 =   580.00  Cr 3110
    20 Mar  USD advance to supplier Dr 1480  USD   100.00 =   270.00  Cr 1220

At 31 March (1480, an advance, is not a monetary item: IAS 21.16):

    1220 USD   900.00  2,430.00 → 900 × 2.75 =  2,475.00   +45.00
    1410 USD   500.00  1,350.00 → 500 × 2.75 =  1,375.00   +25.00
    3110 EUR  −200.00   −580.00 → −200 × 2.95 =  −590.00   −10.00
    Cr 8145 unrealised gains 70.00 (45 + 25); Dr 8245 unrealised losses 10.00
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

from saldo.fx.domain import OfficialRate
from saldo.fx.service import FxService

pytestmark = pytest.mark.integration


async def rates(h: Harness, *rows: tuple[str, str, str]) -> None:
    service = h.container.services["fx"]
    assert isinstance(service, FxService)
    await service.store_rates([OfficialRate(c, date.fromisoformat(d), Decimal(r))
                               for c, d, r in rows], "test")


async def march(h: Harness) -> Books:
    books = await h.books()
    await rates(h, ("USD", "2026-03-02", "2.7000"), ("EUR", "2026-03-02", "2.9000"),
                ("USD", "2026-03-31", "2.7500"), ("EUR", "2026-03-31", "2.9500"))
    for day, currency, dr, cr, amount in (("2026-03-10", "USD", "1220", "5150", "1000.00"),
                                          ("2026-03-12", "USD", "1410", "6115", "500.00"),
                                          ("2026-03-15", "EUR", "7310", "3110", "200.00"),
                                          ("2026-03-20", "USD", "1480", "1220", "100.00")):
        await books.post([(dr, amount, ""), (cr, "", amount)], day=day, currency=currency)
    return books


async def revalue(books: Books, as_of: str, status: int = 201) -> dict[str, Any]:
    r = await books.h.client.post(books.url("/fx-revaluations"), json={"as_of": as_of},
                                  headers=books.chief)
    assert r.status_code == status, r.text
    return dict(r.json())


async def test_foreign_balances_beside_the_gel_ones(h: Harness) -> None:
    books = await march(h)
    r = await h.client.get(books.url("/accounts/1220/balance"),
                           params={"as_of": "2026-03-31"}, headers=books.clerk)
    assert r.status_code == 200, r.text
    assert r.json() == {"code": "1220", "as_of": "2026-03-31", "debit": "2700.00",
                        "credit": "270.00", "balance": "2430.00", "currency": "GEL",
                        "foreign": [{"currency": "USD", "debit": "1000.00",
                                     "credit": "100.00", "balance": "900.00",
                                     "balance_base": "2430.00"}]}
    r = await h.client.get(books.url("/accounts/3100/balance"),  # a header: its subtree
                           params={"as_of": "2026-03-31", "currency": "eur"},
                           headers=books.clerk)
    assert r.status_code == 200, r.text
    assert r.json() == {"code": "3100", "as_of": "2026-03-31", "currency": "EUR",
                        "debit": "0.00", "credit": "200.00", "balance": "-200.00",
                        "base_currency": "GEL", "debit_base": "0.00",
                        "credit_base": "580.00", "balance_base": "-580.00"}
    r = await h.client.get(books.url("/accounts/1220/balance"),
                           params={"currency": "XYZ"}, headers=books.clerk)
    expect_problem(r, 422, "invalid_currency")


async def test_a_month_end_revaluation(h: Harness) -> None:
    books = await march(h)
    done = await revalue(books, "2026-03-31")
    assert done["lines"] == [
        {"account_code": "1220", "currency": "USD", "foreign_balance": "900.00",
         "rate": "2.75", "gel_before": "2430.00", "gel_after": "2475.00",
         "difference": "45.00"},
        {"account_code": "1410", "currency": "USD", "foreign_balance": "500.00",
         "rate": "2.75", "gel_before": "1350.00", "gel_after": "1375.00",
         "difference": "25.00"},
        {"account_code": "3110", "currency": "EUR", "foreign_balance": "-200.00",
         "rate": "2.95", "gel_before": "-580.00", "gel_after": "-590.00",
         "difference": "-10.00"}]
    tx = await books.get(done["transaction_id"])
    assert (tx["date"], tx["status"], tx["currency"], tx["total"]) == (
        "2026-03-31", "posted", "GEL", "80.00")  # 45 + 25 + 10 debits (items and 8245)
    assert [(e["account_code"], e["debit_base"], e["credit_base"], e["kind"])
            for e in tx["entries"]] == [
        ("1220", "45.00", "0.00", "fx_difference"),
        ("1410", "25.00", "0.00", "fx_difference"),
        ("3110", "0.00", "10.00", "fx_difference"),
        ("8145", "0.00", "70.00", "fx_difference"),
        ("8245", "10.00", "0.00", "fx_difference")]
    for code, balance in (("1220", "2475.00"), ("1410", "1375.00"), ("3110", "-590.00"),
                          ("8145", "-70.00"), ("8245", "10.00"), ("1480", "270.00")):
        assert await books.balance(code, "2026-03-31") == balance, code
    # The carrying amount of the USD position on 1220 includes the revaluation.
    r = await h.client.get(books.url("/accounts/1220/balance"),
                           params={"as_of": "2026-03-31", "currency": "USD"},
                           headers=books.clerk)
    assert (r.json()["balance"], r.json()["balance_base"]) == ("900.00", "2475.00")
    # Reversed on the first day of the next period (docs/decisions/0022).
    assert tx["reversed_by"] is not None
    reversal = await books.get(tx["reversed_by"])
    assert reversal["date"] == "2026-04-01"
    for code, balance in (("1220", "2430.00"), ("1410", "1350.00"), ("3110", "-580.00"),
                          ("8145", "0.00"), ("8245", "0.00")):
        assert await books.balance(code, "2026-04-01") == balance, code


async def test_running_it_twice_for_one_date_does_not_double_it(h: Harness) -> None:
    books = await march(h)
    first = await revalue(books, "2026-03-31")
    before = await books.state()
    again = await revalue(books, "2026-03-31")
    assert again == first  # the same answer, and nothing posted
    assert await books.state() == before
    assert await books.balance("8145", "2026-03-31") == "-70.00"
    # A posting back-dated into March since: only the delta is revalued.
    # USD 100.00 received on 25 March at 2.70 = 270.00; at 2.75 = 275.00: +5.00.
    await books.post([("1220", "100.00", ""), ("6115", "", "100.00")], day="2026-03-25",
                     currency="USD")
    delta = await revalue(books, "2026-03-31")
    assert delta["transaction_id"] != first["transaction_id"]
    assert [(x["account_code"], x["difference"]) for x in delta["lines"]] == [
        ("1220", "5.00"), ("1410", "0.00"), ("3110", "0.00")]
    assert await books.balance("8145", "2026-03-31") == "-75.00"
    assert await books.balance("1220", "2026-03-31") == "2750.00"  # 1,000.00 × 2.75
    # And asked once more: the date's revaluation as a whole, from the transaction rates.
    # 1220: USD 1,000.00 booked at 2,700.00, at 2.75 = 2,750.00: +50.00 in all.
    whole = await revalue(books, "2026-03-31")
    assert whole["transaction_id"] == delta["transaction_id"]
    assert [(x["account_code"], x["gel_before"], x["gel_after"], x["difference"])
            for x in whole["lines"]] == [("1220", "2700.00", "2750.00", "50.00"),
                                         ("1410", "1350.00", "1375.00", "25.00"),
                                         ("3110", "-580.00", "-590.00", "-10.00")]


async def test_assets_equal_liabilities_and_equity_after_a_revaluation(h: Harness) -> None:
    books = await march(h)
    await revalue(books, "2026-03-31")
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT sum(debit_base) - sum(credit_base) AS net FROM account_turnover"
            " WHERE company_id = %s AND day <= '2026-03-31'", (books.company_id,))
        assert (await cursor.fetchone() or {})["net"] == 0
        cursor = await conn.execute(
            "SELECT sum(debit_base) - sum(credit_base) AS net, sum(amount_debit) AS fd,"
            "       sum(amount_credit) AS fc FROM account_currency_turnover"
            " WHERE company_id = %s", (books.company_id,))
        row = await cursor.fetchone() or {}
        assert row["net"] == 0
        assert row["fd"] == row["fc"]


async def test_revaluation_refusals_write_nothing(h: Harness) -> None:
    books = await march(h)
    before = await books.state()
    # No EUR rate at all while 3110 holds EUR: the revaluation cannot be made.
    async with h.container.db.transaction() as conn:
        await conn.execute("DELETE FROM fx_rates WHERE currency = 'EUR'")
    r = await h.client.post(books.url("/fx-revaluations"), json={"as_of": "2026-03-31"},
                            headers=books.chief)
    expect_problem(r, 422, "rate_not_found")
    assert await books.state() == before
    await rates(h, ("EUR", "2026-03-02", "2.9000"))
    r = await h.client.post(books.url("/fiscal-periods/2026-03/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    before = await books.state()
    r = await h.client.post(books.url("/fx-revaluations"), json={"as_of": "2026-03-31"},
                            headers=books.chief)
    expect_problem(r, 422, "period_closed")
    assert await books.state() == before
    r = await h.client.post(books.url("/fx-revaluations"), json={"as_of": "2026-02-31"},
                            headers=books.chief)
    expect_problem(r, 422)
    r = await h.client.post(books.url("/fx-revaluations"), json={"as_of": "2026-04-30"},
                            headers=books.clerk)  # an accountant may not post unapproved
    expect_problem(r, 403)
