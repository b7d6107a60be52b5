"""IBANs, matching and rules: the rules alone, no I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from bank_files import make_iban

from saldo.banking import domain as d

INVOICE = UUID(int=1)
OTHER = UUID(int=2)
BILL = UUID(int=3)
CUSTOMER = UUID(int=10)


def test_iban_checksum() -> None:
    # The SWIFT registry's example for Georgia (georgia.md §6).
    assert d.check_iban("GE29 NB00 0000 0101 9049 17") == "GE29NB0000000101904917"
    assert d.bank_of(make_iban("TB", "0000000123456789"))[1:] == ("TBCBGE22", "TBC Bank")
    for bad in ("GE28NB0000000101904917", "GE29NB000000010190491", "XX", "GE29NB00000001019049AB"):
        with pytest.raises(d.InvalidIban):
            d.check_iban(bad)


def item(document_id: UUID, number: str, due: str, *, tax_id: str = "",
         direction: str = "in", issued: date = date(2026, 3, 1)) -> d.OpenItem:
    return d.OpenItem(document_id, "sales_invoice" if direction == "in" else "purchase_bill",
                      number, CUSTOMER, issued, date(2026, 3, 31), "GEL", Decimal(due),
                      direction, tax_id)


def test_ranking_number_beats_amount() -> None:
    items = [item(INVOICE, "INV-2026-0017", "1180.00", tax_id="204567890"),
             item(OTHER, "INV-2026-0018", "1180.00"),
             item(BILL, "BILL-9", "1180.00", direction="out")]
    line = d.StatementLine(1, date(2026, 3, 5), Decimal("1180.00"),
                           description="Payment for INV-2026-0017",
                           counterparty_tax_id="204567890")
    found = d.Matcher(items).suggest(line)
    # INV-17: number 50 + party 25 + amount 20 + date 5 = 100; INV-18: amount 20 + date 5
    # less 5 for being one of two equal amounts = 20. The bill is money out: not offered.
    assert [(s.document_id, s.score) for s in found] == [(INVOICE, 100), (OTHER, 20)]


def test_several_documents_for_one_line() -> None:
    items = [item(INVOICE, "INV-1", "500.00", tax_id="204567890"),
             item(OTHER, "INV-2", "680.00", tax_id="204567890")]
    line = d.StatementLine(1, date(2026, 3, 5), Decimal("1180.00"),
                           counterparty_tax_id="204567890")
    found = d.Matcher(items).suggest(line)
    # 500.00 + 680.00 = 1,180.00: both, each allocated in full.
    assert [(s.number, s.allocate, "sum" in s.reasons) for s in found] == [
        ("INV-1", Decimal("500.00"), True), ("INV-2", Decimal("680.00"), True)]


def test_partial_payment_allocates_the_line() -> None:
    items = [item(INVOICE, "INV-1", "1180.00")]
    line = d.StatementLine(1, date(2026, 3, 5), Decimal("500.00"), description="INV-1 part")
    [found] = d.Matcher(items).suggest(line)
    assert (found.allocate, found.amount_due) == (Decimal("500.00"), Decimal("1180.00"))


def test_allocations_checked() -> None:
    due = {INVOICE: item(INVOICE, "INV-1", "100.00")}
    with pytest.raises(d.OverAllocation):
        d.check_allocations(Decimal("200.00"), [(INVOICE, Decimal("150.00"))], due)
    with pytest.raises(d.OverAllocation):
        d.check_allocations(Decimal("50.00"), [(INVOICE, Decimal("100.00"))], due)
    with pytest.raises(d.InvalidReconciliation):
        d.check_allocations(Decimal("-100.00"), [(INVOICE, Decimal("100.00"))], due)
    d.check_allocations(Decimal("100.00"), [(INVOICE, Decimal("100.00"))], due)


def test_rules_and_learning() -> None:
    rule = d.Rule(UUID(int=5), "commission", "7490", "out")
    assert rule.matches("Commission for transfer", Decimal("-2.50"))
    assert not rule.matches("Commission refund", Decimal("2.50"))
    assert d.learned_phrase("Commission for transfer 8812") == "Commission"
    assert d.learned_phrase("12 34") is None


def test_suggestion_data_is_the_same_cached_or_not() -> None:
    items = [item(INVOICE, "INV-1", "1180.00")]
    matcher = d.Matcher(items)
    line = d.StatementLine(1, date(2026, 3, 5), Decimal("500.00"), description="INV-1")
    [found] = matcher.suggest(line)
    assert matcher.as_data(found) == found.as_data() == {
        "document_id": str(INVOICE), "kind": "sales_invoice", "number": "INV-1",
        "amount_due": "1180.00", "allocate": "500.00", "score": found.score,
        "reasons": list(found.reasons), "counterparty_id": str(CUSTOMER)}
    assert matcher.as_data(found) == found.as_data()  # from the cache
