"""Employees' salary history and leaving feed the run's defaults; other withholding lands in
the income tax return; the rates are dated settings."""

from __future__ import annotations

import pytest
from billing_harness import Billing, line
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration


async def test_salary_history_and_leaving_drive_the_defaults(h: Harness) -> None:
    b = await h.books()
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "01001011234", "full_name": "Nino Beridze",
        "gross_salary": "3000.00", "start_date": "2025-01-01"})
    assert r.status_code == 201, r.text
    nino = r.json()["id"]
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "01001011235", "full_name": "Giorgi Kapanadze",
        "gross_salary": 2800, "start_date": "2025-01-01"})
    giorgi = r.json()["id"]
    # A raise from 21 April; Giorgi leaves on 10 April.
    r = await h.client.post(b.url(f"/employees/{nino}/salaries"), headers=b.clerk,
                            json={"effective_from": "2026-04-21", "gross_salary": "3600.00"})
    assert r.status_code == 201, r.text
    assert [s["gross_salary"] for s in r.json()["salary_history"]] == ["3000.00", "3600.00"]
    r = await h.client.patch(b.url(f"/employees/{giorgi}"), headers=b.clerk,
                             json={"end_date": "2026-04-10"})
    assert r.status_code == 200, r.text
    assert r.json()["end_date"] == "2026-04-10"
    expect_problem(await h.client.post(b.url(f"/employees/{nino}/salaries"), headers=b.clerk,
                                       json={"effective_from": "2026-05-01",
                                             "gross_salary": "-1"}), 422, "negative_gross")

    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-04", "payment_date": "2026-05-05"})
    assert r.status_code == 201, r.text
    lines = {x["employee_id"]: x for x in r.json()["lines"]}
    # Nino: 3000 × 20/30 + 3600 × 10/30 = 2000.00 + 1200.00 = 3200.00.
    assert lines[nino]["gross"] == "3200.00"
    # Giorgi: 2800 × 10/30 = 933.333 → 933.33.
    assert lines[giorgi]["gross"] == "933.33"
    # In May Giorgi is gone.
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-05", "payment_date": "2026-06-05"})
    assert [x["employee_id"] for x in r.json()["lines"]] == [nino]
    r = await h.client.get(b.url("/employees"), headers=b.chief)
    assert len(r.json()) == 2
    # Auditors read, never write.
    await h.user("auditor1")
    await h.member(b.chief, b.company_id, "auditor1", "auditor")
    auditor = await h.headers("auditor1")
    assert (await h.client.get(b.url("/payroll-runs"), headers=auditor)).status_code == 200
    expect_problem(await h.client.post(b.url("/employees"), headers=auditor, json={
        "personal_number": "01001011236", "full_name": "X", "start_date": "2026-01-01"}), 403)


async def test_other_withholding_lands_in_the_income_tax_return(h: Harness) -> None:
    b = await h.books()
    # A resident individual's services: 1,000.00 gross, 20% withheld = 200.00, 800.00 net.
    r = await h.client.post(b.url("/withholdings"), headers=b.clerk, json={
        "date": "2026-07-10", "code": "services_individual", "payee_tax_id": "01001011299",
        "payee_name": "Dato Maisuradze", "gross": "1000.00", "expense_account_code": "7490"})
    assert r.status_code == 201, r.text
    assert (r.json()["withheld"], r.json()["net"]) == ("200.00", "800.00")
    # A non-resident's services: 333.33 × 10% = 33.333 → 33.33.
    r = await h.client.post(b.url("/withholdings"), headers=b.clerk, json={
        "date": "2026-07-12", "code": "nonresident_services", "payee_tax_id": "DE123",
        "payee_name": "Berlin Consult GmbH", "resident": False, "gross": "333.33",
        "expense_account_code": "7490", "payable_account_code": "3110"})
    assert r.status_code == 201, r.text
    assert r.json()["withheld"] == "33.33"
    assert await b.balance("3322", "2026-07-31") == "-233.33"
    r = await h.client.get(b.url("/tax/income-tax-returns/2026-07"), headers=b.chief)
    ret = r.json()
    assert {(x["income_type"], x["gross"], x["income_tax"]) for x in ret["rows"]} == {
        ("services_individual", "1000.00", "200.00"),
        ("nonresident_services", "333.33", "33.33")}
    assert (ret["total_gross"], ret["total_income_tax"]) == ("1333.33", "233.33")
    expect_problem(await h.client.post(b.url("/withholdings"), headers=b.clerk, json={
        "date": "2026-07-10", "code": "bribes", "payee_tax_id": "1", "payee_name": "X",
        "gross": "1", "expense_account_code": "7490"}), 422)


async def test_a_change_in_law_is_a_new_rate_row(h: Harness) -> None:
    b = await h.books()
    await h.user("root", superuser=True)
    root = await h.headers("root")
    r = await h.client.get("/api/v1/payroll-rates", headers=b.clerk)
    assert r.status_code == 200, r.text
    assert any(x["name"] == "income_tax" and x["rate"] == "0.200000" for x in r.json())
    expect_problem(await h.client.put("/api/v1/payroll-rates/income_tax/2027-01-01",
                                      headers=b.chief, json={"rate": "0.18",
                                                             "source": "x"}), 403)
    r = await h.client.put("/api/v1/payroll-rates/income_tax/2026-12-01", headers=root,
                           json={"rate": "0.18", "source": "Hypothetical amendment"})
    assert r.status_code == 200, r.text
    # The pension remittance timing is UNCONFIRMED (georgia.md §2): a dated setting too.
    r = await h.client.put(
        "/api/v1/payroll-rates/pension_remittance_working_days/2026-12-01", headers=root,
        json={"rate": "5", "source": "Hypothetical: within 5 working days"})
    assert r.status_code == 200, r.text
    try:
        await _paid_in_november_and_december(h, b)
    finally:  # the rates are shared by every company (and every test)
        async with h.container.db.transaction() as conn:
            await conn.execute("DELETE FROM payroll_rates WHERE valid_from = '2026-12-01'")


async def _paid_in_november_and_december(h: Harness, b: Books) -> None:
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "01001011234", "full_name": "Nino Beridze",
        "gross_salary": "1000.00", "start_date": "2025-01-01"})
    # Paid in November: 20%; paid in December: 18% of 980.00 = 176.40.
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-10", "payment_date": "2026-11-05"})
    assert r.json()["totals"]["income_tax"] == "196.00"
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-11", "payment_date": "2026-12-07"})
    assert r.json()["totals"]["income_tax"] == "176.40"
    # Paid Monday 7 December: pension due 5 working days later, Monday 14 December.
    r = await h.client.get(b.url(f"/payroll-runs/{r.json()['id']}/budget-payments"),
                           headers=b.clerk)
    assert [(p["tax"], p["due_date"]) for p in r.json()] == [
        ("income_tax", "2026-12-07"), ("pension", "2026-12-14")]


async def test_the_returns_join_the_tax_calendar(h: Harness) -> None:
    b = await h.books()
    await b.post([("1210", "5000.00", ""), ("6110", "", "5000.00")], day="2026-06-01")
    r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "01001011234", "full_name": "Nino Beridze",
        "gross_salary": "1000.00", "start_date": "2025-01-01"})
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-02", "payment_date": "2026-03-05"})
    await h.client.post(b.url(f"/payroll-runs/{r.json()['id']}/post"), headers=b.clerk)
    r = await h.client.post(b.url("/dividends"), headers=b.clerk, json={
        "date": "2026-06-30", "amount": "850.00", "shareholders": [
            {"name": "Kartli Holding LLC", "kind": "company", "resident": True,
             "share": "1"}]})
    assert r.status_code == 201, r.text
    assert r.json()["withholding_tax"] == "0.00"
    r = await h.client.get(b.url("/tax/calendar"), params={"year": 2026}, headers=b.chief)
    assert r.status_code == 200, r.text
    # March's payment: due 15 April 2026 (Wednesday); June's dividend: 15 July 2026.
    # Beside them the tax context's own returns (property tax; VAT for VAT payers).
    payroll = [x for x in r.json() if x["tax"] in ("income_tax", "profit_tax")]
    assert payroll == [
        {"tax": "income_tax", "period": "2026-03", "due_date": "2026-04-15"},
        {"tax": "profit_tax", "period": "2026-06", "due_date": "2026-07-15"}]


async def test_withholding_from_a_purchase_bill(h: Harness) -> None:
    b = await h.books()
    billing = Billing(b)
    person = await billing.counterparty("Dato Maisuradze", "01001011299")
    # A resident individual's services: 1,500.00 out of VAT scope; 20% = 300.00 withheld,
    # 1,200.00 left to pay him.
    bill = await billing.bill(person, "2026-08-10",
                              [line("1", "1500.00", "out_of_scope", "7490", "Design")])
    r = await h.client.post(b.url(f"/purchase-bills/{bill['id']}/withholding"),
                            headers=b.clerk, json={"code": "services_individual"})
    assert r.status_code == 201, r.text
    assert (r.json()["gross"], r.json()["withheld"], r.json()["net"]) == (
        "1500.00", "300.00", "1200.00")
    assert (await billing.bill_doc(bill["id"]))["amount_due"] == "1200.00"
    assert await b.balance("3322", "2026-08-31") == "-300.00"
    assert await b.balance("3110", "2026-08-31") == "-1200.00"
    r = await h.client.get(b.url("/tax/income-tax-returns/2026-08"), headers=b.chief)
    assert [(x["personal_number"], x["income_type"], x["gross"], x["income_tax"])
            for x in r.json()["rows"]] == [
        ("01001011299", "services_individual", "1500.00", "300.00")]
    # Once per bill; a bill that is not a purchase bill is 404.
    r = await h.client.post(b.url(f"/purchase-bills/{bill['id']}/withholding"),
                            headers=b.clerk, json={"code": "services_individual"})
    expect_problem(r, 409, "invalid_state")
    r = await h.client.post(b.url(f"/purchase-bills/{person}/withholding"),
                            headers=b.clerk, json={"code": "services_individual"})
    expect_problem(r, 404, "bill_not_found")
