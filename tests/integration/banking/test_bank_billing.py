"""Bank lines against billing's real documents: a customer's invoice is suggested for
the line that pays it, reconciling the line posts billing's payment (the invoice paid,
1410 relieved), and allocating more than is due is refused by billing's own rule.

Kolkheti Foods (tax id 204567890) is invoiced 10 x 100.00 (vat18 where the company is a
VAT payer: total 1,000.00 + 180.00 = 1,180.00; else 1,000.00); the bank line pays the
invoice's total on 10 March, naming its number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from bank_files import CUSTOMER_IBAN, Entry, camt053
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration


async def invoice(books: Books) -> dict[str, Any]:
    h = books.h
    r = await h.client.post(books.url("/counterparties"), headers=books.clerk, json={
        "name": "Kolkheti Foods LLC", "tax_id": "204567890", "iban": CUSTOMER_IBAN})
    assert r.status_code == 201, r.text
    customer = r.json()["id"]
    r = await h.client.post(books.url("/sales-invoices"), headers=books.clerk, json={
        "customer_id": customer, "date": "2026-03-02", "due_date": "2026-03-31",
        "lines": [{"description": "Flour", "quantity": "10", "unit_price": "100.00",
                   "vat_code": "vat18"}]})
    assert r.status_code == 201, r.text
    r = await h.client.post(books.url(f"/sales-invoices/{r.json()['id']}/post"),
                            headers=books.clerk)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def lines(books: Books) -> list[dict[str, Any]]:
    r = await books.h.client.get(books.url("/bank-statements/lines"),
                                 params={"status": "unreconciled"}, headers=books.clerk)
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_an_invoice_is_suggested_and_paid_from_its_bank_line(h: Harness) -> None:
    books = await h.books()
    inv = await invoice(books)
    total = inv["total"]
    statement = camt053([
        Entry(total, date(2026, 3, 10), f"Payment for {inv['number']}", "K-1", "",
              "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890"),
        Entry("-2.50", date(2026, 3, 10), "Commission", "K-2")])
    r = await h.client.post(books.url("/bank-statements"), params={"account_code": "1210"},
                            files={"file": ("m.xml", statement, "application/xml")},
                            headers=books.clerk)
    assert r.status_code == 201, r.text
    paying, fee = await lines(books)
    # Number 50 + tax id and IBAN 25 + exact amount 20 + date 5 = 100.
    [best] = paying["suggestions"]
    assert (best["document_id"], best["kind"], best["amount_due"], best["score"]) == (
        inv["id"], "sales_invoice", total, 100)
    assert fee["suggestions"] == []
    url = books.url(f"/bank-statements/lines/{paying['id']}/reconcile")
    too_much = str(Decimal(total) + 1)
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": inv["id"], "amount": too_much}]})
    expect_problem(r, 422, "over_allocation")
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": inv["id"], "amount": total}]})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["payment_id"] is not None
    r = await h.client.get(books.url(f"/sales-invoices/{inv['id']}"), headers=books.clerk)
    assert (r.json()["status"], r.json()["amount_due"]) == ("paid", "0.00")
    tx = await books.get(done["transaction_id"])
    assert tx["source"]["type"] == "payment"
    # The receivable is settled; the bank holds the payment.
    assert await books.balance("1410") == "0.00"
    assert await books.balance("1210") == total
    assert [ln["id"] for ln in await lines(books)] == [fee["id"]]
    # Unreconciling reverses billing's payment: the invoice is due again, 1410 holds it,
    # the bank does not, and the line is open with its suggestion back.
    r = await h.client.post(books.url(f"/bank-statements/lines/{paying['id']}/unreconcile"),
                            headers=books.clerk)
    assert r.status_code == 200, r.text
    r = await h.client.get(books.url(f"/sales-invoices/{inv['id']}"), headers=books.clerk)
    assert (r.json()["status"], r.json()["amount_due"]) == ("posted", total)
    assert await books.balance("1410") == total
    assert await books.balance("1210") == "0.00"
    r = await h.client.get(books.url(f"/payments/{done['payment_id']}"), headers=books.clerk)
    assert r.json()["status"] == "reversed"
    again, fee_again = await lines(books)
    assert (again["id"], fee_again["id"]) == (paying["id"], fee["id"])
    [best] = again["suggestions"]
    assert (best["document_id"], best["amount_due"], best["score"]) == (inv["id"], total, 100)
    # And it can be reconciled again.
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": inv["id"], "amount": total}]})
    assert r.status_code == 200, r.text
    assert await books.balance("1410") == "0.00"


async def test_a_118_invoice_paid_from_the_bank_and_unreconciled(h: Harness) -> None:
    """An invoice of 1 × 100.00 + VAT 18% = 118.00 paid 118.00 by a bank line on 10 March
    (Dr 1210 118.00 / Cr 1410 118.00), then unreconciled: the payment's reversal posts
    Dr 1410 118.00 / Cr 1210 118.00; the invoice is posted with 118.00 due again, 1410 is
    back at 118.00, and the line is unreconciled."""
    books = await h.books()
    r = await h.client.post(books.url("/counterparties"), headers=books.clerk, json={
        "name": "Kolkheti Foods LLC", "tax_id": "204567890", "iban": CUSTOMER_IBAN})
    customer = r.json()["id"]
    r = await h.client.post(books.url("/sales-invoices"), headers=books.clerk, json={
        "customer_id": customer, "date": "2026-03-02", "due_date": "2026-03-31",
        "lines": [{"description": "Flour", "quantity": "1", "unit_price": "100.00",
                   "vat_code": "vat18"}]})
    r = await h.client.post(books.url(f"/sales-invoices/{r.json()['id']}/post"),
                            headers=books.clerk)
    inv = r.json()
    assert inv["total"] == "118.00"
    statement = camt053([Entry("118.00", date(2026, 3, 10), f"Payment {inv['number']}",
                               "K-1", "", "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890")])
    r = await h.client.post(books.url("/bank-statements"), params={"account_code": "1210"},
                            files={"file": ("m.xml", statement, "application/xml")},
                            headers=books.clerk)
    assert r.status_code == 201, r.text
    [line] = await lines(books)
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                            headers=books.clerk, json={
                                "allocations": [{"document_id": inv["id"], "amount": "118.00"}]})
    assert r.status_code == 200, r.text
    assert await books.balance("1410") == "0.00"
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/unreconcile"),
                            headers=books.clerk)
    assert r.status_code == 200, r.text
    reversal = await books.get(r.json()["reversal_transaction_id"])
    assert sorted((ln["account_code"], ln["debit"], ln["credit"])
                  for ln in reversal["entries"]) == [("1210", "0.00", "118.00"),
                                                   ("1410", "118.00", "0.00")]
    r = await h.client.get(books.url(f"/sales-invoices/{inv['id']}"), headers=books.clerk)
    assert (r.json()["status"], r.json()["amount_due"]) == ("posted", "118.00")
    assert await books.balance("1410") == "118.00"
    assert [ln["id"] for ln in await lines(books)] == [line["id"]]
    # Unreconciling twice: the line is open.
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/unreconcile"),
                            headers=books.clerk)
    expect_problem(r, 409, "not_reconciled")

    # Reconciled again, the payment then reversed in billing (dated 11 March):
    # unreconciling only opens the line, nothing more is reversed.
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                            headers=books.clerk, json={
                                "allocations": [{"document_id": inv["id"], "amount": "118.00"}]})
    assert r.status_code == 200, r.text
    r = await h.client.post(books.url(f"/payments/{r.json()['payment_id']}/reverse"),
                            headers=books.clerk, json={"reason": "Bounced",
                                                       "date": "2026-03-11"})
    assert r.status_code == 200, r.text
    assert await books.balance("1410") == "118.00"
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/unreconcile"),
                            headers=books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["reversal_transaction_id"] is None
    assert await books.balance("1410") == "118.00"
    assert await books.balance("1210") == "0.00"
    assert [ln["id"] for ln in await lines(books)] == [line["id"]]


async def test_unreconciling_into_a_closed_month_is_refused(h: Harness) -> None:
    """The invoice (1,180.00 or 1,000.00) paid by a line on 10 March, March then closed:
    unreconciling would reverse the payment on 10 March, so it is 422 period_closed and the
    line stays reconciled; reopened, it works."""
    books = await h.books()
    inv = await invoice(books)
    statement = camt053([Entry(inv["total"], date(2026, 3, 10), f"Payment {inv['number']}",
                               "K-1", "", "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890")])
    r = await h.client.post(books.url("/bank-statements"), params={"account_code": "1210"},
                            files={"file": ("m.xml", statement, "application/xml")},
                            headers=books.clerk)
    assert r.status_code == 201, r.text
    [line] = await lines(books)
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                            headers=books.clerk, json={
                                "allocations": [{"document_id": inv["id"],
                                                 "amount": inv["total"]}]})
    assert r.status_code == 200, r.text
    r = await h.client.post(books.url("/fiscal-periods/2026-03/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    url = books.url(f"/bank-statements/lines/{line['id']}/unreconcile")
    expect_problem(await h.client.post(url, headers=books.clerk), 422, "period_closed")
    assert await lines(books) == []
    r = await h.client.post(books.url("/fiscal-periods/2026-03/reopen"), headers=books.chief)
    assert r.status_code == 200, r.text
    r = await h.client.post(url, headers=books.clerk)
    assert r.status_code == 200, r.text
    assert await books.balance("1410") == inv["total"]


async def test_a_posted_payroll_run_is_suggested_for_the_salary_transfer(h: Harness) -> None:
    """One employee, gross 1,000.00: pension 2% = 20.00, income tax 20% of 980.00 =
    196.00, net 784.00, paid on 5 April. The bank's 784.00 out on 5 April is suggested the
    run (amount 20 + date 5 = 25) and is reconciled to 3130 salaries payable."""
    books = await h.books()
    r = await h.client.post(books.url("/employees"), headers=books.clerk, json={
        "personal_number": "01001011234", "full_name": "Nino Beridze",
        "gross_salary": "1000.00", "start_date": "2025-01-01"})
    assert r.status_code == 201, r.text
    r = await h.client.post(books.url("/payroll-runs"), headers=books.clerk, json={
        "period": "2026-03", "payment_date": "2026-04-05"})
    assert r.status_code == 201, r.text
    assert r.json()["totals"]["net"] == "784.00"
    r = await h.client.post(books.url(f"/payroll-runs/{r.json()['id']}/post"),
                            headers=books.clerk)
    assert r.status_code == 200, r.text
    statement = camt053([Entry("-784.00", date(2026, 4, 5), "Salaries March", "S-1")])
    r = await h.client.post(books.url("/bank-statements"), params={"account_code": "1210"},
                            files={"file": ("a.xml", statement, "application/xml")},
                            headers=books.clerk)
    assert r.status_code == 201, r.text
    [line] = await lines(books)
    assert [(s["kind"], s["number"], s["amount_due"], s["score"])
            for s in line["suggestions"]] == [
        ("payroll_run", "PAYROLL-2026-03", "784.00", 25)]
    r = await h.client.post(books.url(f"/bank-statements/lines/{line['id']}/reconcile"),
                            json={"account_code": "3130"}, headers=books.clerk)
    assert r.status_code == 200, r.text
    assert await books.balance("3130") == "0.00"  # 784.00 payable, 784.00 paid
