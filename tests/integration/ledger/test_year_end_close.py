from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import Harness, expect_problem

from saldo.identity.domain import Permission

pytestmark = pytest.mark.integration


async def test_closing_moves_profit_to_5310_and_reopening_undoes_it(h: Harness) -> None:
    books = await h.books()
    await books.post([("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")],
                     day="2025-03-15")
    await books.post([("7420", "300.00", ""), ("1210", "", "300.00")], day="2025-04-15")
    ctx = await h.container.identity.member_context(books.company_id, "chief",
                                                     Permission.PERIODS_CLOSE)
    result = await h.container.ledger.close_fiscal_year(ctx, 2025)
    assert result["closing_transaction"] is not None
    assert await books.balance("6110", "2025-12-31") == "0.00"
    assert await books.balance("7420", "2025-12-31") == "0.00"
    assert await books.balance("5310", "2025-12-31") == "-700.00"
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2025-05-01", "description": "x", "entries": [
            {"account_code": "1110", "debit": "1"}, {"account_code": "6110", "credit": "1"}]})
    tx = r.json()["id"]
    await h.client.post(books.url(f"/transactions/{tx}/approve"), headers=books.chief)
    r = await h.client.post(books.url(f"/transactions/{tx}/post"), headers=books.clerk)
    assert r.status_code == 422, r.text
    await h.container.ledger.reopen_fiscal_year(ctx, 2025)
    assert await books.balance("6110", "2025-12-31") == "-1000.00"
    assert await books.balance("5310", "2025-12-31") == "0.00"
    r = await h.client.post(books.url(f"/transactions/{tx}/post"), headers=books.clerk)
    assert r.status_code == 200, r.text
    await h.container.runner.rebuild("ledger")
    assert await books.balance("6110", "2025-12-31") == "-1001.00"


async def _close(h: Harness, books: Any, year: int) -> Any:
    return await h.client.post(books.url(f"/fiscal-years/{year}/close"), headers=books.chief)


async def test_years_close_in_order_and_only_once_they_have_ended(h: Harness) -> None:
    books = await h.books()
    await books.post([("1410", "500.00", ""), ("6110", "", "500.00")], day="2024-06-01")
    await books.post([("1410", "300.00", ""), ("6110", "", "300.00")], day="2025-06-01")
    # 2025 first would sweep 2024's open result into 2025's closing entry.
    expect_problem(await _close(h, books, 2025), 409, "fiscal_years_out_of_order")
    # Next year has not ended.
    next_year = h.container.ledger.today().year + 1
    expect_problem(await _close(h, books, next_year), 422, "fiscal_year_not_ended")
    assert (await _close(h, books, 2024)).status_code == 200
    assert (await _close(h, books, 2025)).status_code == 200
    # Each closing entry carries its own year's result: 500.00, then 300.00.
    assert await books.balance("5310", "2024-12-31") == "-500.00"
    assert await books.balance("5310", "2025-12-31") == "-800.00"
    # Reopening goes the other way round.
    reopen = await h.client.post(books.url("/fiscal-years/2024/reopen"), headers=books.chief)
    expect_problem(reopen, 409, "fiscal_years_out_of_order")


async def test_reopening_a_year_keeps_months_closed_before_the_close(h: Harness) -> None:
    books = await h.books()
    await books.post([("1410", "100.00", ""), ("6110", "", "100.00")], day="2025-02-01")
    r = await h.client.post(books.url("/fiscal-periods/2025-08/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    assert (await _close(h, books, 2025)).status_code == 200
    r = await h.client.post(books.url("/fiscal-years/2025/reopen"), headers=books.chief)
    assert r.status_code == 200, r.text
    periods = (await h.client.get(books.url("/fiscal-periods"), params={"year": 2025},
                                  headers=books.chief)).json()
    status = {p["period"]: p["status"] for p in periods}
    assert status["2025-08"] == "closed"
    assert {s for p, s in status.items() if p != "2025-08"} == {"open"}


async def test_a_reversal_is_not_dated_before_its_original(h: Harness) -> None:
    books = await h.books()
    tx = await books.post([("7420", "300.00", ""), ("1210", "", "300.00")], day="2026-02-10")
    r = await books.act(tx["id"], "reverse", reason="Wrong month", date="2026-01-01")
    expect_problem(r, 422, "invalid_reversal_date")
    assert (await books.get(tx["id"]))["reversed_by"] is None


@pytest.mark.parametrize("currency", ["ZZZ", "", "US"])
async def test_currencies_are_iso_4217_codes(h: Harness, currency: str) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2026-03-01", "description": "x", "currency": currency,
        "exchange_rate": "2.7", "entries": [{"account_code": "1220", "debit": "10.00"},
                                            {"account_code": "6110", "credit": "10.00"}]})
    expect_problem(r, 422, "invalid_currency")


async def test_a_header_with_a_balance_below_it_stays_active(h: Harness) -> None:
    books = await h.books()
    await books.post([("1110", "50.00", ""), ("5150", "", "50.00")])
    r = await h.client.patch(books.url("/accounts/1100"), headers=books.clerk,
                             json={"active": False})
    expect_problem(r, 422, "account_has_balance")


async def test_filtering_by_a_header_finds_its_accounts_transactions(h: Harness) -> None:
    books = await h.books()
    tx = await books.post([("1210", "75.00", ""), ("5150", "", "75.00")])
    listing = await books.listing(account="1200")
    assert [item["id"] for item in listing["items"]] == [tx["id"]]
    assert (await books.listing(account="1100"))["items"] == []


async def test_refusing_to_close_an_unfinished_year_writes_nothing(h: Harness) -> None:
    books = await h.books()
    next_year = h.container.ledger.today().year + 1
    expect_problem(await _close(h, books, next_year), 422, "fiscal_year_not_ended")
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM fiscal_years WHERE company_id = %s AND fiscal_year = %s",
            (books.company_id, next_year))
        assert await cursor.fetchone() == {"n": 0}


async def test_a_converted_amount_too_large_for_the_books_is_refused(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2026-03-01", "description": "x", "currency": "USD",
        "exchange_rate": "999999", "entries": [
            {"account_code": "1220", "debit": "999999999999999.99"},
            {"account_code": "6110", "credit": "999999999999999.99"}]})
    expect_problem(r, 422, "invalid_amount")


async def test_a_company_keeps_its_books_in_an_iso_currency(h: Harness) -> None:
    await h.user("founder")
    r = await h.client.post("/api/v1/companies", headers=await h.headers("founder"),
                            json={"name": "X LLC", "tax_id": "204567891", "vat_payer": False,
                                  "base_currency": "XYZ"})
    expect_problem(r, 422)
