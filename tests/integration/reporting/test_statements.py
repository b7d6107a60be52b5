"""Every report on a small accountant's scenario, with the figures worked out by hand.

Tbilisi Trade LLC, first half of 2025 (GEL)::

    1  01-10  founders pay in the charter capital   Dr 1210 10,000.00  Cr 5150 10,000.00
    2  02-01  office equipment bought               Dr 2150  3,000.00  Cr 1210  3,000.00
    3  03-15  sale, 18% VAT                         Dr 1410  1,180.00  Cr 6110  1,000.00
                                                                       Cr 3330    180.00
    4  03-20  goods bought, 18% VAT                 Dr 1610    500.00  Cr 3110    590.00
                                                    Dr 3340     90.00
    5  03-31  cost of the goods sold                Dr 7210    400.00  Cr 1610    400.00
    6  04-05  the customer pays                     Dr 1210  1,180.00  Cr 1410  1,180.00
    7  04-10  the supplier is paid                  Dr 3110    590.00  Cr 1210    590.00
    8  04-30  April salaries accrued                Dr 7410    500.00  Cr 3130    500.00
    9  05-31  depreciation                          Dr 7455     50.00  Cr 2250     50.00
   10  06-01  bank loan received                    Dr 1210  2,000.00  Cr 3210  2,000.00
   11  06-30  bank charges                          Dr 7492     10.00  Cr 1210     10.00
   12  06-30  salaries paid                         Dr 3130    500.00  Cr 1210    500.00

Profit: revenue 1,000 − cost of sales 400 = gross profit 600; operating expenses 560
(salaries 500, depreciation 50, bank charges 10) → profit 40. Cash (1210): 9,080.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from identity_harness import as_url
from ledger_harness import Books, Harness, expect_problem
from pypdf import PdfReader

pytestmark = pytest.mark.integration

SCENARIO: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("2025-01-10", "Charter capital paid in", [("1210", "10000.00", ""),
                                               ("5150", "", "10000.00")]),
    ("2025-02-01", "Office equipment", [("2150", "3000.00", ""), ("1210", "", "3000.00")]),
    ("2025-03-15", "Invoice 1, Kutaisi Market", [("1410", "1180.00", ""),
                                                 ("6110", "", "1000.00"),
                                                 ("3330", "", "180.00")]),
    ("2025-03-20", "Goods from Supplier LLC", [("1610", "500.00", ""), ("3340", "90.00", ""),
                                               ("3110", "", "590.00")]),
    ("2025-03-31", "Cost of goods sold", [("7210", "400.00", ""), ("1610", "", "400.00")]),
    ("2025-04-05", "Kutaisi Market pays", [("1210", "1180.00", ""), ("1410", "", "1180.00")]),
    ("2025-04-10", "Supplier LLC paid", [("3110", "590.00", ""), ("1210", "", "590.00")]),
    ("2025-04-30", "April salaries", [("7410", "500.00", ""), ("3130", "", "500.00")]),
    ("2025-05-31", "Depreciation", [("7455", "50.00", ""), ("2250", "", "50.00")]),
    ("2025-06-01", "Bank loan", [("1210", "2000.00", ""), ("3210", "", "2000.00")]),
    ("2025-06-30", "Bank charges", [("7492", "10.00", ""), ("1210", "", "10.00")]),
    ("2025-06-30", "Salaries paid", [("3130", "500.00", ""), ("1210", "", "500.00")]),
]

H1 = {"date_from": "2025-01-01", "date_to": "2025-06-30"}



@pytest.fixture
async def books(h: Harness) -> Books:
    books = await h.books()
    await books.post_batch(SCENARIO)
    return books


async def report(books: Books, name: str, by: str = "clerk", **params: Any) -> dict[str, Any]:
    r = await books.h.client.get(books.url(f"/reports/{name}"), params=params,
                                 headers=getattr(books, by))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body: dict[str, Any] = r.json()
    return body


def by_key(items: list[dict[str, Any]], key: str = "key") -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


# ---------------------------------------------------------------------- trial balance


async def test_trial_balance_for_the_second_quarter(books: Books) -> None:
    tb = await report(books, "trial-balance", date_from="2025-04-01", date_to="2025-06-30")
    rows = by_key(tb["rows"], "code")
    six = ("opening_debit", "opening_credit", "debit", "credit", "closing_debit",
           "closing_credit")
    assert [rows["1210"][k] for k in six] == ["7000.00", "0.00", "3180.00", "1100.00",
                                              "9080.00", "0.00"]
    assert [rows["1410"][k] for k in six] == ["1180.00", "0.00", "0.00", "1180.00",
                                              "0.00", "0.00"]
    assert [rows["6110"][k] for k in six] == ["0.00", "1000.00", "0.00", "0.00",
                                              "0.00", "1000.00"]
    assert [rows["2250"][k] for k in six] == ["0.00", "0.00", "0.00", "50.00",
                                              "0.00", "50.00"]
    assert rows["6110"]["name"] == "Sales revenue"
    assert tb["totals"] == {"opening_debit": "11770.00", "opening_credit": "11770.00",
                            "debit": "4830.00", "credit": "4830.00",
                            "closing_debit": "13230.00", "closing_credit": "13230.00"}
    # Zero rows are hidden by default; every row is a postable account.
    assert "1110" not in rows
    assert "1200" not in rows
    assert all(r["postable"] for r in tb["rows"])


async def test_trial_balance_levels_filters_and_georgian_names(books: Books) -> None:
    classes = await report(books, "trial-balance", level="class", **H1)
    assert [r["code"] for r in classes["rows"]] == ["1000", "2000", "3000", "5000", "6000",
                                                    "7000"]
    current = by_key(classes["rows"], "code")["1000"]
    assert current["closing_debit"] == "9180.00"  # 9,080 bank + 100 goods
    assert classes["totals"]["closing_debit"] == classes["totals"]["closing_credit"]
    groups = await report(books, "trial-balance", level="group", account_class=2, **H1)
    assert {r["code"]: r["closing_debit"] or r["closing_credit"] for r in groups["rows"]} \
        == {"2100": "3000.00", "2200": "0.00"}
    assert by_key(groups["rows"], "code")["2200"]["closing_credit"] == "50.00"
    tree = await report(books, "trial-balance", level="all", account_class=1, lang="ka", **H1)
    codes = [r["code"] for r in tree["rows"]]
    assert codes[:3] == ["1000", "1200", "1210"]
    assert by_key(tree["rows"], "code")["1210"]["name"] == "ეროვნული ვალუტა რეზიდენტ ბანკში"
    assert tree["totals"]["closing_debit"] == "9180.00"  # leaves only, no double count
    everything = await report(books, "trial-balance", include_zero="true", **H1)
    assert "1110" in by_key(everything["rows"], "code")


# ---------------------------------------------------------------------- general ledger


async def test_account_card_with_counter_accounts_and_running_balance(books: Books) -> None:
    gl = await report(books, "general-ledger", account="1210", date_from="2025-04-01",
                      date_to="2025-06-30")
    [card] = gl["accounts"]
    assert card["code"] == "1210"
    assert card["opening"] == "7000.00"
    assert [(ln["date"], ln["description"], ln["counter_accounts"], ln["debit"],
             ln["credit"], ln["balance"]) for ln in card["lines"]] == [
        ("2025-04-05", "Kutaisi Market pays", ["1410"], "1180.00", "0.00", "8180.00"),
        ("2025-04-10", "Supplier LLC paid", ["3110"], "0.00", "590.00", "7590.00"),
        ("2025-06-01", "Bank loan", ["3210"], "2000.00", "0.00", "9590.00"),
        ("2025-06-30", "Bank charges", ["7492"], "0.00", "10.00", "9580.00"),
        ("2025-06-30", "Salaries paid", ["3130"], "0.00", "500.00", "9080.00"),
    ]
    assert [ln["number"] for ln in card["lines"]] == [6, 7, 10, 11, 12]
    assert (card["debit"], card["credit"], card["closing"]) == ("3180.00", "1100.00",
                                                                "9080.00")
    sale = await report(books, "general-ledger", account="6110", **H1)
    assert sale["accounts"][0]["lines"][0]["counter_accounts"] == ["1410"]


async def test_general_ledger_of_a_header_and_of_every_account(books: Books) -> None:
    group = await report(books, "general-ledger", account="1600", **H1)
    [goods] = group["accounts"]  # 1620..1690 never moved: left out
    assert goods["code"] == "1610"
    assert [ln["balance"] for ln in goods["lines"]] == ["500.00", "100.00"]
    everything = await report(books, "general-ledger", **H1)
    codes = [c["code"] for c in everything["accounts"]]
    assert codes == sorted(codes)
    assert "1210" in codes
    assert "7492" in codes
    assert sum(len(c["lines"]) for c in everything["accounts"]) == 26


# ---------------------------------------------------------------------- statements


async def test_statement_of_financial_position(books: Books) -> None:
    bs = await report(books, "balance-sheet", as_of="2025-06-30", compare_to="2025-03-31")
    assert (bs["total_assets"], bs["total_liabilities"], bs["total_equity"]) == (
        "12130.00", "2090.00", "10040.00")
    assert bs["comparative"] == {"total_assets": "11280.00", "total_liabilities": "680.00",
                                 "total_equity": "10600.00",
                                 "total_equity_and_liabilities": "11280.00"}
    assert bs["balanced"] is True
    sections = by_key(bs["sections"])
    assert [s["key"] for s in bs["sections"]] == [
        "non_current_assets", "current_assets", "equity", "non_current_liabilities",
        "current_liabilities"]
    nca = by_key(sections["non_current_assets"]["lines"])
    # Accumulated depreciation netted into the carrying amount (IAS 16.73): 3,000 − 50.
    assert list(nca) == ["2100"]
    assert (nca["2100"]["amount"], nca["2100"]["comparative"]) == ("2950.00", "3000.00")
    assert [(a["code"], a["amount"]) for a in nca["2100"]["accounts"]] == [
        ("2150", "3000.00"), ("2250", "-50.00")]
    assert sections["current_assets"]["total"] == "9180.00"
    equity = by_key(sections["equity"]["lines"])
    assert equity["5100"]["amount"] == "10000.00"
    assert (equity["current_result"]["amount"], equity["current_result"]["comparative"]) \
        == ("40.00", "600.00")
    liabilities = by_key(sections["current_liabilities"]["lines"])
    # VAT net by its sign: output 180 less input 90 is a liability of 90.
    assert liabilities["vat_payable"]["amount"] == "90.00"
    assert [a["code"] for a in liabilities["vat_payable"]["accounts"]] == ["3330", "3340"]
    assert "3300" not in liabilities
    assert "vat_receivable" not in by_key(sections["current_assets"]["lines"])
    assert liabilities["3200"]["amount"] == "2000.00"


async def test_profit_or_loss_by_nature_with_a_comparative_range(books: Books) -> None:
    pl = await report(books, "profit-and-loss", compare_from="2025-01-01",
                      compare_to="2025-03-31", **H1)
    assert (pl["revenue"], pl["expenses"], pl["profit"]) == ("1000.00", "960.00", "40.00")
    assert pl["comparative"] == {"revenue": "1000.00", "expenses": "400.00",
                                 "profit": "600.00"}
    lines = by_key(pl["lines"])
    # IAS 1.102: expenses by nature; finance income and costs; profit tax on its own line.
    assert [x["key"] for x in pl["lines"]] == [
        "revenue", "other_income", "materials_and_goods", "employee_benefits",
        "depreciation", "impairment_losses", "other_expenses", "fx_net", "finance_income",
        "finance_costs", "profit_before_tax", "profit_tax", "profit"]
    assert {k: lines[k]["amount"] for k in lines if lines[k]["amount"] != "0.00"} == {
        "revenue": "1000.00", "materials_and_goods": "-400.00",
        "employee_benefits": "-500.00", "depreciation": "-50.00",
        "other_expenses": "-10.00", "profit_before_tax": "40.00", "profit": "40.00"}
    assert lines["materials_and_goods"]["comparative"] == "-400.00"
    assert pl["layout"] == "nature"


async def test_profit_or_loss_by_function_discloses_depreciation_and_employee_benefits(
        books: Books) -> None:
    pl = await report(books, "profit-and-loss", layout="function", **H1)
    lines = {x["key"]: x["amount"] for x in pl["lines"]}
    # IAS 1.103: revenue 1,000 − cost of sales 400 = gross profit 600; administrative
    # expenses 560 (salaries 500, depreciation 50, bank charges 10) → profit 40.
    assert {k: v for k, v in lines.items() if v != "0.00"} == {
        "revenue": "1000.00", "cost_of_sales": "-400.00", "gross_profit": "600.00",
        "administrative_expenses": "-560.00", "profit_before_tax": "40.00",
        "profit": "40.00"}
    assert "distribution_costs" in lines
    assert {x["key"]: x["amount"] for x in pl["disclosures"]} == {
        "depreciation": "-50.00", "employee_benefits": "-500.00"}  # IAS 1.104
    r = await books.h.client.get(books.url("/reports/profit-and-loss"),
                                 params={"layout": "sideways"}, headers=books.clerk)
    expect_problem(r, 422, "invalid_layout")


@pytest.mark.parametrize("method", ["indirect", "direct"])
async def test_cash_flows_reconcile_to_the_bank(books: Books, method: str) -> None:
    cf = await report(books, "cash-flow", method=method, **H1)
    assert (cf["opening_cash"], cf["closing_cash"], cf["net_change"]) == ("0.00", "9080.00",
                                                                         "9080.00")
    assert cf["check"] == {"cash_change": "9080.00", "difference": "0.00",
                           "reconciled": True}
    assert (cf["operating"], cf["investing"], cf["financing"]) == ("80.00", "-3000.00",
                                                                   "12000.00")
    sections = by_key(cf["sections"])
    operating = {x["key"]: x["amount"] for x in sections["operating"]["lines"]}
    if method == "indirect":
        # Depreciation (7455, non-cash) added back; working capital by group.
        assert operating == {"profit": "40.00", "7455": "50.00", "1600": "-100.00",
                             "3300": "90.00"}
    else:
        assert operating == {"1400": "1180.00", "3100": "-1090.00", "7400": "-10.00"}
    financing = {x["key"]: x["amount"] for x in sections["financing"]["lines"]}
    assert financing == {"3200.receipts": "2000.00", "5100.receipts": "10000.00"}
    investing = {x["key"]: x["amount"] for x in sections["investing"]["lines"]}
    assert investing == {"2100.payments": "-3000.00"}
    assert (cf["fx_effect"], cf["non_cash_transactions"]) == ("0.00", [])


async def test_statement_of_changes_in_equity(books: Books) -> None:
    # A dividend of 30 declared in June (from the year's profit), posted on top.
    await books.post_batch([("2025-06-30", "Dividend declared",
                            [("5310", "30.00", ""), ("3420", "", "30.00")])])
    ce = await report(books, "changes-in-equity", **H1)
    assert [c["key"] for c in ce["columns"]] == [
        "share_capital", "partners_equity", "retained_earnings", "revaluation_reserve",
        "translation_reserve", "other_reserves", "total"]
    rows = by_key(ce["rows"])
    assert list(rows) == ["opening", "profit", "other_comprehensive_income",
                          "total_comprehensive_income", "issue_of_capital", "dividends",
                          "closing"]  # no plug row, nothing unexplained
    pick = ("share_capital", "retained_earnings", "total")
    assert [rows["opening"][k] for k in pick] == ["0.00", "0.00", "0.00"]
    assert [rows["profit"][k] for k in pick] == ["0.00", "40.00", "40.00"]
    assert [rows["dividends"][k] for k in pick] == ["0.00", "-30.00", "-30.00"]
    assert [rows["issue_of_capital"][k] for k in pick] == ["10000.00", "0.00", "10000.00"]
    assert [rows["closing"][k] for k in pick] == ["10000.00", "10.00", "10010.00"]
    assert (ce["reconciled"], ce["exceptions"]) == (True, [])
    bs = await report(books, "balance-sheet", as_of="2025-06-30")
    assert bs["total_equity"] == rows["closing"]["total"]


# ---------------------------------------------------------------------- formats and access

REPORTS = {"trial-balance": H1, "general-ledger": {**H1, "account": "1210"},
           "balance-sheet": {"as_of": "2025-06-30"}, "profit-and-loss": H1,
           "cash-flow": H1, "changes-in-equity": H1}
MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument"
                                    ".spreadsheetml.sheet", "pdf": "application/pdf"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
async def test_every_report_downloads_in_every_format(books: Books, fmt: str) -> None:
    for name, params in REPORTS.items():
        r = await books.h.client.get(books.url(f"/reports/{name}"), headers=books.clerk,
                                     params={**params, "format": fmt, "lang": "ka"})
        assert r.status_code == 200, (name, r.text)
        assert r.headers["content-type"].startswith(MEDIA[fmt]), name
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        assert f".{fmt}" in disposition
        assert len(r.content) > 100, name


async def test_trial_balance_csv_holds_the_figures(books: Books) -> None:
    r = await books.h.client.get(books.url("/reports/trial-balance"), headers=books.clerk,
                                 params={**H1, "format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    codes = {row[0]: row for row in rows[1:]}
    assert codes["1210"][-2:] == ["9080.00", "0.00"]
    assert sum(Decimal(row[-2]) for code, row in codes.items() if code) == Decimal("13230.00")


async def test_the_xlsx_and_pdf_read_back(books: Books) -> None:
    r = await books.h.client.get(books.url("/reports/balance-sheet"), headers=books.clerk,
                                 params={"as_of": "2025-06-30", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    totals = {row[0]: row[-1] for row in sheet.iter_rows(values_only=True)
              if row[0] in ("Total assets", "Total equity and liabilities")}
    assert totals == {"Total assets": 12130, "Total equity and liabilities": 12130}
    r = await books.h.client.get(books.url("/reports/profit-and-loss"), headers=books.clerk,
                                 params={**H1, "format": "pdf", "lang": "ka"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "მოგებისა და ზარალის ანგარიშგება" in text
    assert "Tbilisi Trade LLC" in text
    # Georgian number format, and the signature lines (issue 12 item 6).
    assert "1 000,00" in text
    assert "40,00" in text
    assert "1,000.00" not in text
    assert "დირექტორი" in text
    assert "მთავარი ბუღალტერი" in text


@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("tax_specialist", 200),
                                              ("admin", 403)])
async def test_readers_may_read_reports_and_the_admin_may_not(books: Books, role: str,
                                                             status: int) -> None:
    await books.h.user(role)
    await books.h.member(books.chief, books.company_id, role, role)
    headers = await books.h.headers(role)
    for name, params in REPORTS.items():
        r = await books.h.client.get(books.url(f"/reports/{name}"), params=params,
                                     headers=headers)
        assert r.status_code == status, (name, r.text)
        if status == 403:
            assert r.json()["code"] == "permission_denied"


@pytest.mark.parametrize(("name", "params", "status", "code"), [
    ("trial-balance", {"date_from": "2025-07-01", "date_to": "2025-06-30"}, 422,
     "invalid_date_range"),
    ("profit-and-loss", {**H1, "compare_from": "2024-12-31", "compare_to": "2024-01-01"},
     422, "invalid_date_range"),
    ("general-ledger", {**H1, "account": "1999"}, 404, "account_not_found"),
    ("balance-sheet", {"as_of": "2025-06-30", "format": "docx"}, 422, "unsupported_format"),
    ("cash-flow", {**H1, "lang": "fr"}, 422, "unsupported_language"),
    ("cash-flow", {**H1, "method": "guess"}, 422, "invalid_cash_flow_method"),
    ("trial-balance", {**H1, "level": "leaf"}, 422, "invalid_level"),
    ("trial-balance", {**H1, "account_class": "0"}, 422, "invalid_account_class"),
    ("trial-balance", {"date_from": "2025-13-01"}, 422, "validation_error"),
])
async def test_bad_parameters_are_problems_with_codes(books: Books, name: str,
                                                      params: dict[str, str], status: int,
                                                      code: str) -> None:
    r = await books.h.client.get(books.url(f"/reports/{name}"), params=params,
                                 headers=books.clerk)
    expect_problem(r, status, code)


async def test_another_companys_reports_are_404(books: Books, h: Harness) -> None:
    other = await h.other_books("o")
    r = await h.client.get(books.url("/reports/trial-balance"), headers=other.chief,
                           params=H1)
    expect_problem(r, 404, "company_not_found")


# ---------------------------------------------------------------------- the command line


async def saldo(books: Books, *args: str) -> tuple[int, str, str]:
    """``saldo ARGS`` in a child process, on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=as_url(books.h.container.db.url), COLUMNS="200")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "saldo", *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_saldo_report_on_the_command_line(books: Books, tmp_path: Path) -> None:
    company = ("--company", str(books.company_id), "--user", "clerk")
    code, out, err = await saldo(books, "report", "profit-and-loss", *company,
                                 "--from", "2025-01-01", "--to", "2025-06-30")
    assert code == 0, err
    assert (json.loads(out)["profit"], json.loads(out)["revenue"]) == ("40.00", "1000.00")
    target = tmp_path / "balance.xlsx"
    code, out, err = await saldo(books, "report", "balance-sheet", *company, "--as-of",
                                 "2025-06-30", "--format", "xlsx", "--lang", "ka",
                                 "--output", str(target))
    assert code == 0, err
    assert target.read_bytes()[:2] == b"PK"  # a zip: the workbook
    code, out, err = await saldo(books, "report", "trial-balance", *company, "--from",
                                 "2025-07-01", "--to", "2025-06-30")
    assert code == 1
    assert "after" in err
    code, _, err = await saldo(books, "report", "payroll", *company)
    assert code == 1
    assert "No report 'payroll'" in err
