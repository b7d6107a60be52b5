"""Bad input: a 4xx problem with a stable code, and nothing written (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from billing_harness import Billing, line
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration


async def _state(books: Books) -> Any:
    """Billing's rows and the ledger's, read with the privileged pool."""
    async with books.h.container.db.transaction() as conn:
        counts = []
        for table in ("events", "billing_documents", "billing_payments",
                      "billing_settlements", "counterparties", "vat_lines"):
            cursor = await conn.execute(f"SELECT count(*) AS n FROM {table}")
            row = await cursor.fetchone()
            assert row is not None
            counts.append(row["n"])
    return counts, await books.state()


async def test_refused_input_writes_nothing(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    other_customer = await b.counterparty("Other LLC", "205999888")
    supplier = await b.counterparty("Office Supply LLC", "204111222")
    invoice = await b.invoice(customer, "2026-03-02", [line("1", "100")])  # 118.00
    await b.bill(supplier, "2026-03-03", [line("1", "50", "vat18", "7490")],
                 supplier_reference="S-1")
    before = await _state(books)
    url = books.url
    c, hdr = h.client, books.clerk

    async def refused(method: str, path: str, status: int, code: str, **kw: Any) -> None:
        r = await c.request(method, url(path), headers=hdr, **kw)
        expect_problem(r, status, code)

    await refused("POST", "/counterparties", 422, "invalid_tax_id",
                  json={"name": "X", "tax_id": "12345"})
    await refused("POST", "/counterparties", 422, "invalid_iban",
                  json={"name": "X", "iban": "GE29NB0000000101904918"})
    await refused("POST", "/counterparties", 409, "duplicate_tax_id",
                  json={"name": "Again", "tax_id": "205123456"})
    await refused("POST", "/sales-invoices", 422, "vat_code_direction", json={
        "customer_id": customer, "date": "2026-03-05",
        "lines": [line("1", "10", "reverse_charge18")]})
    for qty, price in (("0", "10"), ("1", "-5"), ("-1", "5")):
        await refused("POST", "/sales-invoices", 422, "invalid_line", json={
            "customer_id": customer, "date": "2026-03-05", "lines": [line(qty, price)]})
    await refused("POST", "/sales-invoices", 404, "counterparty_not_found", json={
        "customer_id": "01900000-0000-7000-8000-000000000009", "date": "2026-03-05",
        "lines": [line("1", "10")]})
    await refused("POST", f"/sales-invoices/{invoice['id']}/credit-note", 422,
                  "credit_exceeds_invoice",
                  json={"date": "2026-03-06", "lines": [line("1", "100.01")]})  # 118.01
    await refused("POST", "/payments", 422, "over_allocation", json={
        "counterparty_id": customer, "date": "2026-03-07", "direction": "in",
        "amount": "200", "allocations": [{"document_id": invoice["id"], "amount": "118.01"}]})
    await refused("POST", "/payments", 422, "allocation_mismatch", json={
        "counterparty_id": other_customer, "date": "2026-03-07", "direction": "in",
        "amount": "10", "allocations": [{"document_id": invoice["id"], "amount": "10"}]})
    await refused("POST", "/payments", 422, "allocation_mismatch", json={
        "counterparty_id": customer, "date": "2026-03-01", "direction": "in",
        "amount": "10", "allocations": [{"document_id": invoice["id"], "amount": "10"}]})
    await refused("POST", "/purchase-bills", 409, "duplicate_supplier_reference", json={
        "supplier_id": supplier, "date": "2026-03-08", "supplier_reference": "S-1",
        "lines": [line("1", "5", "vat18", "7490")]})
    await refused("POST", f"/sales-invoices/{invoice['id']}/post", 409, "invalid_state")
    await refused("GET", "/sales-invoices/01900000-0000-7000-8000-000000000009", 404,
                  "document_not_found")
    assert await _state(books) == before

    # Another company's counterparty and document are unknown here (404).
    other = await h.other_books("b")
    ob = Billing(other)
    theirs = await ob.counterparty("Theirs LLC", "206000111")
    their_invoice = await ob.invoice(theirs, "2026-03-02", [line("1", "10")])
    before = await _state(books)
    await refused("POST", "/sales-invoices", 404, "counterparty_not_found", json={
        "customer_id": theirs, "date": "2026-03-05", "lines": [line("1", "10")]})
    await refused("GET", f"/sales-invoices/{their_invoice['id']}", 404, "document_not_found")
    await refused("POST", "/payments", 404, "document_not_found", json={
        "counterparty_id": customer, "date": "2026-03-07", "direction": "in",
        "amount": "10", "allocations": [{"document_id": their_invoice["id"], "amount": "1"}]})
    assert await _state(books) == before


async def test_closed_period_refuses_documents(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    draft = await b.invoice(customer, "2026-02-10", [line("1", "100")], post=False)
    r = await h.client.post(books.url("/fiscal-periods/2026-02/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    expect_problem(await h.client.post(books.url("/sales-invoices"), headers=books.clerk, json={
        "customer_id": customer, "date": "2026-02-11", "lines": [line("1", "10")]}),
        422, "period_closed")
    expect_problem(await h.client.post(books.url(f"/sales-invoices/{draft['id']}/post"),
                                       headers=books.clerk), 422, "period_closed")
    expect_problem(await h.client.post(books.url("/payments"), headers=books.clerk, json={
        "counterparty_id": customer, "date": "2026-02-12", "direction": "in",
        "amount": "10", "allocations": []}), 422, "period_closed")
    assert (await b.invoice_doc(draft["id"]))["status"] == "draft"


async def test_second_person_approval_when_the_company_requires_it(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    # By default the author posts their own draft.
    await b.invoice(customer, "2026-03-02", [line("1", "10")])
    settings = await Billing(books, "chief").call("PUT", "/billing-settings",
                                                  json={"require_approval": True})
    assert settings == {"require_approval": True}
    draft = await b.invoice(customer, "2026-03-03", [line("1", "10")], post=False)
    expect_problem(await h.client.post(books.url(f"/sales-invoices/{draft['id']}/post"),
                                       headers=books.clerk), 409, "not_approved")
    # The clerk may not approve (no documents:approve); the chief may, not being the author.
    expect_problem(await h.client.post(books.url(f"/sales-invoices/{draft['id']}/approve"),
                                       headers=books.clerk), 403)
    chief_draft = await Billing(books, "chief").invoice(customer, "2026-03-04",
                                                        [line("1", "5")], post=False)
    expect_problem(await h.client.post(
        books.url(f"/sales-invoices/{chief_draft['id']}/approve"), headers=books.chief),
        403, "segregation_of_duties")
    approved = await Billing(books, "chief").call("POST",
                                                  f"/sales-invoices/{draft['id']}/approve")
    assert approved["approved_by"] == "chief"
    posted = await b.call("POST", f"/sales-invoices/{draft['id']}/post")
    assert posted["status"] == "posted"
