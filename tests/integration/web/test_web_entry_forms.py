"""The web application's other entry screens over real HTTP (the app in-process, the
embedded PostgreSQL): a purchase bill drafted and posted from the documents screen, a
credit note against a posted invoice, a payroll run entered per employee with payroll's
computed pension and income tax shown before it is posted, and one bank line split over
two invoices with the remainder never dropped silently. Errors stand at their fields in
the chosen language with everything typed kept; every form needs its CSRF token."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from ledger_harness import Harness
from test_web import (
    INLINE_SCRIPT,
    browser,
    csrf_of,
    error_at,
    invalid,
    plant,
    sign_in,
)

pytestmark = pytest.mark.integration


def bill_form(csrf: str, supplier: str, **cells: str) -> dict[str, str]:
    form = {"csrf_token": csrf, "line_count": "3", "side": "purchases",
            "counterparty_id": supplier, "date": "2026-03-10", "due_date": "",
            "supplier_reference": "", "reference": "", "action": "save"}
    for i in range(3):
        for cell in ("description", "quantity", "unit_price", "account_code"):
            form[f"lines-{i}-{cell}"] = ""
        form[f"lines-{i}-vat_code"] = "vat18"
    form.update(cells)
    return form


async def test_a_purchase_bill_is_entered_with_its_accounts_and_posted(h: Harness):
    from billing_harness import Billing

    books = await h.books()
    billing = Billing(books)
    supplier = await billing.counterparty("შპს ოფისი", "204777777")
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    listing = await h.client.get(f"{base}/documents?side=purchases")
    assert f'href="{base}/documents/new?side=purchases"' in listing.text
    page = await h.client.get(f"{base}/documents/new?side=purchases")
    assert page.status_code == 200
    assert "New purchase bill" in page.text
    assert '<option value="7420">' in page.text  # the accounts, found by code or name
    assert 'value="reverse_charge18"' in page.text  # purchases' own VAT codes
    assert not INLINE_SCRIPT.search(page.text)
    csrf = csrf_of(page.text)

    # No account on the line: the sentence stands at that row's account, typed kept.
    typed = {"lines-1-description": "Paper <i>A4</i>", "lines-1-quantity": "2",
             "lines-1-unit_price": "50,00", "supplier_reference": "F-100"}
    r = await h.client.post(f"{base}/documents/new", data=bill_form(csrf, supplier, **typed))
    assert r.status_code == 422, r.text
    assert error_at(r.text, "lines-1-account_code").startswith(
        "Write the account this line is booked to")
    assert invalid(r.text, "l1-account_code")
    assert 'value="Paper &lt;i&gt;A4&lt;/i&gt;"' in r.text
    assert 'value="F-100"' in r.text
    # An account that is not in the chart, and a header, refused before anything is saved.
    r = await h.client.post(f"{base}/documents/new", data=bill_form(
        csrf, supplier, **typed, **{"lines-1-account_code": "9999"}))
    assert r.status_code == 422
    assert error_at(r.text, "lines-1-account_code") == \
        "There is no account 9999 in the chart."
    assert 'value="9999"' in r.text
    r = await h.client.post(f"{base}/documents/new", data=bill_form(
        csrf, supplier, **typed, **{"lines-1-account_code": "7400"}))
    assert r.status_code == 422
    assert "is a header" in error_at(r.text, "lines-1-account_code")
    # No supplier, in Georgian.
    plant(h.client, "saldo_lang", "ka")
    r = await h.client.post(f"{base}/documents/new", data=bill_form(
        csrf, "", **typed, **{"lines-1-account_code": "7420"}))
    assert r.status_code == 422
    assert error_at(r.text, "counterparty_id") == "აირჩიეთ მომწოდებელი."
    assert (await billing.call("GET", "/purchase-bills"))["items"] == []
    # Without the token nothing is saved.
    r = await h.client.post(f"{base}/documents/new", data={
        k: v for k, v in bill_form("", supplier, **typed).items() if k != "csrf_token"})
    assert r.status_code == 403

    # 2 × 50,00 at vat18 to 7420: net 100,00 + VAT 18,00 = 118,00.
    r = await h.client.post(f"{base}/documents/new", data=bill_form(
        csrf, supplier, **typed, **{"lines-1-account_code": "7420"}))
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    bill_id = location.rsplit("/", 1)[1]
    page = await h.client.get(location)
    assert 'id="doc-total">118,00<' in page.text
    assert 'id="doc-vat">18,00<' in page.text
    assert f'href="{base}/accounts/7420"' in page.text
    assert "F-100" in page.text
    assert (await billing.bill_doc(bill_id))["status"] == "draft"
    # The same supplier's number again is refused at that field.
    r = await h.client.post(f"{base}/documents/new", data=bill_form(
        csrf, supplier, **typed, **{"lines-1-account_code": "7420"}))
    assert r.status_code == 409
    assert "F-100" in error_at(r.text, "supplier_reference")

    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    posted = await billing.bill_doc(bill_id)
    assert posted["status"] == "posted"
    page = await h.client.get(location)
    assert f"/journal/{posted['transaction_id']}" in page.text
    assert 'id="doc-due">118,00 GEL<' in page.text
    listing = await h.client.get(f"{base}/documents?side=purchases")
    assert f'href="{base}/documents/{bill_id}"' in listing.text


async def test_a_credit_note_is_made_against_a_posted_invoice(h: Harness):
    from billing_harness import Billing, line

    books = await h.books()
    billing = Billing(books)
    customer = await billing.counterparty("შპს დელტა", "204666666")
    # 10 × 100.00 at vat18: 1,000.00 + 180.00 = 1,180.00.
    invoice = await billing.invoice(customer, "2026-03-02", [line("10", "100.00")])
    draft = await billing.invoice(customer, "2026-03-03", [line("1", "10.00")], post=False)
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    location = f"{base}/documents/{invoice['id']}"
    page = await h.client.get(location)
    assert f'href="{location}/credit-note"' in page.text
    # The printable invoice, as the API's, from the page.
    assert f'href="{location}/pdf"' in page.text
    pdf = await h.client.get(f"{location}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert invoice["number"] in pdf.headers["content-disposition"]
    form_page = await h.client.get(f"{location}/credit-note")
    assert form_page.status_code == 200
    assert f"Credit note against {invoice['number']}" in form_page.text
    # The invoice's line is offered as it was.
    assert 'name="lines-0-quantity" inputmode="decimal" size="8" value="10"' in form_page.text
    assert 'value="100"' in form_page.text
    assert 'id="creditable">1,180.00 GEL<' in form_page.text
    csrf = csrf_of(form_page.text)

    def note(**cells: str) -> dict[str, str]:
        body = {"csrf_token": csrf, "line_count": "1", "date": "2026-03-20",
                "reference": "Returned goods", "lines-0-description": "Returned",
                "lines-0-quantity": "2", "lines-0-unit_price": "100.00",
                "lines-0-vat_code": "vat18", "action": "save"}
        body.update(cells)
        return body

    # More than the invoice: 20 × 100.00 + VAT = 2,360.00 > 1,180.00.
    r = await h.client.post(f"{location}/credit-note", data=note(**{
        "lines-0-quantity": "20", "reference": "<script>x</script>"}))
    assert not INLINE_SCRIPT.search(r.text)
    assert 'value="&lt;script&gt;x&lt;/script&gt;"' in r.text
    r = await h.client.post(f"{location}/credit-note", data=note(**{"lines-0-quantity": "20"}))
    assert r.status_code == 422, r.text
    assert "is more than the 1180.00 that remains" in r.text
    assert 'value="20"' in r.text
    assert 'value="Returned goods"' in r.text
    # Dated before the invoice: at the date, in Georgian.
    plant(h.client, "saldo_lang", "ka")
    r = await h.client.post(f"{location}/credit-note", data=note(date="2026-03-01"))
    assert r.status_code == 422
    assert error_at(r.text, "date") == "კრედიტ-ნოტა დოკუმენტზე ადრე ვერ დათარიღდება."
    assert invalid(r.text, "i-date")
    plant(h.client, "saldo_lang", "en")
    # A draft cannot be credited; the token is needed.
    r = await h.client.get(f"{base}/documents/{draft['id']}/credit-note")
    assert r.status_code == 409
    r = await h.client.post(f"{location}/credit-note", data={
        k: v for k, v in note().items() if k != "csrf_token"})
    assert r.status_code == 403

    # 2 × 100.00 at vat18 = 236.00: posted at once, the invoice's due falls to 944.00.
    r = await h.client.post(f"{location}/credit-note", data=note())
    assert r.status_code == 303, r.text
    note_page = await h.client.get(r.headers["location"])
    assert 'id="doc-total">236.00<' in note_page.text
    assert f'href="{location}"' in note_page.text  # "Corrects" the invoice
    page = await h.client.get(location)
    assert 'id="doc-due">944.00 GEL<' in page.text
    assert r.headers["location"].rsplit("/", 1)[1] in page.text  # the note is listed
    doc: dict[str, Any] = await billing.invoice_doc(invoice["id"])
    assert doc["amount_due"] == "944.00"


async def hire(h: Harness, books: Any, number: str, name: str, gross: str) -> str:
    r = await h.client.post(books.url("/employees"), headers=books.clerk, json={
        "personal_number": number, "full_name": name, "gross_salary": gross,
        "start_date": "2026-01-01"})
    assert r.status_code == 201, r.text
    employee_id: str = r.json()["id"]
    return employee_id


async def test_a_payroll_run_is_entered_computed_and_posted(h: Harness):
    books = await h.books()
    await hire(h, books, "01001011111", "ნინო ბერიძე", "1000.00")
    await hire(h, books, "01001022222", "Giorgi Kapanadze", "2500.00")
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    listing = await h.client.get(f"{base}/payroll")
    assert f'href="{base}/payroll/new"' in listing.text
    # the staff, once (a merge had doubled the table and its landmark)
    assert listing.text.count("<td>Giorgi Kapanadze</td><td>01001022222</td>") == 1
    page = await h.client.get(f"{base}/payroll/new?period=2026-03")
    assert page.status_code == 200
    assert not INLINE_SCRIPT.search(page.text)
    # Each employee of the month offered with the salary in effect.
    assert 'value="01001011111"' in page.text
    assert 'value="1000.00"' in page.text
    assert 'value="2026-03-31"' in page.text
    csrf = csrf_of(page.text)

    def run(**cells: str) -> dict[str, str]:
        body = {"csrf_token": csrf, "line_count": "3", "period": "2026-03",
                "payment_date": "2026-03-31", "lines-0-employee": "01001011111",
                "lines-0-gross": "1 000,00", "lines-1-employee": "giorgi",
                "lines-1-gross": "2500", "lines-2-employee": "", "lines-2-gross": "",
                "action": "save"}
        body.update(cells)
        return body

    # Someone who is not an employee; a gross that is not an amount: at their rows.
    r = await h.client.post(f"{base}/payroll/new", data=run(**{"lines-2-employee": "Levan",
                                                               "lines-2-gross": "100"}))
    assert r.status_code == 422
    assert error_at(r.text, "lines-2-employee").startswith("Choose an employee")
    probe = await h.client.post(f"{base}/payroll/new", data=run(**{
        "lines-2-employee": "<script>alert(1)</script>", "lines-2-gross": "1"}))
    assert probe.status_code == 422
    assert not INLINE_SCRIPT.search(probe.text)
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in probe.text
    assert 'value="Levan"' in r.text
    assert 'value="1 000,00"' in r.text
    r = await h.client.post(f"{base}/payroll/new", data=run(**{"lines-1-gross": "-5"}))
    assert r.status_code == 422
    assert invalid(r.text, "l1-gross")
    r = await h.client.post(f"{base}/payroll/new", data=run(period="2026-13"))
    assert r.status_code == 422
    assert invalid(r.text, "r-period")
    r = await h.client.post(f"{base}/payroll/new", data={
        k: v for k, v in run().items() if k != "csrf_token"})
    assert r.status_code == 403

    r = await h.client.post(f"{base}/payroll/new", data=run())
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    page = await h.client.get(location)
    # 1,000.00: pension 2% 20.00, income tax 20% of 980.00 = 196.00, net 784.00;
    # 2,500.00: 50.00, 490.00, 1,960.00. Employer's pension 2% on top: 20.00 + 50.00.
    assert 'id="run-gross">3,500.00<' in page.text
    assert 'id="run-pension">70.00<' in page.text
    assert 'id="run-income-tax">686.00<' in page.text
    assert 'id="run-net">2,744.00<' in page.text
    assert 'id="run-pension-employer">70.00<' in page.text
    assert "784.00" in page.text
    assert "1,960.00" in page.text
    assert 'id="run-status">draft<' in page.text
    # The month has its run: a second one is refused at the period.
    r = await h.client.post(f"{base}/payroll/new", data=run())
    assert r.status_code == 409
    assert "already" in error_at(r.text, "period")

    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    page = await h.client.get(location)
    assert "/journal/" in page.text
    assert f'action="{location}/post"' not in page.text
    runs = (await h.client.get(books.url("/payroll-runs"), headers=books.clerk)).json()
    items = runs["items"] if isinstance(runs, dict) else runs
    assert [x["status"] for x in items] == ["posted"]
    # An auditor reads the run but may not enter, post or discard one (403).
    await h.user("reader")
    await h.member(books.chief, books.company_id, "reader", "auditor")
    auditor = browser(h)
    await sign_in(auditor, "reader")
    seen = await auditor.get(location)
    assert seen.status_code == 200
    assert 'id="run-net">' in seen.text
    listing = await auditor.get(f"{base}/payroll")
    assert f'href="{base}/payroll/new"' not in listing.text
    assert (await auditor.get(f"{base}/payroll/new")).status_code == 403
    r = await auditor.post(f"{location}/discard", data={"csrf_token": csrf_of(seen.text)})
    assert r.status_code == 403
    await auditor.aclose()


async def test_a_posted_payroll_run_is_paid_and_its_payslips_and_salary_file_downloaded(
        h: Harness):
    books = await h.books()
    await hire(h, books, "01001011111", "ნინო ბერიძე", "1000.00")
    await hire(h, books, "01001022222", "Giorgi Kapanadze", "2500.00")
    runs = {}
    for period, day in (("2026-03", "2026-03-31"), ("2026-04", "2026-04-30")):
        r = await h.client.post(books.url("/payroll-runs"), headers=books.clerk,
                                json={"period": period, "payment_date": day})
        assert r.status_code == 201, r.text
        runs[period] = r.json()["id"]
        r = await h.client.post(books.url(f"/payroll-runs/{runs[period]}/post"),
                                headers=books.clerk)
        assert r.status_code == 200, r.text
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    march = f"{base}/payroll/{runs['2026-03']}"
    page = await h.client.get(march)
    assert f'action="{march}/pay"' in page.text
    assert '<option value="1210" selected>' in page.text  # cash and bank accounts only
    assert '<option value="6110"' not in page.text
    csrf = csrf_of(page.text)
    # The salary file and the payslips, once the run is posted.
    csv_file = await h.client.get(f"{march}/salaries.csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "salaries-2026-03.csv" in csv_file.headers["content-disposition"]
    rows = csv_file.text.splitlines()
    assert len(rows) == 3  # a header and one transfer each
    assert any("784.00" in row for row in rows)
    assert any("1960.00" in row for row in rows)
    employees = re.findall(rf'href="{re.escape(march)}/payslips/([0-9a-f-]+)"', page.text)
    assert len(employees) == 2
    slip = await h.client.get(f"{march}/payslips/{employees[0]}")
    assert slip.status_code == 200
    assert slip.content.startswith(b"%PDF")
    assert "-en.pdf" in slip.headers["content-disposition"]

    # A date that is not one keeps the run posted, with the error on the page.
    r = await h.client.post(f"{march}/pay", data={"csrf_token": csrf, "date": "31.03",
                                                  "bank_account_code": "1210"})
    assert r.status_code == 422
    assert '>posted</a></dd>' in r.text
    r = await h.client.post(f"{march}/pay", data={"date": "2026-03-31",
                                                  "bank_account_code": "1210"})
    assert r.status_code == 403  # no CSRF token
    r = await h.client.post(f"{march}/pay", data={"csrf_token": csrf, "date": "2026-03-31",
                                                  "bank_account_code": "1210"})
    assert r.status_code == 303, r.text
    page = await h.client.get(march)
    assert 'id="run-status"' in page.text
    assert ">paid<" in page.text
    assert f'action="{march}/pay"' not in page.text
    # Net 784.00 + 1,960.00, income tax 196.00 + 490.00, pensions 2 × (20.00 + 50.00):
    # 3,570.00 leaves the bank.
    r = await h.client.get(books.url("/accounts/1210/balance?as_of=2026-03-31"),
                           headers=books.clerk)
    assert r.status_code == 200
    assert r.json()["balance"] == "-3570.00"
    r = await h.client.post(f"{march}/pay", data={"csrf_token": csrf, "date": "2026-03-31",
                                                  "bank_account_code": "1210"})
    assert r.status_code == 409
    assert 'role="alert"' in r.text

    # April's run is reversed before it is paid; a reason is needed.
    april = f"{base}/payroll/{runs['2026-04']}"
    page = await h.client.get(april)
    assert f'action="{april}/reverse"' in page.text
    r = await h.client.post(f"{april}/reverse", data={"csrf_token": csrf, "reason": " "})
    assert r.status_code == 422
    assert '>posted</a></dd>' in r.text
    r = await h.client.post(f"{april}/reverse", data={"csrf_token": csrf,
                                                      "reason": "Entered twice"})
    assert r.status_code == 303, r.text
    page = await h.client.get(april)
    assert ">reversed<" in page.text
    assert f'action="{april}/pay"' not in page.text


async def test_a_bank_line_is_split_over_two_invoices_and_the_rest_kept_as_advance(
        h: Harness):
    from bank_files import Entry, camt053
    from billing_harness import Billing, line

    from saldo.identity.service import Permission

    books = await h.books()
    billing = Billing(books)
    customer = await billing.counterparty("შპს ეფსილონი", "204555555")
    # 5 × 100.00 + 18% = 590.00 and 10 × 100.00 + 18% = 1,180.00; the customer pays 2,000.00.
    first = await billing.invoice(customer, "2026-03-02", [line("5", "100.00")])
    second = await billing.invoice(customer, "2026-03-03", [line("10", "100.00")])
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.BANK_WRITE)
    statement = camt053([Entry("2000.00", date(2026, 3, 6), "Payment for March", "S-1",
                               name="შპს ეფსილონი", tax_id="204555555")])
    await h.container.services["banking"].import_statement(ctx, statement,
                                                           account_code="1210")
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    bank = await h.client.get(f"{base}/bank")
    split_url = re.search(rf'href="({base}/bank/[0-9a-f-]+/split)"', bank.text)
    assert split_url, bank.text
    url = split_url.group(1)
    page = await h.client.get(url)
    assert page.status_code == 200
    assert not INLINE_SCRIPT.search(page.text)
    assert first["number"] in page.text
    assert second["number"] in page.text
    assert 'id="split-size">2,000.00<' in page.text
    csrf = csrf_of(page.text)
    a, b = f"allocate-{first['id']}", f"allocate-{second['id']}"

    # Both invoices in full leave 230.00: refused until it is kept as an advance.
    r = await h.client.post(url, data={"csrf_token": csrf, a: "590,00", b: "1 180,00",
                                       "action": "save"})
    assert r.status_code == 422, r.text
    assert error_at(r.text, "remainder") == ("230.00 of the line is not allocated: allocate "
                                             "it, or keep it as the counterparty&#39;s advance.")
    assert 'id="split-remainder" class="unbalanced">230.00<' in r.text
    assert 'value="1 180,00"' in r.text
    # "Recalculate" shows the figures of what was typed, saving nothing.
    r = await h.client.post(url, data={"csrf_token": csrf, a: "590", b: "1410",
                                       "action": "recalculate"})
    assert r.status_code == 200
    assert 'id="split-remainder" class="balanced">0.00<' in r.text
    # More than an invoice's due: banking refuses it, at that invoice's field.
    r = await h.client.post(url, data={"csrf_token": csrf, a: "590", b: "1410",
                                       "action": "save"})
    assert r.status_code == 422
    assert invalid(r.text, f"a-{second['id']}")
    # More than the line, nothing allocated, not an amount: each refused.
    r = await h.client.post(url, data={"csrf_token": csrf, a: "1590", b: "1180",
                                       "action": "save"})
    assert r.status_code == 422
    assert invalid(r.text, "advance")
    r = await h.client.post(url, data={"csrf_token": csrf, "action": "save"})
    assert r.status_code == 422
    assert "Allocate the line to at least one document." in r.text
    r = await h.client.post(url, data={"csrf_token": csrf, a: "5x", "action": "save"})
    assert r.status_code == 422
    assert invalid(r.text, f"a-{first['id']}")
    r = await h.client.post(url, data={a: "590", b: "1180", "advance": "yes",
                                       "action": "save"})
    assert r.status_code == 403

    r = await h.client.post(url, data={"csrf_token": csrf, a: "590", b: "1180",
                                       "advance": "yes", "action": "save"})
    assert r.status_code == 303, r.text
    for invoice in (first, second):
        assert (await billing.invoice_doc(invoice["id"]))["status"] == "paid"
    bank = await h.client.get(f"{base}/bank")
    assert "/split" not in bank.text
    # One payment of 2,000.00 settles both; its 230.00 stays as the customer's advance.
    payments = await h.client.get(f"{base}/payments")
    assert payments.status_code == 200
    assert f'href="{base}/documents/{first["id"]}">{first["number"]}</a> 590.00' in \
        payments.text
    assert f'{second["number"]}</a> 1,180.00' in payments.text
    assert '<td class="num">230.00</td>' in payments.text
    assert "2,000.00 GEL" in payments.text
    # The line is reconciled: its page offers nothing to submit any more.
    page = await h.client.get(url)
    assert 'name="action"' not in page.text


async def test_the_new_screens_follow_the_role_and_the_membership(h: Harness):
    """Every new page as the API's rules: a reader (auditor) may read but gets 403 on each
    form and action; someone of another company gets 404 for all of it."""
    from billing_harness import Billing, line

    books = await h.books()
    billing = Billing(books)
    customer = await billing.counterparty("შპს ზეტა", "204444444")
    invoice = await billing.invoice(customer, "2026-03-02", [line("1", "100.00")])
    await h.user("reader")
    await h.member(books.chief, books.company_id, "reader", "auditor")
    await h.other_books("b")
    base = f"/c/{books.company_id}"
    reads = [f"{base}/payments", f"{base}/payroll", f"{base}/documents/{invoice['id']}",
             f"{base}/documents?side=purchases", f"{base}/documents/{invoice['id']}/pdf"]
    forms = [f"{base}/documents/new?side=purchases",
             f"{base}/documents/{invoice['id']}/credit-note", f"{base}/payroll/new",
             f"{base}/bank/{invoice['id']}/split"]
    posts = [f"{base}/documents/new", f"{base}/documents/{invoice['id']}/credit-note",
             f"{base}/payroll/new", f"{base}/payroll/{invoice['id']}/post",
             f"{base}/bank/{invoice['id']}/split"]
    auditor = browser(h)
    await sign_in(auditor, "reader")
    page = await auditor.get(reads[0])
    token = csrf_of(page.text)
    for url in reads:
        assert (await auditor.get(url)).status_code == 200, url
    for url in forms:
        assert (await auditor.get(url)).status_code == 403, url
    for url in posts:
        r = await auditor.post(url, data={"csrf_token": token, "action": "save"})
        assert r.status_code == 403, url
    await auditor.aclose()
    stranger = browser(h)
    await sign_in(stranger, "b-clerk")
    page = await stranger.get("/companies")
    token = csrf_of(page.text)
    for url in reads + forms:
        assert (await stranger.get(url)).status_code == 404, url
    for url in posts:
        r = await stranger.post(url, data={"csrf_token": token, "action": "save"})
        assert r.status_code == 404, url
    await stranger.aclose()
    # The clerk may: a bank line that does not exist is 404, not a 500.
    await sign_in(h.client, "clerk")
    assert (await h.client.get(f"{base}/bank/{invoice['id']}/split")).status_code == 404


async def test_a_bill_that_needs_approval_is_approved_by_another_person_then_posted(
        h: Harness):
    from billing_harness import Billing, line

    books = await h.books()
    await Billing(books, by="chief").call("PUT", "/billing-settings",
                                          json={"require_approval": True})
    billing = Billing(books)
    supplier = await billing.counterparty("შპს ომეგა", "204333333")
    # 3 × 10.00 at vat18 to 7420: 30.00 + 5.40 = 35.40.
    bill = await billing.bill(supplier, "2026-03-10", [line("3", "10.00", account="7420")],
                              post=False)
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    location = f"/c/{books.company_id}/documents/{bill['id']}"
    page = await h.client.get(location)
    assert 'id="doc-total">35.40<' in page.text
    assert f'action="{location}/approve"' not in page.text  # not by its author
    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 409
    assert "Another person must approve this document before it is posted." in r.text
    chief = browser(h)
    await sign_in(chief, "chief")
    seen = await chief.get(location)
    assert f'action="{location}/approve"' in seen.text
    r = await chief.post(f"{location}/approve", data={"csrf_token": csrf_of(seen.text)})
    assert r.status_code == 303
    await chief.aclose()
    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert (await billing.bill_doc(bill["id"]))["status"] == "posted"


async def test_tax_is_withheld_from_a_persons_purchase_bill_on_its_page(h: Harness):
    from billing_harness import Billing, line

    books = await h.books()
    billing = Billing(books)
    person = await billing.counterparty("Dato Maisuradze", "01001011299")
    company = await billing.counterparty("შპს ოფისი", "204777777")
    # A resident individual's design work, 1,500.00 out of VAT scope: 20% = 300.00 is
    # withheld, 1,200.00 left to pay him.
    bill = await billing.bill(person, "2026-08-10",
                              [line("1", "1500.00", "out_of_scope", "7490", "Design")])
    other = await billing.bill(company, "2026-08-10", [line("1", "100.00", "vat18", "7420")])
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    # A company's bill offers no withholding; a person's does.
    page = await h.client.get(f"{base}/documents/{other['id']}")
    assert "withholding-form" not in page.text
    url = f"{base}/documents/{bill['id']}"
    page = await h.client.get(url)
    assert 'id="withholding-form"' in page.text
    assert '<option value="services_individual">Services of an individual (20%)' in page.text
    csrf = csrf_of(page.text)
    r = await h.client.post(f"{url}/withholding", data={"code": "services_individual",
                                                        "date": "2026-08-10"})
    assert r.status_code == 403  # no CSRF token
    for code, day in (("gift", "2026-08-10"), ("services_individual", "10.08.2026")):
        r = await h.client.post(f"{url}/withholding", data={"csrf_token": csrf, "code": code,
                                                            "date": day})
        assert r.status_code == 422
        assert 'id="document-error"' in r.text  # on the bill's own page
        assert 'id="withholding-form"' in r.text
    r = await h.client.post(f"{url}/withholding", data={
        "csrf_token": csrf, "code": "services_individual", "date": "2026-08-10"})
    assert r.status_code == 303, r.text
    page = await h.client.get(url)
    assert 'id="doc-due">1,200.00 GEL<' in page.text
    assert "Tax withheld at source: 300.00" in page.text
    assert 'id="withholding-form"' not in page.text
    assert await books.balance("3322", "2026-08-31") == "-300.00"
    # Payables: the person's 1,200.00 and the company's 100.00 + 18% VAT.
    assert await books.balance("3110", "2026-08-31") == "-1318.00"
    r = await h.client.post(f"{url}/withholding", data={
        "csrf_token": csrf, "code": "services_individual", "date": "2026-08-10"})
    assert r.status_code == 409  # once per bill


async def test_a_suppliers_debit_note_adds_to_a_posted_bill(h: Harness):
    from billing_harness import Billing, line

    books = await h.books()
    billing = Billing(books)
    supplier = await billing.counterparty("შპს ოფისი", "204777777")
    customer = await billing.counterparty("შპს დელტა", "204666666")
    # 2 × 50.00 at vat18 to 7420: 100.00 + 18.00 = 118.00.
    bill = await billing.bill(supplier, "2026-03-10", [line("2", "50.00", "vat18", "7420")])
    invoice = await billing.invoice(customer, "2026-03-02", [line("1", "10.00")])
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    url = f"{base}/documents/{bill['id']}"
    page = await h.client.get(url)
    assert f'href="{url}/debit-note"' in page.text
    # An invoice has credit notes only.
    invoice_page = await h.client.get(f"{base}/documents/{invoice['id']}")
    assert "/debit-note" not in invoice_page.text
    r = await h.client.get(f"{base}/documents/{invoice['id']}/debit-note")
    assert r.status_code == 404
    form_page = await h.client.get(f"{url}/debit-note")
    assert form_page.status_code == 200
    assert "Supplier&#39;s debit note on" in form_page.text
    assert 'id="note-due">118.00 GEL<' in form_page.text
    assert 'value="7420"' in form_page.text  # the bill's account offered
    csrf = csrf_of(form_page.text)

    def note(**cells: str) -> dict[str, str]:
        body = {"csrf_token": csrf, "line_count": "1", "date": "2026-03-20",
                "reference": "DN-7", "lines-0-description": "Delivery",
                "lines-0-quantity": "1", "lines-0-unit_price": "25,00",
                "lines-0-vat_code": "vat18", "lines-0-account_code": "7420",
                "action": "save"}
        body.update(cells)
        return body

    # No account on the line: refused at its field, what was typed kept.
    r = await h.client.post(f"{url}/debit-note", data=note(**{"lines-0-account_code": ""}))
    assert r.status_code == 422
    assert error_at(r.text, "lines-0-account_code").startswith("Write the account")
    assert 'value="Delivery"' in r.text
    r = await h.client.post(f"{url}/debit-note", data={
        k: v for k, v in note().items() if k != "csrf_token"})
    assert r.status_code == 403
    # 25.00 + 18% = 29.50 more to pay; the payables grow to 147.50.
    r = await h.client.post(f"{url}/debit-note", data=note())
    assert r.status_code == 303, r.text
    page = await h.client.get(r.headers["location"])
    assert 'id="doc-total">29.50<' in page.text
    assert f'href="{url}"' in page.text  # the bill it corrects
    assert await books.balance("3110", "2026-03-31") == "-147.50"
    page = await h.client.get(url)
    assert 'id="doc-notes"' in page.text
