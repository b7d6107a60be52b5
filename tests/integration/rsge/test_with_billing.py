"""The exchange wired to the real billing context: a posted sales invoice is queued by the
outbox and reaches the stand-in; its credit note goes as a correction (k_invoice); a
supplier's e-invoice matches the purchase bill entered by hand; a counterparty is created
from its tax id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rsge_harness import BUYER_TIN, COMPANY_TIN, SUPPLIER_TIN, Rs

from saldo.rsge.billing import BillingAdapter


@pytest.fixture
def real(rs: Rs) -> Rs:
    """The ``rs`` fixture with the real billing context behind the port (the composition
    root builds the same adapter)."""
    rs.service.billing = BillingAdapter(rs.h.container.units, rs.h.container.services["billing"])
    return rs


async def _post(rs: Rs, path: str, body: dict[str, Any] | None = None,
                status: int = 201) -> dict[str, Any]:
    r = await rs.h.client.post(rs.url(path), headers=rs.books.clerk, json=body)
    assert r.status_code == status, r.text
    return dict(r.json())


async def test_posted_invoice_goes_out_and_its_credit_note_corrects_it(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    buyer = await _post(rs, "/rs/counterparties", {"tax_id": BUYER_TIN})
    assert buyer["name"] == "შპს ბათუმის ვაჭრობა"
    assert buyer["vat_payer"] is True
    # 10 × 25.00 = 250.00 net, VAT 45.00 (18%), total 295.00; 2 × 100.00 = 200.00, VAT
    # 36.00, total 236.00. Invoice total 531.00.
    invoice = await _post(rs, "/sales-invoices", {
        "customer_id": buyer["id"], "date": "2026-12-01", "lines": [
            {"description": "Oak planks", "quantity": "10", "unit_price": "25.00",
             "vat_code": "vat18"},
            {"description": "Delivery", "quantity": "2", "unit_price": "100.00",
             "vat_code": "vat18"}]})
    await _post(rs, f"/sales-invoices/{invoice['id']}/post", status=200)
    await rs.h.container.runner.catch_up("rsge_outbox")
    assert (await rs.state(invoice["id"]))["status"] == "queued"
    await rs.service.deliver_due()
    state = await rs.state(invoice["id"])
    assert state["status"] == "sent", state
    held = rs.sandbox.state.invoices[state["rs_id"]]
    assert [(x["goods"], x["full_amount"], x["drg_amount"]) for x in held["lines"]] == [
        ("Oak planks", Decimal("295.00"), Decimal("45.00")),
        ("Delivery", Decimal("236.00"), Decimal("36.00"))]

    # A credit note for the delivery (1 × 100.00 + 18.00 VAT = 118.00): the correction
    # carries the corrected invoice: planks 295.00 and delivery 236.00 − 118.00 = 118.00.
    note = await _post(rs, f"/sales-invoices/{invoice['id']}/credit-note", {
        "date": "2026-12-05", "lines": [{"description": "Delivery", "quantity": "1",
                                         "unit_price": "100.00", "vat_code": "vat18"}]})
    await rs.h.container.runner.catch_up("rsge_outbox")
    await rs.service.deliver_due()
    state = await rs.state(note["id"])
    assert state["status"] == "sent", state
    assert state["kind"] == "correction"
    correction = rs.sandbox.state.invoices[state["rs_id"]]
    assert correction["k_type"] == 3
    assert [(x["goods"], x["full_amount"], x["drg_amount"]) for x in correction["lines"]] == [
        ("Oak planks", Decimal("295.00"), Decimal("45.00")),
        ("Delivery", Decimal("118.00"), Decimal("18.00"))]


async def test_supplier_invoice_matches_the_bill_entered_by_hand(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    supplier = await _post(rs, "/rs/counterparties", {"tax_id": SUPPLIER_TIN})
    # The bill: 500.00 net + 90.00 VAT = 590.00, the supplier's number "ეა-07 7001".
    bill = await _post(rs, "/purchase-bills", {
        "supplier_id": supplier["id"], "date": "2026-12-02",
        "supplier_reference": "ეა-07 7001", "lines": [
            {"description": "Timber", "quantity": "1", "unit_price": "500.00",
             "vat_code": "vat18", "account_code": "1610"}]})
    await _post(rs, f"/purchase-bills/{bill['id']}/post", status=200)
    rs.sandbox.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                       date="2026-12-02T00:00:00", number=7001, series="ეა-07",
                       lines=[{"goods": "Timber", "full_amount": "590.00", "vat": "90.00"}])
    other = rs.sandbox.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                               date="2026-12-04T00:00:00",
                               lines=[{"goods": "Glue", "full_amount": "118.00",
                                       "vat": "18.00"}])
    # Posting the bill put its 90.00 VAT on 3340 (billing's journal).
    assert await rs.books.balance("3340") == "90.00"
    result = await _post(rs, "/rs/sync", status=202)
    assert result["matched"] == 1
    r = await rs.h.client.get(rs.url("/rs/incoming-invoices"), headers=rs.books.clerk)
    by_bill = {row["bill_id"]: row for row in r.json()}
    matched = by_bill[bill["id"]]
    assert matched["match"] == "exact"
    # Not yet confirmed on rs.ge: the 90.00 waits on 3344.
    assert matched["vat_held"] == "90.00"
    assert await rs.books.balance("3340") == "0.00"
    assert await rs.books.balance("3344") == "90.00"
    # A second sync holds nothing twice.
    await _post(rs, "/rs/sync", status=202)
    assert await rs.books.balance("3344") == "90.00"
    r = await rs.h.client.post(rs.url(f"/rs/incoming-invoices/{matched['rs_id']}/confirm"),
                               headers=rs.books.chief)
    assert r.status_code == 200, r.text
    assert r.json()["vat_held"] == "0.00"
    assert await rs.books.balance("3340") == "90.00"
    assert await rs.books.balance("3344") == "0.00"

    # The other becomes a draft bill of 100.00 + 18.00 VAT.
    drafted = await _post(rs, f"/rs/incoming-invoices/{other['rs_id']}/draft-bill")
    r = await rs.h.client.get(rs.url(f"/purchase-bills/{drafted['bill_id']}"),
                              headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "draft"
    assert r.json()["total"] == "118.00"


async def test_counterparty_from_an_unknown_tax_id(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    r = await rs.h.client.post(rs.url("/rs/counterparties"), headers=rs.books.clerk,
                               json={"tax_id": "999999999"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "rs_refused"
    first = await _post(rs, "/rs/counterparties", {"tax_id": "445566778"})
    assert first["vat_payer"] is False
    r = await rs.h.client.post(rs.url("/rs/counterparties"), headers=rs.books.clerk,
                               json={"tax_id": "445566778"})
    assert r.status_code == 409
