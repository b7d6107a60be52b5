"""Foreign-currency payments with the realised difference, advances with VAT, import VAT,
supplier notes, the invoice PDF and counterparties (issue 13, items 1–5)."""

from __future__ import annotations

from typing import Any

import pytest
from billing_harness import Billing, line
from ledger_harness import Harness

pytestmark = pytest.mark.integration


async def test_realised_exchange_difference(h: Harness) -> None:
    """USD 1,000 + 18% = 1,180.00 at 2.7000: 1410 Dr 3,186.00. Paid 500 at 2.8000 (GEL
    1,400.00) relieves round(500 × 3,186 / 1,180) = 1,350.00: gain 50.00. The other 680 at
    2.6500 (GEL 1,802.00) relieves the remaining 1,836.00: loss 34.00. 1410 ends at 0."""
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Acme Inc", "US-99", country="US")
    inv = await b.invoice(customer, "2026-03-02", [line("1", "1000")], currency="USD",
                          exchange_rate="2.7")
    assert (inv["total"], inv["total_base"]) == ("1180.00", "3186.00")
    first = await b.pay(customer, "2026-03-10", "in", "500", [(inv["id"], "500")],
                        currency="USD", exchange_rate="2.8", account_code="1220")
    assert first["allocations"][0]["amount_base"] == "1350.00"
    assert await books.balance("8140", "2026-03-31") == "-50.00"
    await b.pay(customer, "2026-03-20", "in", "680", [(inv["id"], "680")], currency="USD",
                exchange_rate="2.65", account_code="1220")
    assert await books.balance("8240", "2026-03-31") == "34.00"
    assert await books.balance("1410", "2026-03-31") == "0.00"
    assert await books.balance("1220", "2026-03-31") == "3202.00"  # 1,400 + 1,802
    assert (await b.invoice_doc(inv["id"]))["status"] == "paid"
    aging = await b.call("GET", "/reports/receivables-aging", params={"as_of": "2026-03-31"})
    assert aging["totals"]["total"] == "0.00"


async def test_advance_received_with_vat_and_its_offset(h: Harness) -> None:
    """1,180.00 received with nothing to allocate: an advance, VAT 1,180 × 18/118 = 180.00
    (Cr 3120 1,000.00, Cr 3331 180.00). April's invoice 2,000 + 360 = 2,360.00 takes the
    advance: Dr 3120 1,000, Dr 3331 180 / Cr 1410 1,180; April's output VAT is
    360 − 180 = 180.00 (VAT at supply on the value reduced by the advance)."""
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    payment = await b.pay(customer, "2026-03-05", "in", "1180", [])
    assert (payment["unallocated"], payment["advance_vat"]) == ("1180.00", "180.00")
    assert await books.balance("3120", "2026-03-31") == "-1000.00"
    assert await books.balance("3331", "2026-03-31") == "-180.00"
    march = await Billing(books, "chief").call("GET", "/tax/vat-returns/2026-03")
    assert march["output_vat"] == "180.00"
    assert {x["box"]: x["vat"] for x in march["lines"]}["2"] == "180.00"

    inv = await b.invoice(customer, "2026-04-10", [line("2", "1000")])
    assert inv["total"] == "2360.00"
    applied = await b.call("POST", f"/payments/{payment['id']}/allocations", 201, json={
        "date": "2026-04-10", "allocations": [{"document_id": inv["id"], "amount": "1180"}]})
    assert (applied["unallocated"], applied["advance_vat"]) == ("0.00", "0.00")
    assert (await b.invoice_doc(inv["id"]))["amount_due"] == "1180.00"
    assert await books.balance("3120", "2026-04-30") == "0.00"
    assert await books.balance("3331", "2026-04-30") == "0.00"
    april = await Billing(books, "chief").call("GET", "/tax/vat-returns/2026-04")
    assert (april["taxable_supplies"], april["output_vat"]) == ("2000.00", "180.00")
    # Output VAT accounts' April movement: 3330 −360, 3331 +180.
    assert await books.balance("3330", "2026-04-30") == "-360.00"
    over = await h.client.post(books.url(f"/payments/{payment['id']}/allocations"),
                               headers=books.clerk, json={"date": "2026-04-11", "allocations": [
                                   {"document_id": inv["id"], "amount": "1"}]})
    assert over.status_code == 422
    assert over.json()["code"] == "over_allocation"


async def test_import_vat_and_supplier_notes(h: Harness) -> None:
    """A customs declaration: customs value 10,000.00, import VAT 1,800.00 payable to the
    customs, Dr 3342 / Cr 3110. A supplier's credit note of 100 + 18 on a bill of
    1,000 + 180 leaves 1,062.00 due; a debit note of 50 + 9 is a further 59.00."""
    books = await h.books()
    b = Billing(books)
    customs = await b.counterparty("Revenue Service (customs)", "204000000")
    declaration = await b.bill(customs, "2026-03-04",
                               [line("1", "10000", "import18", "1610")],
                               supplier_reference="C-2026-0001")
    assert (declaration["net_total"], declaration["vat_total"], declaration["total"]) == (
        "10000.00", "1800.00", "1800.00")
    assert await books.balance("3342", "2026-03-31") == "1800.00"
    assert await books.balance("1610", "2026-03-31") == "0.00"
    supplier = await b.counterparty("Office Supply LLC", "204111222")
    bill = await b.bill(supplier, "2026-03-05", [line("1", "1000", "vat18", "1610")])
    note = await b.call("POST", f"/purchase-bills/{bill['id']}/credit-note", 201,
                        json={"date": "2026-03-06", "lines": [line("1", "100", "vat18",
                                                                   "1610")]})
    assert note["kind"] == "supplier_credit_note"
    assert note["total"] == "118.00"
    assert (await b.bill_doc(bill["id"]))["amount_due"] == "1062.00"
    debit = await b.call("POST", f"/purchase-bills/{bill['id']}/debit-note", 201,
                         json={"date": "2026-03-07", "lines": [line("1", "50", "vat18",
                                                                    "1610")]})
    assert debit["total"] == "59.00"
    ret = await Billing(books, "chief").call("GET", "/tax/vat-returns/2026-03")
    # Input: 1,800 import + 180 − 18 + 9 = 1,971.00.
    assert (ret["import_vat"], ret["input_vat"]) == ("1800.00", "1971.00")
    # 3110: 1,800 + 1,180 − 118 + 59 = 2,921.00 owed.
    assert await books.balance("3110", "2026-03-31") == "-2921.00"
    payables = await b.call("GET", "/reports/payables-aging", params={"as_of": "2026-03-31"})
    assert payables["totals"]["total"] == "2921.00"


async def test_counterparties_search_and_bank(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    created = await b.call("POST", "/counterparties", 201, json={
        "name": "Kartuli Mebeli LLC", "tax_id": "205123456", "vat_payer": True,
        "iban": "GE 29 NB00 0000 0101 9049 17", "email": "acc@mebeli.ge"})
    assert (created["iban"], created["bank_bic"], created["bank_name"]) == (
        "GE29NB0000000101904917", "BNLNGE22", "National Bank of Georgia")
    await b.counterparty("Tbilisi Clinic", "01001012345")
    found = await b.call("GET", "/counterparties", params={"search": "mebeli"})
    assert [x["name"] for x in found["items"]] == ["Kartuli Mebeli LLC"]
    by_tax_id = await b.call("GET", "/counterparties", params={"search": "0100"})
    assert [x["name"] for x in by_tax_id["items"]] == ["Tbilisi Clinic"]
    page = await b.call("GET", "/counterparties", params={"limit": 1})
    assert page["next_cursor"]
    rest = await b.call("GET", "/counterparties", params={"limit": 1,
                                                         "cursor": page["next_cursor"]})
    assert [x["name"] for x in page["items"] + rest["items"]] == [
        "Kartuli Mebeli LLC", "Tbilisi Clinic"]


async def test_invoice_pdf_in_both_languages(h: Harness) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    inv = await b.invoice(customer, "2026-03-02", [line("2", "1234.50")])
    texts: dict[str, Any] = {}
    for lang in ("ka", "en"):
        r = await h.client.get(books.url(f"/sales-invoices/{inv['id']}/pdf"),
                               params={"lang": lang}, headers=books.clerk)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        texts[lang] = "".join(p.extract_text() for p in PdfReader(BytesIO(r.content)).pages)
    for text in texts.values():
        assert "204567891" in text
        assert "205123456" in text
    assert "2,913.42" in texts["en"]  # 2,469.00 + 444.42
    assert "ანგარიშ-ფაქტურა" in texts["ka"]
    assert "2\u00a0913,42" in texts["ka"]  # a no-break space groups, as everywhere


async def test_official_rate_when_none_is_given(h: Harness) -> None:
    """No exchange_rate: the NBG rate in effect on the date (valid from 1 Mar, 2.7000);
    none loaded for EUR: 422 rate_not_found, nothing written."""
    books = await h.books()
    await h.user("root", superuser=True)
    root = await h.headers("root")
    r = await h.client.put("/api/v1/rates/USD/2026-03-01", headers=root, json={"rate": "2.7"})
    assert r.status_code == 200, r.text
    b = Billing(books)
    customer = await b.counterparty("Acme Inc", "US-99", country="US")
    inv = await b.invoice(customer, "2026-03-02", [line("1", "100")], currency="USD")
    assert (inv["exchange_rate"], inv["total_base"]) == ("2.7", "318.60")  # 118 × 2.7
    r = await h.client.post(books.url("/sales-invoices"), headers=books.clerk, json={
        "customer_id": customer, "date": "2026-03-02", "currency": "EUR",
        "lines": [line("1", "100")]})
    assert r.status_code == 422
    assert r.json()["code"] == "rate_not_found"


async def test_concurrent_payments_never_over_allocate(h: Harness) -> None:
    """Two payments of 100.00 race for an invoice of 118.00: one wins; the other, run
    again on the invoice's new version, finds 18.00 due and is refused."""
    import asyncio

    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    inv = await b.invoice(customer, "2026-03-02", [line("1", "100")])
    body = {"counterparty_id": customer, "date": "2026-03-05", "direction": "in",
            "amount": "100", "allocations": [{"document_id": inv["id"], "amount": "100"}]}
    responses = await asyncio.gather(*[
        h.client.post(books.url("/payments"), headers=books.clerk, json=body)
        for _ in range(2)])
    assert sorted(r.status_code for r in responses) == [201, 422]
    assert (await b.invoice_doc(inv["id"]))["amount_due"] == "18.00"
    assert await books.balance("1410", "2026-03-31") == "18.00"


async def test_listing_matches_the_documents(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    posted = await b.invoice(customer, "2026-03-02", [line("3", "33.33"), line("1", "5")])
    await b.pay(customer, "2026-03-05", "in", "50", [(posted["id"], "50")])
    draft = await b.invoice(customer, "2026-03-03", [line("1", "10", "exempt")], post=False)
    listed = (await b.call("GET", "/sales-invoices", params={"customer_id": customer}))["items"]
    assert [x["id"] for x in listed] == [draft["id"], posted["id"]]
    for item in listed:
        assert item == await b.invoice_doc(item["id"])
    partly = await b.call("GET", "/sales-invoices", params={"status": "partly_paid"})
    assert [x["amount_due"] for x in partly["items"]] == ["73.89"]  # 99.99+18+5+0.90−50


async def test_statuses_through_credit_and_payment(h: Harness) -> None:
    """118.00: credit 59.00 (half), pay 59.00 → paid; another 118.00 credited in full →
    credited; a credit note itself is posted."""
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    first = await b.invoice(customer, "2026-03-02", [line("2", "50")])
    half = await b.call("POST", f"/sales-invoices/{first['id']}/credit-note", 201,
                        json={"date": "2026-03-03", "lines": [line("1", "50")]})
    assert (half["status"], half["amount_due"]) == ("posted", "0.00")
    assert (await b.invoice_doc(first["id"]))["status"] == "partly_paid"
    await b.pay(customer, "2026-03-04", "in", "59", [(first["id"], "59")])
    assert (await b.invoice_doc(first["id"]))["status"] == "paid"
    second = await b.invoice(customer, "2026-03-02", [line("1", "100")])
    await b.call("POST", f"/sales-invoices/{second['id']}/credit-note", 201,
                 json={"date": "2026-03-05", "lines": [line("1", "100")]})
    credited = await b.invoice_doc(second["id"])
    assert (credited["status"], credited["amount_due"]) == ("credited", "0.00")
    listed = await b.call("GET", "/sales-invoices", params={"status": "credited"})
    assert [x["id"] for x in listed["items"]] == [second["id"]]
