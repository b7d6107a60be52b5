"""Dividends, profit-tax objects and the monthly profit tax return, with hand figures.

June 2026: revenue of 50,000.00 (Dr 1210 / Cr 6110), then
- a dividend of 10,000.00 to a resident person (40%), a resident company (35%) and a
  non-resident company (25%): parts 4,000.00, 3,500.00 and 2,500.00; withholding 5% on the
  person's and the non-resident's: 200.00 + 125.00 = 325.00; profit tax 10,000 / 0.85 ×
  0.15 = 1,764.70588 → 1,764.71;
- a non-business expense of 850.00: profit tax 850 / 0.85 × 0.15 = 150.00.
The return: distributed 10,000.00, non-business 850.00, base 10,850 / 0.85 = 12,764.70588
→ 12,764.71, tax 12,764.70588 × 0.15 = 1,914.70588 → 1,914.71 (= 1,764.71 + 150.00 booked).
"""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration

MIXED = [
    {"name": "Tamar Jgenti", "tax_id": "01001011240", "kind": "person", "resident": True,
     "share": "0.40"},
    {"name": "Kartli Holding LLC", "tax_id": "405111222", "kind": "company",
     "resident": True, "share": "0.35"},
    {"name": "Baltic Invest OU", "kind": "company", "resident": False, "share": 0.25},
]


async def dividend(b: Books, amount: str, day: str = "2026-06-30",
                   shareholders: list[dict[str, Any]] | None = None) -> Any:
    return await b.h.client.post(b.url("/dividends"), headers=b.clerk, json={
        "date": day, "amount": amount,
        "shareholders": MIXED if shareholders is None else shareholders})


async def test_a_dividend_to_mixed_shareholders_and_non_business_expenses(h: Harness) -> None:
    b = await h.books()
    await b.post([("1210", "50000.00", ""), ("6110", "", "50000.00")], day="2026-06-01")

    r = await dividend(b, "10000.00")
    assert r.status_code == 201, r.text
    div = r.json()
    assert div["profit_tax"] == "1764.71"
    assert div["withholding_tax"] == "325.00"
    assert [(s["amount"], s["withholding"]) for s in div["shareholders"]] == [
        ("4000.00", "200.00"), ("3500.00", "0.00"), ("2500.00", "125.00")]
    tx = await b.get(div["transaction_id"])
    assert tx["source"] == {"type": "dividend", "id": div["id"]}
    assert {(e["account_code"], e["debit"], e["credit"]) for e in tx["entries"]} == {
        ("5310", "10000.00", "0.00"), ("3420", "0.00", "9675.00"),
        ("3322", "0.00", "325.00"), ("9210", "1764.71", "0.00"),
        ("3310", "0.00", "1764.71")}

    r = await h.client.post(b.url("/profit-tax-objects"), headers=b.clerk, json={
        "date": "2026-06-15", "category": "non_business", "amount": "850.00",
        "description": "Director's private travel"})
    assert r.status_code == 201, r.text
    assert r.json()["profit_tax"] == "150.00"

    r = await h.client.get(b.url("/tax/profit-tax-returns/2026-06"), headers=b.chief)
    assert r.status_code == 200, r.text
    ret = r.json()
    assert {k: ret[k] for k in ("period", "due_date", "distributed_profit",
                                "non_business_expenses", "gross_up_base", "profit_tax")} == {
        "period": "2026-06", "due_date": "2026-07-15", "distributed_profit": "10000.00",
        "non_business_expenses": "850.00", "gross_up_base": "12764.71",
        "profit_tax": "1914.71"}
    # The books agree: 3310 owes what the return declares.
    assert await b.balance("3310", "2026-06-30") == "-1914.71"
    # The dividend withholding lands in the month's income tax return.
    r = await h.client.get(b.url("/tax/income-tax-returns/2026-06"), headers=b.chief)
    assert r.json()["total_dividend_withholding"] == "325.00"

    # An empty month files nothing.
    r = await h.client.get(b.url("/tax/profit-tax-returns/2026-05"), headers=b.chief)
    assert r.json()["profit_tax"] == "0.00"


async def test_a_dividend_the_profit_cannot_cover_is_refused(h: Harness) -> None:
    b = await h.books()
    await b.post([("1210", "5000.00", ""), ("6110", "", "5000.00")], day="2026-06-01")
    await b.post([("7420", "1000.00", ""), ("1210", "", "1000.00")], day="2026-06-02")
    # Retained and current profit: 5,000 − 1,000 = 4,000.00.
    before = await b.state()
    r = await dividend(b, "4000.01")
    body = expect_problem(r, 422, "insufficient_profit")
    assert "4000.00" in body["detail"]
    assert await b.state() == before
    r = await dividend(b, "4000.00")
    assert r.status_code == 201, r.text


async def test_bad_dividends(h: Harness) -> None:
    b = await h.books()
    await b.post([("1210", "5000.00", ""), ("6110", "", "5000.00")], day="2026-06-01")
    bad = [{**MIXED[0], "share": "0.5"}, {**MIXED[1], "share": "0.49"}]
    expect_problem(await dividend(b, "100", shareholders=bad), 422, "shares_not_one")
    expect_problem(await dividend(b, "100", shareholders=[]), 422)
    expect_problem(await dividend(b, "-100"), 422, "invalid_dividend")
    expect_problem(await dividend(b, "100.001"), 422, "invalid_dividend")
    r = await h.client.post(b.url("/fiscal-periods/2026-06/close"), headers=b.chief)
    assert r.status_code == 200, r.text
    expect_problem(await dividend(b, "100", day="2026-06-30"), 422, "period_closed")


async def test_representation_is_taxed_above_the_cap(h: Harness) -> None:
    b = await h.books()
    # 2025: income 100,000.00, expenses 60,000.00 -> cap 1% of the higher = 1,000.00.
    await b.post([("1210", "100000.00", ""), ("6110", "", "100000.00")], day="2025-03-01")
    await b.post([("7420", "60000.00", ""), ("1210", "", "60000.00")], day="2025-03-02")

    async def representation(day: str, amount: str) -> dict[str, Any]:
        r = await h.client.post(b.url("/profit-tax-objects"), headers=b.clerk, json={
            "date": day, "category": "representation", "amount": amount,
            "description": "Client dinner"})
        assert r.status_code == 201, r.text
        return dict(r.json())

    first = await representation("2026-02-10", "700.00")
    assert (first["taxable"], first["profit_tax"]) == ("0.00", "0.00")
    # 700 + 500 = 1,200: 200.00 above the cap; tax 200 / 0.85 × 0.15 = 35.294 → 35.29.
    second = await representation("2026-03-10", "500.00")
    assert (second["taxable"], second["profit_tax"]) == ("200.00", "35.29")
    third = await representation("2026-03-20", "85.00")
    assert (third["taxable"], third["profit_tax"]) == ("85.00", "15.00")
    r = await h.client.get(b.url("/tax/profit-tax-returns/2026-03"), headers=b.chief)
    ret = r.json()
    # Base (200 + 85) / 0.85 = 335.294 → 335.29; tax 285 / 0.85 × 0.15 = 50.294 → 50.29.
    assert (ret["non_business_expenses"], ret["gross_up_base"], ret["profit_tax"]) == (
        "285.00", "335.29", "50.29")


async def test_an_expense_in_the_books_is_tagged_as_a_profit_tax_object(h: Harness) -> None:
    b = await h.books()
    # A gift to a friend of the director, booked as an expense: 425.00 on 8290, and a
    # mixed transaction with rent 1,000.00 (7420) and a fine 85.00 (8230).
    gift = await b.post([("8290", "425.00", ""), ("1210", "", "425.00")], day="2026-09-03")
    mixed = await b.post([("7420", "1000.00", ""), ("8230", "85.00", ""),
                          ("1210", "", "1085.00")], day="2026-09-04")
    r = await h.client.post(b.url("/profit-tax-objects"), headers=b.clerk, json={
        "transaction_id": gift["id"], "category": "free_supply", "description": "Gift"})
    assert r.status_code == 201, r.text
    # 425 / 0.85 × 0.15 = 75.00
    assert (r.json()["date"], r.json()["amount"], r.json()["profit_tax"]) == (
        "2026-09-03", "425.00", "75.00")
    r = await h.client.post(b.url("/profit-tax-objects"), headers=b.clerk, json={
        "transaction_id": mixed["id"], "account_code": "8230", "category": "non_business",
        "description": "Fine"})
    assert r.status_code == 201, r.text
    assert (r.json()["amount"], r.json()["profit_tax"]) == ("85.00", "15.00")
    # Tagged once; only expense accounts; only posted transactions of this company.
    for body, status in (({"transaction_id": gift["id"]}, 409),
                         ({"transaction_id": mixed["id"]}, 409),
                         ({"transaction_id": mixed["id"], "account_code": "1210"}, 422),
                         ({"transaction_id": str(b.company_id)}, 404),
                         ({}, 422)):
        r = await h.client.post(b.url("/profit-tax-objects"), headers=b.clerk, json={
            **body, "category": "non_business", "description": "again"})
        expect_problem(r, status)
    r = await h.client.get(b.url("/tax/profit-tax-returns/2026-09"), headers=b.chief)
    # (425 + 85) / 0.85 = 600.00; × 0.15 = 90.00
    assert (r.json()["non_business_expenses"], r.json()["gross_up_base"],
            r.json()["profit_tax"]) == ("510.00", "600.00", "90.00")
