"""Issue 12 items 5 and 6 over HTTP, on an exporter's two years, every figure by hand.

Kartli Export LLC (GEL)::

    2024
     1  01-10  capital subscribed         Dr 1460 20,000          Cr 5150 20,000
     2  01-15  15,000 of it paid in       Dr 1210 15,000          Cr 1460 15,000
     3  03-01  machine bought             Dr 2150  6,000          Cr 1210  6,000
     4  05-01  goods, 18% VAT, on credit  Dr 1610  3,000 + 3340 540  Cr 3110 3,540
     5  05-20  supplier paid              Dr 3110  3,540          Cr 1210  3,540
     6  06-01  export sale (0% VAT)       Dr 1410  5,000          Cr 6115  5,000
     7  07-01  customer pays              Dr 1210  5,000          Cr 1410  5,000
     8  09-01  cost of the goods sold     Dr 7210  2,500          Cr 1610  2,500
     9  12-31  depreciation               Dr 7455  1,200          Cr 2250  1,200
    2025
    10  02-01  machine sold for 4,000     Dr 1210 4,000, 2250 1,200, 8250 800  Cr 2150 6,000
    11  03-01  vehicle bought on credit   Dr 2180  9,000          Cr 3110  9,000
    12  04-01  4,000 of it paid           Dr 3110  4,000          Cr 1210  4,000
    13  05-01  bank loan                  Dr 1210 10,000          Cr 4140 10,000
    14  06-30  interest accrued           Dr 8210    300          Cr 3410    300
    15  07-01  interest paid              Dr 3410    300          Cr 1210    300
    16  08-01  investment property        Dr 2440  5,000          Cr 1210  5,000
    17  08-01  land                       Dr 2110  3,000          Cr 1210  3,000
    18  09-01  dividend declared          Dr 5310    850          Cr 3420    850
    19  09-01  profit tax on it (15/85)   Dr 9210    150          Cr 3310    150
    20  09-10  dividend paid              Dr 3420    850          Cr 1210    850
    21  09-10  profit tax paid            Dr 3310    150          Cr 1210    150
    22  10-01  services sold, 18% VAT     Dr 1210  2,360          Cr 6110 2,000 + 3330 360
    23  12-31  land revalued (IAS 16.39)  Dr 2110    700          Cr 5420    700

Profit 2024: 5,000 − 2,500 − 1,200 = 1,300. Profit 2025: 2,000 − 800 − 300 − 150 = 750.
Cash (1210): 2024 15,000 − 6,000 − 3,540 + 5,000 = 10,460; 2025 + 4,000 − 4,000 + 10,000
− 300 − 5,000 − 3,000 − 850 − 150 + 2,360 = +3,060 → 13,520.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem
from pypdf import PdfReader

pytestmark = pytest.mark.integration

Entry = tuple[str, str, str]
SCENARIO: list[tuple[str, str, list[Entry]]] = [
    ("2024-01-10", "Capital subscribed", [("1460", "20000", ""), ("5150", "", "20000")]),
    ("2024-01-15", "Capital paid in", [("1210", "15000", ""), ("1460", "", "15000")]),
    ("2024-03-01", "Machine", [("2150", "6000", ""), ("1210", "", "6000")]),
    ("2024-05-01", "Goods on credit", [("1610", "3000", ""), ("3340", "540", ""),
                                       ("3110", "", "3540")]),
    ("2024-05-20", "Supplier paid", [("3110", "3540", ""), ("1210", "", "3540")]),
    ("2024-06-01", "Export sale", [("1410", "5000", ""), ("6115", "", "5000")]),
    ("2024-07-01", "Customer pays", [("1210", "5000", ""), ("1410", "", "5000")]),
    ("2024-09-01", "Cost of goods sold", [("7210", "2500", ""), ("1610", "", "2500")]),
    ("2024-12-31", "Depreciation", [("7455", "1200", ""), ("2250", "", "1200")]),
    ("2025-02-01", "Machine sold", [("1210", "4000", ""), ("2250", "1200", ""),
                                    ("8250", "800", ""), ("2150", "", "6000")]),
    ("2025-03-01", "Vehicle on credit", [("2180", "9000", ""), ("3110", "", "9000")]),
    ("2025-04-01", "Vehicle partly paid", [("3110", "4000", ""), ("1210", "", "4000")]),
    ("2025-05-01", "Bank loan", [("1210", "10000", ""), ("4140", "", "10000")]),
    ("2025-06-30", "Interest accrued", [("8210", "300", ""), ("3410", "", "300")]),
    ("2025-07-01", "Interest paid", [("3410", "300", ""), ("1210", "", "300")]),
    ("2025-08-01", "Investment property", [("2440", "5000", ""), ("1210", "", "5000")]),
    ("2025-08-01", "Land", [("2110", "3000", ""), ("1210", "", "3000")]),
    ("2025-09-01", "Dividend declared", [("5310", "850", ""), ("3420", "", "850")]),
    ("2025-09-01", "Profit tax on the dividend", [("9210", "150", ""), ("3310", "", "150")]),
    ("2025-09-10", "Dividend paid", [("3420", "850", ""), ("1210", "", "850")]),
    ("2025-09-10", "Profit tax paid", [("3310", "150", ""), ("1210", "", "150")]),
    ("2025-10-01", "Services sold", [("1210", "2360", ""), ("6110", "", "2000"),
                                     ("3330", "", "360")]),
    ("2025-12-31", "Land revalued", [("2110", "700", ""), ("5420", "", "700")]),
]
Y2025 = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
Y2024 = {"date_from": "2024-01-01", "date_to": "2024-12-31"}


@pytest.fixture
async def books(h: Harness) -> Books:
    books = await h.books("Kartli Export LLC")
    await books.post_batch(SCENARIO)
    return books


async def report(books: Books, name: str, **params: Any) -> dict[str, Any]:
    r = await books.h.client.get(books.url(f"/reports/{name}"), params=params,
                                 headers=books.clerk)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def amounts(lines: list[dict[str, Any]], field: str = "amount") -> dict[str, str]:
    return {x["key"]: x[field] for x in lines}


def section(statement: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in statement["sections"] if s["key"] == key)


# ---------------------------------------------------------------------- IAS 7


@pytest.mark.parametrize("method", ["direct", "indirect"])
async def test_cash_flows_2025_by_both_methods(books: Books, method: str) -> None:
    cf = await report(books, "cash-flow", method=method, **Y2025)
    # Operating 2,360 − 300 − 150 = 1,910; investing: machine +4,000, vehicle −4,000,
    # land −3,000, investment property −5,000 = −8,000; financing: loan +10,000,
    # dividend −850 = 9,150. 1,910 − 8,000 + 9,150 = 3,060 = 13,520 − 10,460.
    assert (cf["operating"], cf["investing"], cf["financing"], cf["fx_effect"]) == (
        "1910.00", "-8000.00", "9150.00", "0.00")
    assert (cf["opening_cash"], cf["closing_cash"], cf["net_change"]) == (
        "10460.00", "13520.00", "3060.00")
    assert cf["check"]["reconciled"] is True
    assert (cf["interest_paid"], cf["profit_tax_paid"]) == ("-300.00", "-150.00")
    assert amounts(section(cf, "investing")["lines"]) == {
        "2100.receipts": "4000.00",   # the disposal: proceeds, not the cost (IAS 7.16(b))
        "2100.payments": "-7000.00",  # vehicle paid 4,000 (IAS 7.16(a)) + land 3,000
        "2400.payments": "-5000.00"}
    assert amounts(section(cf, "financing")["lines"]) == {
        "3420.payments": "-850.00", "4100.receipts": "10000.00"}
    # The vehicle bought on credit is left out and disclosed (IAS 7.43).
    [vehicle] = cf["non_cash_transactions"]
    assert (vehicle["date"], vehicle["description"], vehicle["amount"],
            vehicle["accounts"]) == ("2025-03-01", "Vehicle on credit", "9000.00",
                                     ["2180", "3110"])
    operating = amounts(section(cf, "operating")["lines"])
    if method == "indirect":
        # Profit 750, loss on disposal +800, interest +300 and profit tax +150 added back,
        # output VAT +360 → 2,360 generated; the vehicle's payable (9,000 − 4,000 paid)
        # is no working capital.
        assert operating == {"profit": "750.00", "8250": "800.00", "8210": "300.00",
                             "9210": "150.00", "3300": "360.00",
                             "cash_generated": "2360.00", "interest_paid": "-300.00",
                             "profit_tax_paid": "-150.00"}
    else:
        assert operating == {"6100": "2000.00", "3300": "360.00",
                             "interest_paid": "-300.00", "profit_tax_paid": "-150.00"}


async def test_cash_flows_2024_with_depreciation_and_capital_paid_in(books: Books) -> None:
    indirect = await report(books, "cash-flow", method="indirect", **Y2024)
    direct = await report(books, "cash-flow", method="direct", **Y2024)
    for cf in (indirect, direct):
        assert (cf["operating"], cf["investing"], cf["financing"]) == (
            "1460.00", "-6000.00", "15000.00")
        assert amounts(section(cf, "financing")["lines"]) == {"1460.receipts": "15000.00"}
    # 1,300 + depreciation 1,200 − inventory 500 − input VAT 540 = 1,460
    assert amounts(section(indirect, "operating")["lines"]) == {
        "profit": "1300.00", "7455": "1200.00", "1600": "-500.00", "3300": "-540.00"}
    # receipts from the customer 5,000, paid to the supplier 3,540
    assert amounts(section(direct, "operating")["lines"]) == {"1400": "5000.00",
                                                             "3100": "-3540.00"}


# ---------------------------------------------------------------------- IAS 1


async def test_financial_position_with_comparatives(books: Books) -> None:
    bs = await report(books, "balance-sheet", as_of="2025-12-31", compare_to="2024-12-31")
    assert (bs["total_assets"], bs["total_liabilities"], bs["total_equity"]) == (
        "31900.00", "15000.00", "16900.00")
    assert bs["comparative"]["total_assets"] == "16300.00"
    nca = amounts(section(bs, "non_current_assets")["lines"])
    # PPE: land 3,700 + vehicle 9,000 (the machine gone with its depreciation);
    # investment property on its own line (IAS 1.54(b)).
    assert nca == {"2100": "12700.00", "2440": "5000.00"}
    assert amounts(section(bs, "non_current_assets")["lines"], "comparative") == {
        "2100": "4800.00", "2440": "0.00"}  # 6,000 − 1,200 netted (IAS 16.73)
    # The exporter's VAT: input 540 − output 360 = 180 to recover, an asset.
    ca = amounts(section(bs, "current_assets")["lines"])
    assert ca == {"1200": "13520.00", "1600": "500.00", "vat_receivable": "180.00"}
    assert "vat_payable" not in amounts(section(bs, "current_liabilities")["lines"])
    equity = amounts(section(bs, "equity")["lines"])
    # Unpaid capital deducted (IAS 32.22): 20,000 − 5,000.
    assert equity == {"1460": "-5000.00", "5100": "20000.00", "5300": "-850.00",
                      "5400": "700.00", "current_result": "750.00",
                      "earlier_result": "1300.00"}
    assert amounts(section(bs, "current_liabilities")["lines"]) == {"3100": "5000.00"}
    assert amounts(section(bs, "non_current_liabilities")["lines"]) == {"4100": "10000.00"}


async def test_profit_tax_payable_and_deferred_tax_on_their_own_lines(books: Books) -> None:
    r = await books.h.client.post(books.url("/transactions/batch"), headers=books.chief,
                                  json={"transactions": [{
                                      "date": "2025-12-31", "description": "Tax",
                                      "entries": [
                                          {"account_code": "9210", "debit": "70"},
                                          {"account_code": "3310", "credit": "40"},
                                          {"account_code": "4210", "credit": "30"}]}]})
    assert r.status_code == 201, r.text
    bs = await report(books, "balance-sheet", as_of="2025-12-31")
    assert amounts(section(bs, "current_liabilities")["lines"]) == {"3100": "5000.00",
                                                                    "3310": "40.00"}
    assert amounts(section(bs, "non_current_liabilities")["lines"]) == {
        "4100": "10000.00", "4210": "30.00"}


async def test_profit_or_loss_and_comprehensive_income(books: Books) -> None:
    pl = await report(books, "profit-and-loss", compare_from="2024-01-01",
                      compare_to="2024-12-31", **Y2025)
    nonzero = {k: v for k, v in amounts(pl["lines"]).items() if v != "0.00"}
    assert nonzero == {"revenue": "2000.00", "other_expenses": "-800.00",
                       "finance_costs": "-300.00", "profit_before_tax": "900.00",
                       "profit_tax": "-150.00", "profit": "750.00"}
    before = {k: v for k, v in amounts(pl["lines"], "comparative").items() if v != "0.00"}
    assert before == {"revenue": "5000.00", "materials_and_goods": "-2500.00",
                      "depreciation": "-1200.00", "profit_before_tax": "1300.00",
                      "profit": "1300.00"}
    ci = await report(books, "comprehensive-income", compare_from="2024-01-01",
                      compare_to="2024-12-31", **Y2025)
    assert (ci["profit"], ci["other_comprehensive_income"],
            ci["total_comprehensive_income"]) == ("750.00", "700.00", "1450.00")
    assert ci["comparative"] == {"profit": "1300.00", "other_comprehensive_income": "0.00",
                                 "total_comprehensive_income": "1300.00"}
    lines = {x["key"]: x for x in ci["lines"]}
    assert lines["not_reclassified"]["amount"] == "700.00"  # revaluation surplus
    assert lines["not_reclassified"]["accounts"][0]["key"] == "revaluation_reserve"
    assert lines["reclassified"]["amount"] == "0.00"


async def test_changes_in_equity_without_a_plug(books: Books) -> None:
    ce = await report(books, "changes-in-equity", **Y2025)
    rows = {r["key"]: r for r in ce["rows"]}
    pick = ("share_capital", "retained_earnings", "revaluation_reserve", "total")
    assert {k: [rows[k][c] for c in pick] for k in rows} == {
        "opening": ["15000.00", "1300.00", "0.00", "16300.00"],
        "profit": ["0.00", "750.00", "0.00", "750.00"],
        "other_comprehensive_income": ["0.00", "0.00", "700.00", "700.00"],
        "total_comprehensive_income": ["0.00", "750.00", "700.00", "1450.00"],
        "issue_of_capital": ["0.00", "0.00", "0.00", "0.00"],
        "dividends": ["0.00", "-850.00", "0.00", "-850.00"],
        "closing": ["15000.00", "1200.00", "700.00", "16900.00"],
    }
    assert (ce["reconciled"], ce["exceptions"]) == (True, [])
    before = {r["key"]: r for r in (await report(books, "changes-in-equity",
                                                 **Y2024))["rows"]}
    # 20,000 subscribed against 20,000 unpaid: a transfer; 15,000 paid in: an issue.
    assert (before["issue_of_capital"]["share_capital"],
            before["transfers"]["share_capital"], before["closing"]["total"]) == (
        "15000.00", "0.00", "16300.00")


async def test_an_unexplained_equity_movement_is_an_exception(books: Books) -> None:
    r = await books.h.client.post(books.url("/transactions/batch"), headers=books.chief,
                                  json={"transactions": [{
                                      "date": "2025-11-11", "description": "Odd",
                                      "entries": [{"account_code": "1610", "debit": "25"},
                                                  {"account_code": "5310", "credit": "25"}]}]})
    assert r.status_code == 201, r.text
    ce = await report(books, "changes-in-equity", **Y2025)
    rows = {r["key"]: r for r in ce["rows"]}
    assert rows["exceptions"]["retained_earnings"] == "25.00"
    [odd] = ce["exceptions"]
    assert (odd["date"], odd["retained_earnings"]) == ("2025-11-11", "25.00")
    assert ce["reconciled"] is True
    assert "other" not in rows


# ---------------------------------------------------------------------- the annual set


async def test_the_annual_set_has_comparatives_by_default(books: Books) -> None:
    fs = await report(books, "financial-statements", year=2025)
    assert (fs["comparatives"], fs["compare_from"], fs["compare_to"]) == (
        True, "2024-01-01", "2024-12-31")
    assert fs["financial_position"]["comparative"]["total_assets"] == "16300.00"
    assert fs["profit_or_loss"]["comparative"]["profit"] == "1300.00"
    assert fs["cash_flows"]["net_change"] == "3060.00"
    assert fs["cash_flows_comparative"]["net_change"] == "10460.00"
    assert fs["changes_in_equity_comparative"]["rows"][-1]["total"] == "16300.00"
    alone = await report(books, "financial-statements", year=2025, comparatives="false")
    assert (alone["comparatives"], alone["cash_flows_comparative"]) == (False, None)
    assert alone["financial_position"]["comparative"] is None


async def test_the_annual_set_as_a_georgian_pdf(books: Books) -> None:
    r = await books.h.client.get(books.url("/reports/financial-statements"),
                                 params={"year": "2025", "format": "pdf", "lang": "ka"},
                                 headers=books.clerk)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages]
    text = "\n".join(pages)
    for title in ("ფინანსური მდგომარეობის ანგარიშგება", "მოგებისა და ზარალის ანგარიშგება",
                  "სრული შემოსავლის ანგარიშგება", "ფულადი სახსრების მოძრაობის ანგარიშგება",
                  "საკუთარ კაპიტალში ცვლილებების ანგარიშგება"):
        assert title in text, title
    # Georgian number format; both years' figures; signature lines once, at the end.
    for figure in ("31 900,00", "16 300,00", "13 520,00", "10 460,00", "-8 000,00"):
        assert figure in text, figure
    assert "2024-01-01 – 2024-12-31" in text
    assert "დირექტორი" in pages[-1]
    assert "მთავარი ბუღალტერი" in pages[-1]
    assert text.count("დირექტორი") == 1
    r = await books.h.client.get(books.url("/reports/financial-statements"),
                                 params={"year": "2025", "format": "xlsx"},
                                 headers=books.clerk)
    expect_problem(r, 422, "unsupported_format")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
async def test_the_new_statements_in_every_format(books: Books, fmt: str) -> None:
    for name, params in (("comprehensive-income", Y2025),
                         ("cash-flow", {**Y2025, "method": "direct"}),
                         ("profit-and-loss", {**Y2025, "layout": "function"}),
                         ("changes-in-equity", Y2025)):
        for lang in ("en", "ka"):
            r = await books.h.client.get(books.url(f"/reports/{name}"), headers=books.clerk,
                                         params={**params, "format": fmt, "lang": lang})
            assert r.status_code == 200, (name, lang, r.text)
            assert r.headers["content-disposition"].startswith("attachment")
    r = await books.h.client.get(books.url("/reports/cash-flow"), headers=books.clerk,
                                 params={**Y2025, "format": "csv"})
    text = r.content.decode("utf-8-sig")
    # The non-cash disclosure follows the statement (IAS 7.43).
    assert "Non-cash investing and financing transactions" in text
    assert "2025-03-01 No. 2 Vehicle on credit" in text  # numbered per fiscal year
    assert "Effect of exchange rate changes" not in text  # none this year


async def test_cash_flows_with_a_comparative_year(books: Books) -> None:
    cf = await report(books, "cash-flow", compare_from="2024-01-01", compare_to="2024-12-31",
                      **Y2025)
    assert cf["net_change"] == "3060.00"
    assert (cf["comparative"]["net_change"], cf["comparative"]["financing"]) == (
        "10460.00", "15000.00")
    r = await books.h.client.get(books.url("/reports/cash-flow"), headers=books.clerk,
                                 params={**Y2025, "compare_from": "2024-01-01",
                                         "compare_to": "2024-12-31", "format": "csv"})
    rows = r.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "Line,Account,2025-01-01 – 2025-12-31,2024-01-01 – 2024-12-31"
    assert "Net increase (decrease) in cash and cash equivalents,,3060.00,10460.00" in rows
    assert (await report(books, "cash-flow", **Y2025))["comparative"] is None
