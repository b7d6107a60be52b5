"""An accountant's month (March 2026) written as a test, every figure by hand.

Company: VAT payer. Documents:

* INV-1 to Kartuli Mebeli (2 Mar, due 16 Mar), three lines at 18%, VAT per line:
    3 × 33.33 = 99.99, VAT 17.9982 → 18.00
    1 × 10.25 = 10.25, VAT  1.845  →  1.85   (half-up)
    2 × 5.125 = 10.25, VAT  1.845  →  1.85
  net 120.49, VAT 21.70 (VAT on the total would be 21.6882 → 21.69: per line differs),
  total 142.19.
* INV-2 export to Baku Furniture (5 Mar): 5,000.00 at export0, revenue 6115.
* INV-3 exempt supply to Tbilisi Clinic (6 Mar): 800.00 exempt.
* CN-1 (10 Mar) against INV-1: 1 × 10.25 at 18% → 10.25 + 1.85 = 12.10.
* BILL-1 from Office Supply (3 Mar, ref S-77, due 2 Apr): 10 × 45.50 = 455.00 to 1610,
  VAT 81.90, total 536.90.
* BILL-2 from Cloud Ltd, Ireland (20 Mar, ref CL-1): 1,000.00 of services, reverse
  charge: Dr 7490 1,000 / Cr 3110 1,000; Dr 3343 180 / Cr 3332 180.
* Payments: Kartuli Mebeli pays 100.00 on 25 Mar (INV-1 due 142.19 − 12.10 − 100 =
  30.09, partly paid); we pay Office Supply 300.00 on 28 Mar (due 236.90).

Return for 2026-03: taxable 120.49 − 10.25 = 110.24, output VAT 21.70 − 1.85 = 19.85,
export 5,000.00, exempt 800.00, reverse charge 1,000.00 / 180.00, input VAT 81.90 + 180.00
= 261.90 on a base of 455.00 + 1,000.00 = 1,455.00, payable 19.85 + 180.00 − 261.90 =
−62.05 (an excess credit).

Ageing at 30 Apr 2026: INV-1 30.09 is 45 days late (31–60); INV-2 (due 4 Apr) 5,000.00
and INV-3 (due 5 Apr) 800.00 are 26 and 25 days late (1–30): receivables 5,830.09 =
1410's balance (142.19 + 5,000 + 800 − 12.10 − 100). Payables: BILL-1 236.90 (28 days)
and BILL-2 1,000.00 (due 19 Apr, 11 days), 1,236.90 = −(3110's balance).
"""

from __future__ import annotations

import pytest
from billing_harness import Billing, line
from ledger_harness import Harness

pytestmark = pytest.mark.integration


async def test_a_trading_month(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    kartuli = await b.counterparty("Kartuli Mebeli LLC", "205123456", vat_payer=True,
                                   iban="GE29NB0000000101904917")
    baku = await b.counterparty("Baku Furniture", "1400123456", country="AZ")
    clinic = await b.counterparty("Tbilisi Clinic", "01001012345")
    office = await b.counterparty("Office Supply LLC", "204111222", vat_payer=True)
    cloud = await b.counterparty("Cloud Ltd", "IE1234567T", country="IE")

    inv1 = await b.invoice(kartuli, "2026-03-02", [
        line("3", "33.33"), line("1", "10.25"), line("2", "5.125")], due_date="2026-03-16")
    assert [(x["net"], x["vat"]) for x in inv1["lines"]] == [
        ("99.99", "18.00"), ("10.25", "1.85"), ("10.25", "1.85")]
    assert (inv1["net_total"], inv1["vat_total"], inv1["total"]) == ("120.49", "21.70",
                                                                     "142.19")
    assert inv1["status"] == "posted"
    assert inv1["transaction_id"]
    assert inv1["number"] == "INV-2026-00001"
    inv2 = await b.invoice(baku, "2026-03-05", [line("1", "5000", "export0")])
    assert inv2["lines"][0]["account_code"] == "6115"
    inv3 = await b.invoice(clinic, "2026-03-06", [line("1", "800.00", "exempt")])
    assert inv2["number"] == "INV-2026-00002"
    assert inv3["total"] == "800.00"

    note = await b.call("POST", f"/sales-invoices/{inv1['id']}/credit-note", 201,
                        json={"date": "2026-03-10", "lines": [line("1", "10.25")]})
    assert note["total"] == "12.10"
    assert note["status"] == "posted"
    assert (await b.invoice_doc(inv1["id"]))["amount_due"] == "130.09"

    bill1 = await b.bill(office, "2026-03-03", [line("10", "45.50", "vat18", "1610")],
                         supplier_reference="S-77", due_date="2026-04-02")
    assert (bill1["vat_total"], bill1["total"]) == ("81.90", "536.90")
    bill2 = await b.bill(cloud, "2026-03-20", [line("1", "1000", "reverse_charge18", "7490")],
                         supplier_reference="CL-1")
    assert (bill2["vat_total"], bill2["total"], bill2["amount_due"]) == ("180.00", "1000.00",
                                                                        "1000.00")

    await b.pay(kartuli, "2026-03-25", "in", "100.00", [(inv1["id"], "100.00")])
    paid = await b.invoice_doc(inv1["id"])
    assert (paid["amount_due"], paid["status"]) == ("30.09", "partly_paid")
    await b.pay(office, "2026-03-28", "out", "300", [(bill1["id"], "300")])
    assert (await b.bill_doc(bill1["id"]))["amount_due"] == "236.90"

    tax = Billing(books, by="chief")
    ret = await tax.call("GET", "/tax/vat-returns/2026-03")
    assert {k: ret[k] for k in ("taxable_supplies", "output_vat", "export_supplies",
                                "exempt_supplies", "reverse_charge_base",
                                "reverse_charge_vat", "input_vat", "purchases_base",
                                "payable")} == {
        "taxable_supplies": "110.24", "output_vat": "19.85", "export_supplies": "5000.00",
        "exempt_supplies": "800.00", "reverse_charge_base": "1000.00",
        "reverse_charge_vat": "180.00", "input_vat": "261.90", "purchases_base": "1455.00",
        "payable": "-62.05"}
    assert ret["due_date"] == "2026-04-15"  # a Wednesday
    boxes = {x["box"]: (x["base"], x["vat"]) for x in ret["lines"]}
    assert boxes["1"] == ("110.24", "19.85")
    assert boxes["27"] == ("1000.00", "180.00")
    # The return's output VAT is the output VAT account's movement.
    assert await books.balance("3330", "2026-03-31") == "-19.85"
    assert await books.balance("3343", "2026-03-31") == "180.00"
    assert await books.balance("3332", "2026-03-31") == "-180.00"

    aging = await b.call("GET", "/reports/receivables-aging", params={"as_of": "2026-04-30"})
    rows = {r["name"]: r for r in aging["rows"]}
    assert rows["Kartuli Mebeli LLC"]["days_31_60"] == "30.09"
    assert rows["Baku Furniture"]["days_1_30"] == "5000.00"
    assert rows["Tbilisi Clinic"]["days_1_30"] == "800.00"
    assert aging["totals"]["total"] == "5830.09"
    assert await books.balance("1410", "2026-04-30") == "5830.09"

    payables = await b.call("GET", "/reports/payables-aging", params={"as_of": "2026-04-30"})
    assert payables["totals"] == {"not_due": "0.00", "days_1_30": "1236.90",
                                  "days_31_60": "0.00", "days_61_90": "0.00",
                                  "days_over_90": "0.00", "total": "1236.90"}
    assert await books.balance("3110", "2026-04-30") == "-1236.90"
    # As of 15 March only what was dated by then: INV-1 (not yet due), INV-2, INV-3, CN-1.
    early = await b.call("GET", "/reports/receivables-aging", params={"as_of": "2026-03-15"})
    assert early["totals"]["total"] == "5930.09"  # 142.19 + 5000 + 800 − 12.10
    assert await books.balance("1410", "2026-03-15") == "5930.09"


async def test_rebuilding_the_read_models_gives_the_same_rows(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    customer = await b.counterparty("Kartuli Mebeli LLC", "205123456")
    inv = await b.invoice(customer, "2026-03-02", [line("3", "33.33"), line("1", "10")])
    await b.call("POST", f"/sales-invoices/{inv['id']}/credit-note", 201,
                 json={"date": "2026-03-03", "lines": [line("1", "10")]})
    await b.pay(customer, "2026-03-04", "in", "150", [(inv["id"], "50")])
    # A payment with an advance (and its VAT), reversed: settlements and VAT lines undone.
    wrong = await b.pay(customer, "2026-03-04", "in", "70", [(inv["id"], "20")])
    await b.call("POST", f"/payments/{wrong['id']}/reverse",
                 json={"reason": "Wrong customer", "date": "2026-03-06"})
    await b.invoice(customer, "2026-03-05", [line("1", "1")], post=False)

    async def rows() -> dict[str, list[tuple[object, ...]]]:
        out = {}
        async with h.container.db.transaction() as conn:
            for table, order in (("counterparties", "id"), ("billing_documents", "id"),
                                 ("billing_numbers", "series"), ("billing_payments", "id"),
                                 ("vat_lines", "document_id, line_no"),
                                 ("vat_daily", "day, direction, vat_code, deductible"),
                                 ("billing_settlements", "document_id, by_document, amount")):
                cursor = await conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
                out[table] = [tuple(v for k, v in r.items() if k != "seq")
                              for r in await cursor.fetchall()]
        return out

    live = await rows()
    await h.container.runner.rebuild("billing")
    assert await rows() == live
