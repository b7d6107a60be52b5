"""The web application's entry screens over real HTTP: a sales invoice drafted from the
documents screen through billing's use case (its errors at their fields in the chosen
language, nothing typed lost) and posted; a bank statement line reconciled from the bank
screen to a suggested document or to an account, one form each."""

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
    invalid,
    plant,
    sign_in,
)

pytestmark = pytest.mark.integration


def invoice_form(csrf: str, customer: str, **cells: str) -> dict[str, str]:
    form = {"csrf_token": csrf, "line_count": "3", "counterparty_id": customer,
            "date": "2026-03-10", "due_date": "2026-03-25", "reference": "", "action": "save"}
    for i in range(3):
        for cell in ("description", "quantity", "unit_price"):
            form[f"lines-{i}-{cell}"] = ""
        form[f"lines-{i}-vat_code"] = "vat18"
    form.update(cells)
    return form


async def test_a_sales_invoice_is_drafted_from_the_documents_screen_and_posted(h: Harness):
    from billing_harness import Billing

    books = await h.books()
    billing = Billing(books)
    customer = await billing.counterparty("შპს ბეტა", "204888888")
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "ka")
    base = f"/c/{books.company_id}"
    listing = await h.client.get(f"{base}/documents")
    assert f'href="{base}/documents/new"' in listing.text
    page = await h.client.get(f"{base}/documents/new")
    assert page.status_code == 200
    assert "შპს ბეტა" in page.text
    assert not INLINE_SCRIPT.search(page.text)
    csrf = csrf_of(page.text)

    # No customer: the sentence is Georgian and stands at the customer field.
    r = await h.client.post(f"{base}/documents/new", data=invoice_form(
        csrf, "", **{"lines-0-description": "კონსულტაცია", "lines-0-quantity": "2",
                     "lines-0-unit_price": "50,00"}))
    assert r.status_code == 422
    assert "აირჩიეთ მყიდველი." in r.text
    assert invalid(r.text, "i-customer")
    assert 'value="კონსულტაცია"' in r.text
    assert 'value="50,00"' in r.text

    # The first row left blank, the second's quantity zero: billing's lines[0] is the
    # form's second row, and the error is shown there with everything typed kept.
    r = await h.client.post(f"{base}/documents/new", data=invoice_form(
        csrf, customer, **{"lines-1-description": "კონსულტაცია", "lines-1-quantity": "0",
                           "lines-1-unit_price": "50,00", "reference": "PO-7"}))
    assert r.status_code == 422
    assert "ჩაწერეთ დადებითი რიცხვი" in r.text
    assert invalid(r.text, "l1-quantity")
    assert not invalid(r.text, "l0-quantity")
    assert f'<option value="{customer}" selected>' in r.text
    assert 'value="PO-7"' in r.text
    assert 'value="2026-03-25"' in r.text

    # In English: a due date before the invoice's date, and no lines at all.
    plant(h.client, "saldo_lang", "en")
    r = await h.client.post(f"{base}/documents/new", data=invoice_form(
        csrf, customer, **{"due_date": "2026-03-01", "lines-0-description": "Consulting",
                           "lines-0-quantity": "2", "lines-0-unit_price": "50.00"}))
    assert r.status_code == 422
    assert "The due date cannot be before the invoice&#39;s date." in r.text
    assert invalid(r.text, "i-due")
    r = await h.client.post(f"{base}/documents/new", data=invoice_form(csrf, customer))
    assert r.status_code == 422
    assert "An invoice needs at least one line." in r.text
    plant(h.client, "saldo_lang", "ka")

    # "Add line" adds a row and keeps what was typed, without saving anything.
    r = await h.client.post(f"{base}/documents/new", data=invoice_form(
        csrf, customer, **{"lines-0-description": "კონსულტაცია", "action": "add_line"}))
    assert r.status_code == 200
    assert 'name="lines-3-description"' in r.text
    assert 'value="კონსულტაცია"' in r.text

    # 2 × 50.00 at vat18: net 100.00, VAT 18.00, total 118.00 (Georgian format).
    r = await h.client.post(f"{base}/documents/new", data=invoice_form(
        csrf, customer, **{"lines-0-description": "კონსულტაცია <b>x</b>",
                           "lines-0-quantity": "2", "lines-0-unit_price": "50,00"}))
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    document_id = location.rsplit("/", 1)[1]
    page = await h.client.get(location)
    assert page.status_code == 200
    assert 'id="doc-net">100,00<' in page.text
    assert 'id="doc-vat">18,00<' in page.text
    assert 'id="doc-total">118,00<' in page.text
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text
    assert (await billing.invoice_doc(document_id))["status"] == "draft"

    # Posting needs the form's token; so does saving.
    r = await h.client.post(f"{base}/documents/new", data={
        k: v for k, v in invoice_form("", customer).items() if k != "csrf_token"})
    assert r.status_code == 403
    r = await h.client.post(f"{location}/post", data={})
    assert r.status_code == 403
    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    posted = await billing.invoice_doc(document_id)
    assert posted["status"] == "posted"
    page = await h.client.get(location)
    assert f'action="{location}/post"' not in page.text
    assert f"/journal/{posted['transaction_id']}" in page.text
    plant(h.client, "saldo_lang", "en")
    page = await h.client.get(location)
    assert 'id="doc-total">118.00<' in page.text


async def test_posting_an_invoice_that_needs_approval_is_refused_on_its_page(h: Harness):
    from billing_harness import Billing, line

    books = await h.books()
    await Billing(books, by="chief").call("PUT", "/billing-settings",
                                          json={"require_approval": True})
    billing = Billing(books)
    customer = await billing.counterparty("შპს გამა")
    # 2 × 50.00 at vat18: 100.00 + 18.00 = 118.00.
    draft = await billing.invoice(customer, "2026-03-10", [line("2", "50.00")], post=False)
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    location = f"/c/{books.company_id}/documents/{draft['id']}"
    page = await h.client.get(location)
    assert 'id="doc-total">118.00<' in page.text
    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 409
    assert "Another person must approve this document before it is posted." in r.text
    assert (await billing.invoice_doc(draft["id"]))["status"] == "draft"
    assert f'action="{location}/approve"' not in page.text  # not by its author
    # The chief approves it from the page, in another browser; then the clerk posts it.
    chief = browser(h)
    await sign_in(chief, "chief")
    page = await chief.get(location)
    assert f'action="{location}/approve"' in page.text
    r = await chief.post(f"{location}/approve", data={})
    assert r.status_code == 403
    r = await chief.post(f"{location}/approve", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    await chief.aclose()
    page = await h.client.get(location)
    assert 'id="doc-approved-by">chief<' in page.text
    r = await h.client.post(f"{location}/post", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert (await billing.invoice_doc(draft["id"]))["status"] == "posted"
    # A document of another kind, or none, is not found.
    missing = await h.client.get(f"/c/{books.company_id}/documents/{books.company_id}")
    assert missing.status_code == 404


def line_blocks(html: str) -> dict[str, str]:
    """Each unreconciled line's reconciliation row, by line id."""
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<tr class="reconcile" id="line-([0-9a-f-]+)">(.*?)</tr>', html, re.S)}


async def test_a_statement_line_is_reconciled_to_a_suggestion_or_an_account(h: Harness):
    from bank_files import Entry, camt053
    from billing_harness import Billing, line

    from saldo.identity.service import Permission

    books = await h.books()
    billing = Billing(books)
    customer = await billing.counterparty("შპს ალფა", "204999999")
    # 10 × 100.00 at vat18: 1,000.00 + 180.00 = 1,180.00.
    invoice = await billing.invoice(customer, "2026-03-02", [line("10", "100.00")])
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.BANK_WRITE)
    statement = camt053([Entry("-2.50", date(2026, 3, 5), "Commission", "C-1"),
                         Entry("1180.00", date(2026, 3, 6), invoice["number"], "C-2",
                               name="შპს ალფა", tax_id="204999999")])
    await h.container.services["banking"].import_statement(ctx, statement,
                                                           account_code="1210")
    await sign_in(h.client, "clerk")
    plant(h.client, "saldo_lang", "en")
    base = f"/c/{books.company_id}"
    page = await h.client.get(f"{base}/bank")
    assert page.status_code == 200
    assert not INLINE_SCRIPT.search(page.text)
    blocks = line_blocks(page.text)
    assert len(blocks) == 2
    paid_line = next(k for k, v in blocks.items() if invoice["id"] in v)
    fee_line = next(k for k in blocks if k != paid_line)
    assert f"Reconcile to {invoice['number']}" in blocks[paid_line]
    assert 'name="amount" value="1180.00"' in blocks[paid_line]
    assert "same amount" in blocks[paid_line]
    csrf = csrf_of(page.text)

    # An account that is not in the chart: refused next to the line, what was typed kept.
    r = await h.client.post(f"{base}/bank/{fee_line}/reconcile",
                            data={"csrf_token": csrf, "account_code": "9999"})
    assert r.status_code in (404, 409, 422), r.text
    block = line_blocks(r.text)[fee_line]
    assert 'role="alert"' in block
    assert 'value="9999"' in block
    # The XSS probe in the typed code comes back as text.
    r = await h.client.post(f"{base}/bank/{fee_line}/reconcile",
                            data={"csrf_token": csrf, "account_code": "<script>x</script>"})
    assert r.status_code in (404, 409, 422)
    assert not INLINE_SCRIPT.search(r.text)
    assert "&lt;script&gt;x&lt;/script&gt;" in r.text
    # Nothing chosen at all.
    r = await h.client.post(f"{base}/bank/{fee_line}/reconcile", data={"csrf_token": csrf})
    assert r.status_code == 422
    assert "Choose a suggested document or write an account code." in \
        line_blocks(r.text)[fee_line]
    # Without the form's token nothing changes.
    r = await h.client.post(f"{base}/bank/{fee_line}/reconcile",
                            data={"account_code": "7492"})
    assert r.status_code == 403

    # The fee to bank charges (7492), one submit.
    r = await h.client.post(f"{base}/bank/{fee_line}/reconcile",
                            data={"csrf_token": csrf, "account_code": "7492"})
    assert r.status_code == 303
    assert r.headers["location"] == f"{base}/bank?status=unreconciled"
    page = await h.client.get(r.headers["location"])
    assert set(line_blocks(page.text)) == {paid_line}

    # The receipt to its suggested invoice, one submit: the invoice is paid.
    r = await h.client.post(f"{base}/bank/{paid_line}/reconcile",
                            data={"csrf_token": csrf, "document_id": invoice["id"],
                                  "amount": "1180.00"})
    assert r.status_code == 303, r.text
    page = await h.client.get(f"{base}/bank")
    assert line_blocks(page.text) == {}
    assert "1,180.00 GEL" not in page.text
    reconciled = await h.client.get(f"{base}/bank?status=reconciled")
    assert "1,180.00 GEL" in reconciled.text
    assert "-2.50 GEL" in reconciled.text
    doc: dict[str, Any] = await billing.invoice_doc(invoice["id"])
    assert doc["status"] == "paid"
    # Twice is refused, in the reader's language.
    plant(h.client, "saldo_lang", "ka")
    r = await h.client.post(f"{base}/bank/{paid_line}/reconcile",
                            data={"csrf_token": csrf, "account_code": "7492"})
    assert r.status_code == 409
    assert "სტრიქონი უკვე შედარებულია." in r.text
