"""The VAT return's filing and findings and exports, the registration monitor over a
rolling window, and the tax calendar (issue 13, items 7–9)."""

from __future__ import annotations

from io import BytesIO
from uuid import UUID

import pytest
from billing_harness import Billing, line
from ledger_harness import Books, Harness

pytestmark = pytest.mark.integration


async def _non_payer(h: Harness) -> Books:
    await h.user("solo")
    headers = await h.headers("solo")
    r = await h.client.post("/api/v1/companies", headers=headers, json={
        "name": "Small Trade LLC", "tax_id": "405000111", "vat_payer": False})
    assert r.status_code == 201, r.text
    return Books(h, UUID(r.json()["id"]), headers, headers)


async def test_registration_crosses_only_in_a_rolling_window(h: Harness) -> None:
    """60,000 (15 Jun 2025) + 30,000 (10 Feb 2026) + 15,000 (20 May 2026): 60,000 in
    2025 and 45,000 in 2026, but Jun 2025–May 2026 holds 105,000 > 100,000, crossed with
    the 20 May sale; 90% (90,000) was reached on 10 Feb 2026 (Mar 2025–Feb 2026)."""
    books = await _non_payer(h)
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    first = await b.invoice(customer, "2025-06-15", [line("1", "60000")])
    assert first["vat_total"] == "0.00"  # not a VAT payer: no VAT charged
    await b.invoice(customer, "2026-02-10", [line("1", "30000")])
    await b.invoice(customer, "2026-03-01", [line("1", "999", "exempt")])  # not taxable
    before = await b.call("GET", "/tax/vat-registration", params={"as_of": "2026-04-30"})
    assert (before["taxable_turnover"], before["exceeded"], before["window_start"]) == (
        "90000.00", False, "2025-05-01")
    assert [a["kind"] for a in before["alerts"]] == ["approached"]
    await b.invoice(customer, "2026-05-20", [line("1", "15000")])
    after = await b.call("GET", "/tax/vat-registration", params={"as_of": "2026-05-31"})
    assert after == {**after, "as_of": "2026-05-31", "window_start": "2025-06-01",
                     "window_end": "2026-05-31", "taxable_turnover": "105000.00",
                     "threshold": "100000.00", "exceeded": True,
                     "exceeded_on": "2026-05-20", "register_by": "2026-05-22"}
    assert [a["kind"] for a in after["alerts"]] == ["approached", "exceeded"]
    # The calendar years never exceed: 2025 60,000, 2026 45,000.
    year_end = await b.call("GET", "/tax/vat-registration", params={"as_of": "2026-12-31"})
    assert year_end["taxable_turnover"] == "45000.00"
    assert year_end["exceeded_on"] == "2026-05-20"


async def test_findings_filing_and_exports(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    chief = Billing(books, "chief")
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    await b.invoice(customer, "2026-03-02", [line("1", "1000")])  # VAT 180.00
    draft = await b.invoice(customer, "2026-03-03", [line("1", "10")], post=False)
    ret = await chief.call("GET", "/tax/vat-returns/2026-03")
    assert [f["code"] for f in ret["findings"]] == ["unposted_draft"]
    await b.call("POST", f"/sales-invoices/{draft['id']}/post")
    filed = await chief.call("POST", "/tax/vat-returns/2026-03/file")
    assert filed["filed"] is True
    assert filed["findings"] == []
    assert filed["payable"] == "181.80"  # 180.00 + 1.80
    await b.invoice(customer, "2026-03-31", [line("1", "100")])
    late = await chief.call("GET", "/tax/vat-returns/2026-03")
    assert [f["code"] for f in late["findings"]] == ["posted_after_filing"]
    assert late["output_vat"] == "199.80"

    from openpyxl import load_workbook
    from pypdf import PdfReader

    r = await h.client.get(books.url("/tax/vat-returns/2026-03"),
                           params={"format": "xlsx"}, headers=books.chief)
    assert r.status_code == 200
    sheet = load_workbook(BytesIO(r.content)).active
    assert sheet is not None
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "UNCONFIRMED" in " ".join(str(v) for v in values)
    r = await h.client.get(books.url("/tax/vat-returns/2026-03"),
                           params={"format": "pdf", "lang": "ka"}, headers=books.chief)
    assert r.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(r.content)).pages)
    assert "დღგ-ს დეკლარაცია" in text
    assert "199.80" in text
    # The accountant may not read tax reports (reports:tax is the chief's).
    assert (await h.client.get(books.url("/tax/vat-returns/2026-03"),
                               headers=books.clerk)).status_code == 403


async def test_calendar_and_ics_feed(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    calendar = await b.call("GET", "/tax/calendar", params={"year": 2026})
    vat = {c["period"]: c["due_date"] for c in calendar if c["tax"] == "vat"}
    assert len(vat) == 12
    assert vat["2026-01"] == "2026-02-16"  # 15 Feb is a Sunday
    assert vat["2026-03"] == "2026-04-15"
    assert vat["2026-12"] == "2027-01-15"
    assert {"tax": "property_tax", "period": "2026", "due_date": "2027-04-01"} in calendar
    r = await h.client.get(books.url("/tax/calendar.ics"), params={"year": 2026},
                           headers=books.clerk)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    from icalendar import Calendar

    events = Calendar.from_ical(r.content).walk("VEVENT")
    assert len(events) == 13
    starts = {str(e["summary"]): e.decoded("dtstart").isoformat() for e in events}
    assert starts["VAT return 2026-01"] == "2026-02-16"


async def test_registers_codes_and_statement(h: Harness) -> None:
    """Sales register: INV-1 1,000.00 / 180.00 and the credit note −100.00 / −18.00;
    purchase register: a bill 200.00 / 36.00. Statement of the customer: 1,180.00 −
    118.00 − 500.00 = 562.00."""
    books = await h.books()
    b = Billing(books)
    chief = Billing(books, "chief")
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    supplier = await b.counterparty("Office Supply LLC", "204111222")
    inv = await b.invoice(customer, "2026-03-02", [line("1", "1000")])
    await b.call("POST", f"/sales-invoices/{inv['id']}/credit-note", 201,
                 json={"date": "2026-03-04", "lines": [line("1", "100")]})
    await b.bill(supplier, "2026-03-05", [line("2", "100", "vat18", "7490")])
    await b.pay(customer, "2026-03-06", "in", "500", [(inv["id"], "500")])
    sales = await chief.call("GET", "/tax/vat-registers/2026-03")
    assert [(r["number"], r["base"], r["vat"]) for r in sales] == [
        ("INV-2026-00001", "1000.00", "180.00"), ("CN-2026-00001", "-100.00", "-18.00")]
    purchases = await chief.call("GET", "/tax/vat-registers/2026-03",
                                 params={"direction": "purchases"})
    assert [(r["tax_id"], r["base"], r["vat"]) for r in purchases] == [
        ("204111222", "200.00", "36.00")]
    codes = {c["code"]: c for c in await b.call("GET", "/vat-codes")}
    assert codes["reverse_charge18"]["sales"] is False
    assert codes["vat18"]["output_account"] == "3330"
    statement = await b.call("GET", f"/counterparties/{customer}/statement",
                             params={"date_to": "2026-03-31"})
    assert [(x["kind"], x["debit"], x["credit"], x["balance"]) for x in statement["lines"]] == [
        ("sales_invoice", "1180.00", "0.00", "1180.00"),
        ("credit_note", "0.00", "118.00", "1062.00"),
        ("payment", "0.00", "500.00", "562.00")]
    assert statement["closing"] == "562.00"
    later = await b.call("GET", f"/counterparties/{customer}/statement",
                         params={"date_from": "2026-03-05", "date_to": "2026-03-31"})
    assert (later["opening"], later["closing"]) == ("1062.00", "562.00")
