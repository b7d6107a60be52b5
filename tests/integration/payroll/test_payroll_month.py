"""A payroll month end to end over HTTP: employees, a run with hand-computed figures, its
journal, payment, the bank file, the income tax return and the pension report.

The month (March 2026, paid 5 April 2026), each deduction rounded half-up per line:

Nino, enrolled: gross 3000.00; pension 2% 60.00; tax (3000.00 − 60.00) × 0.2 = 588.00;
  net 2352.00; employer 60.00.
Giorgi, enrolled: gross 1234.57; pension 24.6914 → 24.69; tax 1209.88 × 0.2 = 241.976 →
  241.98; net 1234.57 − 24.69 − 241.98 = 967.90; employer 24.69.
Levan, not enrolled: gross 2000.00; pension 0; tax 2000.00 × 0.2 = 400.00; net 1600.00.
Ana, enrolled, from 16 March: 3100.00 × 16 / 31 = 1600.00; pension 32.00; tax 1568.00 ×
  0.2 = 313.60; net 1254.40; employer 32.00.
Totals: gross 7834.57, pension 116.69, tax 1543.58, net 6174.30, employer 116.69.

Journal: Dr 7410 7834.57, Dr 7415 116.69 / Cr 3130 6174.30, Cr 3320 1543.58,
Cr 3321 233.38 (116.69 + 116.69); both sides 7951.26.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem
from pypdf import PdfReader

pytestmark = pytest.mark.integration

NINO, GIORGI, LEVAN, ANA = "01001011234", "01001011235", "01001011236", "01001011237"
IBAN = "GE29NB0000000101904917"


async def employee(b: Books, number: str, name: str, gross: str, start: str = "2025-01-01",
                   **extra: Any) -> dict[str, Any]:
    r = await b.h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": number, "full_name": name, "gross_salary": gross,
        "start_date": start, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def staff(b: Books) -> dict[str, str]:
    ids = {}
    for number, name, gross, start, extra in (
            (NINO, "Nino Beridze", "3000.00", "2025-01-01", {"iban": IBAN}),
            (GIORGI, "Giorgi Kapanadze", "1234.57", "2025-01-01", {}),
            (LEVAN, "Levan Gelashvili", "2000", "2024-06-01", {"pension_enrolled": False}),
            (ANA, "Ana Lomidze", "3100.00", "2026-03-16", {})):
        ids[name.split()[0]] = (await employee(b, number, name, gross, start, **extra))["id"]
    return ids


async def payroll_events(h: Harness, b: Books) -> dict[str, int]:
    """The company's payroll and ledger events by type (read with the privileged pool)."""
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT event_type, count(*) AS n FROM events WHERE company_id = %s"
            " AND (stream_type LIKE 'payroll.%%' OR stream_type LIKE 'ledger.%%')"
            " GROUP BY 1", (b.company_id,))
        return {r["event_type"]: r["n"] for r in await cursor.fetchall()}


async def run(b: Books, period: str = "2026-03", payment_date: str = "2026-04-05",
              **extra: Any) -> Any:
    return await b.h.client.post(b.url("/payroll-runs"), headers=b.clerk, json={
        "period": period, "payment_date": payment_date, **extra})


async def test_a_worked_month_the_books_and_the_return_agree(h: Harness) -> None:
    b = await h.books()
    ids = await staff(b)
    r = await run(b)
    assert r.status_code == 201, r.text
    drafted = r.json()
    assert drafted["status"] == "draft"
    assert drafted["transaction_id"] is None
    lines = {x["employee_id"]: x for x in drafted["lines"]}
    assert lines[ids["Nino"]] | {} == {**lines[ids["Nino"]], "gross": "3000.00",
                                       "pension_employee": "60.00", "income_tax": "588.00",
                                       "net": "2352.00", "pension_employer": "60.00"}
    giorgi = lines[ids["Giorgi"]]
    assert (giorgi["gross"], giorgi["pension_employee"], giorgi["income_tax"], giorgi["net"],
            giorgi["pension_employer"]) == ("1234.57", "24.69", "241.98", "967.90", "24.69")
    levan = lines[ids["Levan"]]
    assert (levan["gross"], levan["pension_employee"], levan["income_tax"], levan["net"],
            levan["pension_employer"]) == ("2000.00", "0.00", "400.00", "1600.00", "0.00")
    ana = lines[ids["Ana"]]
    assert (ana["gross"], ana["pension_employee"], ana["income_tax"], ana["net"],
            ana["pension_employer"]) == ("1600.00", "32.00", "313.60", "1254.40", "32.00")
    assert drafted["totals"] == {"gross": "7834.57", "pension_employee": "116.69",
                                 "income_tax": "1543.58", "net": "6174.30",
                                 "pension_employer": "116.69"}

    r = await h.client.post(b.url(f"/payroll-runs/{drafted['id']}/post"), headers=b.clerk)
    assert r.status_code == 200, r.text
    posted = r.json()
    assert posted["status"] == "posted"
    assert posted["transaction_id"]
    tx = await b.get(posted["transaction_id"])
    assert tx["status"] == "posted"
    assert tx["date"] == "2026-03-31"
    assert tx["source"] == {"type": "payroll_run", "id": drafted["id"]}
    entries = {(e["account_code"], e["debit"], e["credit"]) for e in tx["entries"]}
    assert entries == {("7410", "7834.57", "0.00"), ("7415", "116.69", "0.00"),
                       ("3130", "0.00", "6174.30"), ("3320", "0.00", "1543.58"),
                       ("3321", "0.00", "233.38")}
    assert await b.balance("3320", "2026-03-31") == "-1543.58"

    # The return is by payment month: nothing in March, the whole run in April.
    r = await h.client.get(b.url("/tax/income-tax-returns/2026-03"), headers=b.chief)
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == []
    assert r.json()["total_gross"] == "0.00"
    r = await h.client.get(b.url("/tax/income-tax-returns/2026-04"), headers=b.chief)
    assert r.status_code == 200, r.text
    ret = r.json()
    assert ret["period"] == "2026-04"
    assert ret["due_date"] == "2026-05-15"
    assert ret["total_gross"] == "7834.57"
    assert ret["total_income_tax"] == "1543.58"
    rows = {x["personal_number"]: x for x in ret["rows"]}
    assert {k: rows[GIORGI][k] for k in ("full_name", "gross", "income_tax",
                                         "pension_employee")} == {
        "full_name": "Giorgi Kapanadze", "gross": "1234.57", "income_tax": "241.98",
        "pension_employee": "24.69"}
    assert rows[LEVAN]["pension_employee"] == "0.00"
    # The books agree with the return: the tax withheld is what 3320 owes.
    assert ret["total_income_tax"] == (await b.balance("3320", "2026-04-04")).lstrip("-")

    r = await h.client.get(b.url("/tax/pension-contributions/2026-04"), headers=b.clerk)
    assert r.status_code == 200, r.text
    pension = r.json()
    assert len(pension["rows"]) == 3  # Levan is not enrolled
    assert pension["total"] == "233.38"

    # Budget payments and the bank file.
    r = await h.client.get(b.url(f"/payroll-runs/{drafted['id']}/budget-payments"),
                           headers=b.clerk)
    assert r.status_code == 200, r.text
    assert [(p["tax"], p["amount"], p["due_date"]) for p in r.json()] == [
        ("income_tax", "1543.58", "2026-04-05"), ("pension", "233.38", "2026-04-05")]
    r = await h.client.get(b.url(f"/payroll-runs/{drafted['id']}/bank-file"), headers=b.clerk)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig").splitlines()
    assert text[0].startswith("Beneficiary IBAN,")
    assert f"{IBAN},Nino Beridze,{NINO},2352.00,GEL,Salary 2026-03" in text
    assert len(text) == 5

    # Paying: net pay, income tax and pension from the bank on the payment date.
    r = await h.client.post(b.url(f"/payroll-runs/{drafted['id']}/pay"), headers=b.clerk,
                            json={})
    assert r.status_code == 200, r.text
    paid = r.json()
    assert paid["status"] == "paid"
    assert paid["paid_on"] == "2026-04-05"
    for code in ("3130", "3320", "3321"):
        assert await b.balance(code, "2026-04-30") == "0.00"
    assert await b.balance("1210", "2026-04-30") == "-7951.26"
    # Paying twice, reversing a paid run: 409.
    r = await h.client.post(b.url(f"/payroll-runs/{drafted['id']}/pay"), headers=b.clerk,
                            json={})
    expect_problem(r, 409, "already_paid")
    r = await h.client.post(b.url(f"/payroll-runs/{drafted['id']}/reverse"), headers=b.clerk,
                            json={"reason": "late"})
    expect_problem(r, 409, "invalid_state")

    # Payslips in Georgian and English.
    for lang, label in (("ka", "ხელფასის ფურცელი"), ("en", "Payslip")):
        r = await h.client.get(
            b.url(f"/payroll-runs/{drafted['id']}/payslips/{ids['Giorgi']}"),
            params={"lang": lang}, headers=b.clerk)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        page = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
        assert label in page
        assert "Giorgi Kapanadze" in page
        assert ("967,90" if lang == "ka" else "967.90") in page


async def test_lines_with_bonuses_and_a_reversal_before_payment(h: Harness) -> None:
    b = await h.books()
    ids = await staff(b)
    # Nino: 3000.00 + bonus 500.00 + other 0.01 = 3500.01; pension 70.0002 → 70.00;
    # tax 3430.01 × 0.2 = 686.002 → 686.00; net 2744.01; employer 70.00.
    r = await run(b, "2026-05", "2026-06-03", lines=[
        {"employee_id": ids["Nino"], "bonus": "500", "other_earnings": 0.01},
        {"employee_id": ids["Levan"], "gross": "999.99"}])
    assert r.status_code == 201, r.text
    lines = {x["employee_id"]: x for x in r.json()["lines"]}
    assert len(lines) == 2
    nino = lines[ids["Nino"]]
    assert (nino["salary"], nino["gross"], nino["pension_employee"], nino["income_tax"],
            nino["net"]) == ("3000.00", "3500.01", "70.00", "686.00", "2744.01")
    # Levan, not enrolled: 999.99 × 0.2 = 199.998 → 200.00; net 799.99.
    assert (lines[ids["Levan"]]["income_tax"], lines[ids["Levan"]]["net"]) == ("200.00",
                                                                               "799.99")
    run_id = r.json()["id"]
    r = await h.client.post(b.url(f"/payroll-runs/{run_id}/post"), headers=b.clerk)
    assert r.status_code == 200, r.text
    r = await h.client.post(b.url(f"/payroll-runs/{run_id}/post"), headers=b.clerk)
    expect_problem(r, 409, "invalid_state")
    r = await h.client.post(b.url(f"/payroll-runs/{run_id}/reverse"), headers=b.clerk,
                            json={"reason": "wrong bonus"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reversed"
    assert r.json()["reversal_transaction_id"]
    assert await b.balance("7410", "2026-12-31") == "0.00"
    # A reversed run frees its period and leaves the return.
    r = await h.client.get(b.url("/tax/income-tax-returns/2026-06"), headers=b.clerk)
    assert r.json()["rows"] == []
    r = await run(b, "2026-05", "2026-06-03")
    assert r.status_code == 201, r.text


async def test_bad_input_is_refused_and_nothing_is_written(h: Harness) -> None:
    b = await h.books()
    for bad in ("0100101123", "010010112345", "0100101123a", "", "١٠٠١٠١١٢٣٤٥",
                "123456789"):
        r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
            "personal_number": bad, "full_name": "X", "start_date": "2026-01-01"})
        assert r.status_code == 422, (bad, r.text)
    # A foreigner's 9-digit tax id.
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "123456789", "full_name": "John Smith", "resident": False,
        "start_date": "2026-01-01", "gross_salary": "5000"})
    assert r.status_code == 201, r.text
    ids = await staff(b)
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": NINO, "full_name": "Nino again", "start_date": "2026-01-01"})
    expect_problem(r, 409, "employee_exists")
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "01001011299", "full_name": "Bad IBAN", "start_date": "2026-01-01",
        "iban": "GE00NB0000000101904917"})
    expect_problem(r, 422)

    before = await payroll_events(h, b)
    r = await run(b, lines=[{"employee_id": ids["Nino"], "gross": "-1.00"}])
    expect_problem(r, 422, "negative_gross")
    r = await run(b, lines=[{"employee_id": ids["Nino"], "bonus": "-5"}])
    expect_problem(r, 422, "negative_gross")
    r = await run(b, period="2026-13")
    expect_problem(r, 422)
    r = await run(b, lines=[{"employee_id": ids["Nino"], "gross": "100.001"}])
    expect_problem(r, 422)
    r = await run(b, lines=[{"employee_id": ids["Nino"]}, {"employee_id": ids["Nino"]}])
    expect_problem(r, 422, "invalid_payroll_run")
    r = await run(b, lines=[{"employee_id": str(b.company_id)}])
    expect_problem(r, 422, "invalid_payroll_run")
    assert await payroll_events(h, b) == before  # nothing written
    r = await run(b)
    assert r.status_code == 201, r.text
    r = await run(b)
    expect_problem(r, 409, "payroll_run_exists")

    # A payment date in a closed period.
    r = await h.client.post(b.url("/fiscal-periods/2026-02/close"), headers=b.chief)
    assert r.status_code == 200, r.text
    r = await run(b, period="2026-01", payment_date="2026-02-05")
    expect_problem(r, 422, "period_closed")
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM payroll_runs WHERE company_id = %s", (b.company_id,))
        assert (await cursor.fetchone() or {})["n"] == 1

    # Another company's run is 404.
    other = await h.other_books("o")
    r = await h.client.get(other.url(f"/payroll-runs/{ids['Nino']}"), headers=other.clerk)
    expect_problem(r, 404)
