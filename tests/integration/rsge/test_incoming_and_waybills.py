"""Incoming e-invoices matched to purchase bills, waybills' lifecycle, tax-id look-ups,
and the service password kept out of responses, logs and the event store."""

from __future__ import annotations

import logging
from decimal import Decimal
from uuid import uuid4

import pytest
from ledger_harness import expect_problem
from rsge_harness import BUYER_TIN, COMPANY_TIN, SUPPLIER_TIN, Rs

from saldo.rsge.domain import BillCandidate, WaybillLine


async def test_incoming_invoice_matched_to_its_bill(rs: Rs) -> None:
    await rs.set_credentials()
    # The supplier issues two invoices to the company on rs.ge: 590.00 (500 + 90 VAT) and
    # 236.00 (200 + 36 VAT). The accountant entered the first as bill "ეა-07 7001".
    first = rs.sandbox.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                               date="2026-12-02T00:00:00", number=7001, series="ეა-07",
                               lines=[{"goods": "Timber", "full_amount": "590.00",
                                       "vat": "90.00"}])
    second = rs.sandbox.control("incoming", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                                date="2026-12-03T00:00:00",
                                lines=[{"goods": "Paint", "full_amount": "236.00",
                                        "vat": "36.00"}])
    bill = uuid4()
    rs.billing.bills = [
        BillCandidate(bill, SUPPLIER_TIN, "ეა-07 7001", Decimal("590.00")),
        # Same supplier, a different amount: not a match for either invoice.
        BillCandidate(uuid4(), SUPPLIER_TIN, "X-1", Decimal("100.00")),
    ]
    r = await rs.h.client.post(rs.url("/rs/sync"), headers=rs.books.clerk)
    assert r.status_code == 202, r.text
    assert r.json() == {"invoices": 2, "matched": 1, "waybills": 0, "findings": []}

    r = await rs.h.client.get(rs.url("/rs/incoming-invoices"), headers=rs.books.clerk)
    rows = {row["rs_id"]: row for row in r.json()}
    matched, unmatched = rows[first["rs_id"]], rows[second["rs_id"]]
    assert matched["bill_id"] == str(bill)
    assert matched["match"] == "exact"
    assert matched["total"] == "590.00"
    assert matched["vat"] == "90.00"
    assert matched["supplier_name"] == "შპს თბილისის მომწოდებელი"
    assert unmatched["bill_id"] is None
    assert unmatched["match"] == "unmatched"

    # The unmatched one is offered as a draft bill.
    r = await rs.h.client.post(rs.url(f"/rs/incoming-invoices/{second['rs_id']}/draft-bill"),
                               headers=rs.books.clerk)
    assert r.status_code == 201, r.text
    assert rs.billing.drafted[0].total == Decimal("236.00")

    # A second sync changes nothing (the match stays; no duplicates).
    r = await rs.h.client.post(rs.url("/rs/sync"), headers=rs.books.clerk)
    assert r.json()["invoices"] == 2
    r = await rs.h.client.get(rs.url("/rs/incoming-invoices"), headers=rs.books.clerk)
    assert len(r.json()) == 2

    # The chief accountant confirms the first on rs.ge and rejects the second.
    r = await rs.h.client.post(rs.url(f"/rs/incoming-invoices/{first['rs_id']}/confirm"),
                               headers=rs.books.chief)
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "confirmed"
    assert rs.sandbox.state.invoices[first["rs_id"]]["status"] == 2
    r = await rs.h.client.post(rs.url(f"/rs/incoming-invoices/{second['rs_id']}/reject"),
                               headers=rs.books.chief, json={"reason": "Wrong price"})
    assert r.status_code == 200, r.text
    assert rs.sandbox.state.invoices[second["rs_id"]]["status"] == 0
    r = await rs.h.client.post(rs.url(f"/rs/incoming-invoices/{first['rs_id']}/confirm"),
                               headers=rs.books.chief)
    expect_problem(r, 409)
    # The accountant may not decide (documents:approve).
    r = await rs.h.client.post(rs.url("/rs/incoming-invoices/1/confirm"),
                               headers=rs.books.clerk)
    expect_problem(r, 403)


async def test_sync_with_rs_ge_down_is_a_502_not_a_500(rs: Rs) -> None:
    await rs.set_credentials()
    rs.sandbox.fault("html")
    r = await rs.h.client.post(rs.url("/rs/sync"), headers=rs.books.clerk)
    body = expect_problem(r, 502, "rs_unavailable")
    assert "not a SOAP answer" in body["detail"]


async def test_waybill_lifecycle_from_a_sales_invoice(rs: Rs) -> None:
    await rs.set_credentials()
    doc = rs.billing.invoice(("Timber", "590.00", "90.00"))
    # 10 m³ × 50.00 = 500.00 and 4 × 12.345 = 49.38 (49.380, half-up to the tetri).
    rs.billing.goods[doc] = [WaybillLine("Timber", 99, "მ³", Decimal(10), Decimal("50.00"), "T-1"),
                             WaybillLine("Nails", 99, "ყუთი", Decimal(4), Decimal("12.345"),
                                         "N-1")]
    body = {"document_id": str(doc), "type": 2, "buyer_tax_id": BUYER_TIN,
            "buyer_name": "შპს ბათუმის ვაჭრობა", "start_address": "თბილისი, წერეთლის 1",
            "end_address": "ბათუმი, ჭავჭავაძის 5", "transport_type": 1,
            "driver_tax_id": "01024012345", "driver_name": "გიორგი ბერიძე",
            "car_number": "AA-123-BB"}
    r = await rs.h.client.post(rs.url("/rs/waybills"), headers=rs.books.clerk, json=body)
    assert r.status_code == 201, r.text
    waybill = r.json()
    assert waybill["status"] == "saved"
    assert waybill["total"] == "549.38"  # 500.00 + 49.38
    held = rs.sandbox.state.waybills[waybill["rs_id"]]
    assert len(held["goods"]) == 2
    assert held["data"]["CAR_NUMBER"] == "AA-123-BB"

    for action, status in (("activate", "active"), ("close", "closed")):
        r = await rs.h.client.post(rs.url(f"/rs/waybills/{waybill['id']}/{action}"),
                                   headers=rs.books.clerk)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    assert r.json()["number"]  # rs.ge's number, given on activation
    assert held["status"] == 2
    r = await rs.h.client.post(rs.url(f"/rs/waybills/{waybill['id']}/activate"),
                               headers=rs.books.clerk)
    expect_problem(r, 409)
    r = await rs.h.client.post(rs.url(f"/rs/waybills/{waybill['id']}/cancel"),
                               headers=rs.books.clerk)
    assert r.json()["status"] == "cancelled"


async def test_waybill_rules_checked_before_rs_ge(rs: Rs) -> None:
    await rs.set_credentials()
    body = {"type": 2, "buyer_tax_id": "12345", "start_address": "A", "end_address": "B",
            "transport_type": 1, "lines": [
                {"name": "X", "quantity": "0", "price": "-1", "bar_code": "1"},
                {"name": "Y", "quantity": "1", "price": "1", "bar_code": "1"}]}
    r = await rs.h.client.post(rs.url("/rs/waybills"), headers=rs.books.clerk, json=body)
    problem = expect_problem(r, 422)
    assert "9 or 11 digits" in problem["detail"]
    assert "car_number is required" in problem["detail"]
    assert "bar codes must not repeat" in problem["detail"]
    assert "line 1: quantity" in problem["detail"]
    assert not rs.sandbox.state.waybills


async def test_incoming_waybill_confirmed(rs: Rs) -> None:
    await rs.set_credentials()
    rs.sandbox.control("incoming-waybill", seller_tin=SUPPLIER_TIN, buyer_tin=COMPANY_TIN,
                       amount="590.00")
    r = await rs.h.client.post(rs.url("/rs/sync"), headers=rs.books.clerk)
    assert r.json()["waybills"] == 1
    r = await rs.h.client.get(rs.url("/rs/waybills"), params={"direction": "incoming"},
                              headers=rs.books.clerk)
    (waybill,) = r.json()
    assert waybill["status"] == "active"
    assert waybill["seller_tax_id"] == SUPPLIER_TIN
    assert waybill["total"] == "590.00"
    r = await rs.h.client.post(rs.url(f"/rs/waybills/{waybill['id']}/confirm"),
                               headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["buyer_decision"] == "confirmed"
    assert rs.sandbox.state.waybills[waybill["rs_id"]]["buyer_decision"] == "confirmed"


async def test_tax_id_look_up(rs: Rs) -> None:
    r = await rs.h.client.get(rs.url(f"/rs/taxpayers/{BUYER_TIN}"), headers=rs.books.clerk)
    expect_problem(r, 422, "rs_credentials_missing")
    await rs.set_credentials()
    r = await rs.h.client.get(rs.url(f"/rs/taxpayers/{BUYER_TIN}"), headers=rs.books.clerk)
    assert r.json() == {"tax_id": BUYER_TIN, "name": "შპს ბათუმის ვაჭრობა", "vat_payer": True}
    r = await rs.h.client.get(rs.url("/rs/taxpayers/445566778"), headers=rs.books.clerk)
    assert r.json()["vat_payer"] is False
    r = await rs.h.client.get(rs.url("/rs/taxpayers/999999999"), headers=rs.books.clerk)
    expect_problem(r, 422, "rs_refused")
    r = await rs.h.client.get(rs.url("/rs/taxpayers/12ab"), headers=rs.books.clerk)
    expect_problem(r, 422)


async def test_password_never_in_responses_logs_or_events(
        rs: Rs, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "Zq8-very-secret-rs-password"
    rs.sandbox.control("users", su="acme-su", sp=secret, tin=COMPANY_TIN)
    caplog.set_level(logging.DEBUG)
    r = await rs.h.client.put(rs.url("/rs-credentials"), headers=rs.books.chief,
                              json={"service_user": "acme-su", "service_password": secret})
    assert r.status_code == 204
    r = await rs.h.client.get(rs.url("/rs-credentials"), headers=rs.books.clerk)
    assert r.json()["service_user"] == "acme-su"
    assert secret not in r.text
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"))
    await rs.queue(doc)
    await rs.service.deliver_due()
    assert (await rs.state(doc))["status"] == "sent"
    rs.sandbox.fault("fault")
    r = await rs.h.client.post(rs.url("/rs/sync"), headers=rs.books.clerk)
    assert secret not in r.text

    async with rs.h.container.db.transaction() as conn:
        cursor = await conn.execute("SELECT data::text AS d, metadata::text AS m FROM events")
        for row in await cursor.fetchall():
            assert secret not in row["d"]
            assert secret not in row["m"]
        cursor = await conn.execute("SELECT secret FROM rs_credentials")
        stored = bytes((await cursor.fetchone())["secret"])
        assert secret.encode() not in stored
    assert secret not in caplog.text
    assert secret not in capsys.readouterr().out
    # Only the owner: the app role of another company sees no credentials row.
    other = await rs.h.other_books("b")
    r = await rs.h.client.get(f"/api/v1/companies/{other.company_id}/rs-credentials",
                              headers=other.clerk)
    assert r.json()["configured"] is False
