"""Reversing a payment (docs/sales-and-vat.md, "Reversing a payment"): the payment's
journal is mirrored, every document it settled is due again, reversing twice is 409, and a
reversal dated in a closed period is refused (422 period_closed).

The figures: an invoice of 1 × 100.00 + VAT 18% = 118.00 on 2 March, paid 118.00 on
10 March (Dr 1210 118.00 / Cr 1410 118.00); the reversal posts Dr 1410 118.00 / Cr 1210
118.00, so 1410 is back at 118.00 and 1210 at 0.00.
"""

from __future__ import annotations

import pytest
from billing_harness import Billing, line
from ledger_harness import Harness, expect_problem

pytestmark = pytest.mark.integration


async def test_a_paid_invoice_is_due_again_after_its_payment_is_reversed(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kolkheti Foods LLC", "204567890")
    inv = await b.invoice(customer, "2026-03-02", [line("1", "100.00")])
    assert inv["total"] == "118.00"
    payment = await b.pay(customer, "2026-03-10", "in", "118.00", [(inv["id"], "118.00")],
                          account_code="1210")
    doc = await b.invoice_doc(inv["id"])
    assert (doc["status"], doc["amount_due"]) == ("paid", "0.00")
    assert await books.balance("1410", "2026-03-31") == "0.00"
    assert await books.balance("1210", "2026-03-31") == "118.00"

    url = f"/payments/{payment['id']}/reverse"
    done = await b.call("POST", url, json={"reason": "Paid the wrong invoice"})
    assert done["status"] == "reversed"
    assert done["date"] == "2026-03-10"
    assert [(a["document_id"], a["amount"], a["amount_base"])
            for a in done["allocations"]] == [(inv["id"], "118.00", "118.00")]
    tx = await books.get(done["transaction_id"])
    assert tx["reverses"] == payment["transaction_id"]
    assert sorted((ln["account_code"], ln["debit"], ln["credit"]) for ln in tx["entries"]) == [
        ("1210", "0.00", "118.00"), ("1410", "118.00", "0.00")]

    doc = await b.invoice_doc(inv["id"])
    assert (doc["status"], doc["amount_due"]) == ("posted", "118.00")
    assert await books.balance("1410", "2026-03-31") == "118.00"
    assert await books.balance("1210", "2026-03-31") == "0.00"
    shown = await b.call("GET", f"/payments/{payment['id']}")
    assert (shown["status"], shown["reversal_transaction_id"]) == (
        "reversed", done["transaction_id"])
    items = await b.call("GET", "/reports/open-items")
    assert [(i["document_id"], i["amount_due"]) for i in items] == [(inv["id"], "118.00")]
    aging = await b.call("GET", "/reports/receivables-aging", params={"as_of": "2026-03-31"})
    assert aging["totals"]["total"] == "118.00"

    # Twice is a conflict; the invoice can be paid again.
    r = await h.client.post(books.url(url), headers=books.clerk, json={"reason": "Again"})
    expect_problem(r, 409, "payment_reversed")
    r = await h.client.post(books.url(f"/payments/{payment['id']}/allocations"),
                            headers=books.clerk, json={"date": "2026-03-11", "allocations": [
                                {"document_id": inv["id"], "amount": "1"}]})
    expect_problem(r, 409, "payment_reversed")
    await b.pay(customer, "2026-03-12", "in", "118.00", [(inv["id"], "118.00")])
    assert (await b.invoice_doc(inv["id"]))["status"] == "paid"


async def test_reversal_bad_input_and_closed_period(h: Harness) -> None:
    """A payment on 10 February, the month then closed: reversing it on its own date is
    refused (period_closed); dated 1 March it posts in March, so February keeps it."""
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kolkheti Foods LLC", "204567890")
    inv = await b.invoice(customer, "2026-02-02", [line("1", "100.00")])
    payment = await b.pay(customer, "2026-02-10", "in", "118.00", [(inv["id"], "118.00")])
    url = f"/payments/{payment['id']}/reverse"
    r = await h.client.post(books.url(url), headers=books.clerk, json={"reason": " "})
    assert r.status_code == 422, r.text
    r = await h.client.post(books.url(url), headers=books.clerk,
                            json={"reason": "x", "date": "2026-02-09"})
    expect_problem(r, 422, "invalid_document")
    r = await h.client.post(books.url("/payments/00000000-0000-7000-8000-000000000000/reverse"),
                            headers=books.clerk, json={"reason": "x"})
    assert r.status_code == 404, r.text
    r = await h.client.post(books.url("/fiscal-periods/2026-02/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    r = await h.client.post(books.url(url), headers=books.clerk, json={"reason": "Wrong"})
    expect_problem(r, 422, "period_closed")
    done = await b.call("POST", url, json={"reason": "Wrong", "date": "2026-03-01"})
    assert done["date"] == "2026-03-01"
    assert await books.balance("1410", "2026-02-28") == "0.00"
    assert await books.balance("1410", "2026-03-31") == "118.00"
    assert (await b.invoice_doc(inv["id"]))["amount_due"] == "118.00"


async def test_reversal_takes_the_exchange_difference_and_the_advance(h: Harness) -> None:
    """USD 1,000 + 18% = 1,180.00 at 2.7000 (1410 Dr 3,186.00), paid USD 1,280.00 at
    2.8000: 1,180 relieves 3,186.00 for GEL 3,304.00, a gain of 118.00 on 8140; the other
    USD 100.00 is an advance (GEL 280.00 on 3120 and 3331, its VAT 18/118). Reversed: 1410
    back at 3,186.00, 8140, 3120, 3331 and 1220 back at 0.00, and March's VAT return has no
    advance VAT left."""
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Acme Inc", "US-99", country="US")
    inv = await b.invoice(customer, "2026-03-02", [line("1", "1000")], currency="USD",
                          exchange_rate="2.7")
    payment = await b.pay(customer, "2026-03-10", "in", "1280", [(inv["id"], "1180")],
                          currency="USD", exchange_rate="2.8", account_code="1220")
    assert await books.balance("8140", "2026-03-31") == "-118.00"
    assert payment["unallocated"] == "100.00"
    await b.call("POST", f"/payments/{payment['id']}/reverse", json={"reason": "Bounced"})
    for code, expected in (("1410", "3186.00"), ("8140", "0.00"), ("3120", "0.00"),
                           ("3331", "0.00"), ("1220", "0.00")):
        assert await books.balance(code, "2026-03-31") == expected, code
    doc = await b.invoice_doc(inv["id"])
    assert (doc["status"], doc["amount_due"]) == ("posted", "1180.00")
    march = await Billing(books, "chief").call("GET", "/tax/vat-returns/2026-03")
    # The invoice's VAT only: USD 180.00 × 2.7000 = 486.00.
    assert march["output_vat"] == "486.00"


async def test_reversing_an_advance_applied_since(h: Harness) -> None:
    """1,180.00 received on 5 March as an advance (Cr 3120 1,000.00, Cr 3331 180.00),
    applied on 10 April to an invoice of 2,000 + 360 = 2,360.00. Reversing the payment
    reverses both transactions, dated 10 April (the last application): the invoice is due
    2,360.00 again, 1410 holds it, 3120, 3331 and the bank are back at 0.00; over March and
    April the output VAT is the invoice's 360.00 (March 180.00 + April 180.00)."""
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    payment = await b.pay(customer, "2026-03-05", "in", "1180", [])
    inv = await b.invoice(customer, "2026-04-10", [line("2", "1000")])
    await b.call("POST", f"/payments/{payment['id']}/allocations", 201, json={
        "date": "2026-04-10", "allocations": [{"document_id": inv["id"], "amount": "1180"}]})
    done = await b.call("POST", f"/payments/{payment['id']}/reverse",
                        json={"reason": "Refunded"})
    assert done["date"] == "2026-04-10"
    assert len(done["reversals"]) == 2
    assert [(a["document_id"], a["amount"]) for a in done["allocations"]] == [
        (inv["id"], "1180.00")]
    doc = await b.invoice_doc(inv["id"])
    assert (doc["status"], doc["amount_due"]) == ("posted", "2360.00")
    for code, expected in (("1410", "2360.00"), ("3120", "0.00"), ("3331", "0.00"),
                           ("1210", "0.00")):
        assert await books.balance(code, "2026-04-30") == expected, code
    chief = Billing(books, "chief")
    march = await chief.call("GET", "/tax/vat-returns/2026-03")
    april = await chief.call("GET", "/tax/vat-returns/2026-04")
    assert (march["output_vat"], april["output_vat"]) == ("180.00", "180.00")
