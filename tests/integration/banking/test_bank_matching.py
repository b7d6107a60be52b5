"""Suggestions and reconciling to documents, against a stand-in of billing's open items
and payment flow (``BankingService.open_item_sources`` and ``.payments``, the hooks the
billing context fills in its ``connect``). The stand-in posts its payment through the
ledger's posting port, as billing's does; what is tested is banking's side: the ranking,
the checks, the line's state and what reaches the books.

Open documents of the customer Kolkheti Foods (tax id 204567890):
INV-2026-0017 1,180.00; INV-2026-0018 1,180.00 (another customer); INV-2026-0020 500.00
and INV-2026-0021 680.00 (Kolkheti, 500.00 + 680.00 = 1,180.00). A bill of 850.00 from
Vake Estates (405000111) is settled by money out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from bank_files import CUSTOMER_IBAN, Entry, camt053
from ledger_harness import Books, Harness, expect_problem

from saldo.banking.service import BankingService, OpenItem
from saldo.kernel.ids import new_id
from saldo.ledger.service import JournalDraft, LedgerService, LineDraft, SourceRef
from saldo.platform.db import Connection
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration

KOLKHETI, OTHER_CUSTOMER, VAKE = new_id(), new_id(), new_id()
INV17, INV18, INV20, INV21, BILL = (new_id() for _ in range(5))


class StandIn:
    """Open items and payments, kept in memory per company."""

    def __init__(self, ledger: LedgerService, due: dict[UUID, Decimal]) -> None:
        self.ledger, self.due = ledger, due
        self.payments: dict[UUID, tuple[UUID, dict[UUID, Decimal]]] = {}

    def items(self) -> list[OpenItem]:
        def inv(doc: UUID, number: str, party: UUID, tax_id: str, direction: str = "in",
                kind: str = "sales_invoice") -> OpenItem:
            return OpenItem(doc, kind, number, party, date(2026, 3, 1), date(2026, 3, 31),
                            "GEL", self.due[doc], direction, tax_id)

        return [i for i in (
            inv(INV17, "INV-2026-0017", KOLKHETI, "204567890"),
            inv(INV18, "INV-2026-0018", OTHER_CUSTOMER, "401000222"),
            inv(INV20, "INV-2026-0020", KOLKHETI, "204567890"),
            inv(INV21, "INV-2026-0021", KOLKHETI, "204567890"),
            inv(BILL, "VE-88", VAKE, "405000111", "out", "purchase_bill"),
        ) if i.amount_due > 0]

    async def source(self, conn: Connection, company_id: UUID) -> Sequence[OpenItem]:
        return self.items()

    async def pay(self, uow: UnitOfWork, *, counterparty_id: UUID, day: date, direction: str,
                  amount: Decimal, currency: str, account_code: str,
                  allocations: Sequence[tuple[UUID, Decimal]], reference: str
                  ) -> tuple[UUID, UUID]:
        ledger = self.ledger
        other = "1410" if direction == "in" else "3110"
        lines = ([LineDraft(account_code, debit=amount),
                  LineDraft(other, credit=amount, counterparty_id=counterparty_id)]
                 if direction == "in" else
                 [LineDraft(other, debit=amount, counterparty_id=counterparty_id),
                  LineDraft(account_code, credit=amount)])
        payment_id = new_id()
        posted = await ledger.post_journal(uow, JournalDraft(
            day, "Payment", lines, SourceRef("payment", payment_id), reference or None))
        for doc, value in allocations:
            self.due[doc] -= value
        self.payments[payment_id] = (posted.id, dict(allocations))
        return payment_id, posted.id

    async def cancel(self, uow: UnitOfWork, payment_id: UUID, reason: str) -> UUID | None:
        transaction_id, allocations = self.payments.pop(payment_id)
        for doc, value in allocations.items():
            self.due[doc] += value
        return (await self.ledger.reverse_journal(uow, transaction_id, reason)).id


@pytest.fixture
def stand_in(h: Harness) -> StandIn:
    banking: BankingService = h.container.services["banking"]
    fake = StandIn(h.container.ledger, {
        INV17: Decimal("1180.00"), INV18: Decimal("1180.00"), INV20: Decimal("500.00"),
        INV21: Decimal("680.00"), BILL: Decimal("850.00")})
    banking.open_item_sources.append(fake.source)
    banking.payments = fake
    return fake


STATEMENT = [
    Entry("1180.00", date(2026, 3, 5), "Payment for INV-2026-0017", "B-1", "",
          "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890"),
    Entry("1180.00", date(2026, 3, 9), "Kolkheti March deliveries", "B-2", "",
          "Kolkheti Foods LLC", CUSTOMER_IBAN, "204567890"),
    Entry("-850.00", date(2026, 3, 10), "Rent VE-88", "B-3", "", "Vake Estates", "",
          "405000111"),
    Entry("-2.50", date(2026, 3, 10), "Commission", "B-4"),
]


async def imported(books: Books) -> list[dict[str, Any]]:
    r = await books.h.client.post(
        books.url("/bank-statements"), params={"account_code": "1210"},
        files={"file": ("march.xml", camt053(STATEMENT), "application/xml")},
        headers=books.clerk)
    assert r.status_code == 201, r.text
    r = await books.h.client.get(books.url("/bank-statements/lines"),
                                 params={"status": "unreconciled"}, headers=books.clerk)
    return list(r.json())


def ranked(line: dict[str, Any]) -> list[tuple[str, int]]:
    return [(s["number"], s["score"]) for s in line["suggestions"]]


async def test_suggestions_are_ranked(h: Harness, stand_in: StandIn) -> None:
    books = await h.books()
    first, second, rent, fee = await imported(books)
    # INV-17: number 50 + tax id 25 + exact amount 20 + date 5 = 100. Kolkheti's other
    # invoices: party 25 + date 5 = 30 each. INV-18 (another customer, same amount):
    # amount 20 + date 5 - 5 (one of two equal amounts) = 20.
    assert ranked(first) == [("INV-2026-0017", 100), ("INV-2026-0020", 30),
                             ("INV-2026-0021", 30), ("INV-2026-0018", 20)]
    assert first["suggestions"][0]["kind"] == "sales_invoice"
    assert first["suggestions"][0]["amount_due"] == "1180.00"
    # The bill, by its number, the supplier's tax id and the amount: 50 + 25 + 20 + 5.
    assert ranked(rent) == [("VE-88", 100)]
    assert fee["suggestions"] == []
    assert second["suggestions"][0]["number"] == "INV-2026-0017"


async def test_reconcile_to_documents_and_back(h: Harness, stand_in: StandIn) -> None:
    books = await h.books()
    first, second, *_ = await imported(books)
    url = books.url(f"/bank-statements/lines/{first['id']}")
    r = await h.client.post(f"{url}/reconcile", headers=books.clerk, json={
        "allocations": [{"document_id": str(INV17), "amount": "1180.00"}]})
    assert r.status_code == 200, r.text
    assert r.json()["payment_id"] is not None
    assert stand_in.due[INV17] == 0
    assert await books.balance("1410") == "-1180.00"
    assert await books.balance("1210") == "1180.00"
    # INV-17 is paid: the other line no longer suggests it; what is left for it is
    # Kolkheti's two invoices that together make 1,180.00.
    r = await h.client.get(books.url(f"/bank-statements/lines/{second['id']}"),
                           headers=books.clerk)
    assert "INV-2026-0017" not in [s["number"] for s in r.json()["suggestions"]]
    # Several documents for one line.
    r = await h.client.post(books.url(f"/bank-statements/lines/{second['id']}/reconcile"),
                            headers=books.clerk, json={"allocations": [
                                {"document_id": str(INV20), "amount": "500.00"},
                                {"document_id": str(INV21), "amount": "680.00"}]})
    assert r.status_code == 200, r.text
    r = await h.client.get(books.url(f"/bank-statements/lines/{second['id']}"),
                           headers=books.clerk)
    assert sorted(a["amount"] for a in r.json()["allocations"]) == ["500.00", "680.00"]
    # Unreconcile the first: the payment is cancelled, the invoice open again.
    r = await h.client.post(f"{url}/unreconcile", headers=books.clerk)
    assert r.status_code == 200, r.text
    assert stand_in.due[INV17] == Decimal("1180.00")
    assert await books.balance("1210") == "1180.00"  # 1,180.00 in again from line two


async def test_allocations_are_checked(h: Harness, stand_in: StandIn) -> None:
    books = await h.books()
    first, _, rent, _ = await imported(books)
    url = books.url(f"/bank-statements/lines/{first['id']}/reconcile")
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": str(INV20), "amount": "600.00"}]})
    expect_problem(r, 422, "over_allocation")  # 500.00 is due
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": str(INV17), "amount": "1180.00"},
                        {"document_id": str(INV20), "amount": "500.00"}]})
    expect_problem(r, 422, "over_allocation")  # 1,680.00 of a 1,180.00 line
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": str(BILL), "amount": "850.00"}]})
    expect_problem(r, 422, "invalid_reconciliation")  # a bill is not paid by money in
    r = await h.client.post(url, headers=books.clerk, json={
        "allocations": [{"document_id": str(INV17), "amount": "1180.00"}],
        "account_code": "7492"})
    expect_problem(r, 422, "invalid_reconciliation")
    r = await h.client.post(
        books.url(f"/bank-statements/lines/{rent['id']}/reconcile"), headers=books.clerk,
        json={"allocations": [{"document_id": str(BILL), "amount": "850.00"}]})
    assert r.status_code == 200, r.text
    assert await books.balance("3110") == "850.00"
    assert stand_in.due[BILL] == 0
