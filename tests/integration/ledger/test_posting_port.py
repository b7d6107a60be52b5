"""The ledger's posting port and the unit of work, at the service layer (no HTTP).

A context that makes journal entries (an invoice, a payroll run) appends its own events
and calls ``LedgerService.post_journal`` in the same unit of work: both commit, or neither.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from ledger_harness import Books, Harness, journal_state

from saldo.identity.domain import Permission
from saldo.kernel.errors import ConcurrencyError, SaldoError
from saldo.kernel.events import Actor, DomainEvent
from saldo.kernel.ids import new_id
from saldo.ledger import domain as d
from saldo.ledger.service import (
    FX_DIFFERENCE,
    JournalDraft,
    LedgerService,
    LineDraft,
    PostedJournal,
    SourceRef,
)
from saldo.platform.eventstore import NO_STREAM
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration

CUSTOMER = UUID("01900000-0000-7000-8000-000000000001")


@dataclasses.dataclass(frozen=True, slots=True)
class InvoicePosted(DomainEvent):
    """A stand-in document event of a context that is not the ledger."""

    invoice_id: UUID
    total: Decimal


def sale(invoice_id: UUID, day: str = "2026-03-15") -> JournalDraft:
    """Invoice INV-17: 1,000.00 net + 180.00 VAT to the customer."""
    return JournalDraft(
        date=date.fromisoformat(day), description="Invoice INV-17", reference="INV-17",
        source=SourceRef("sales_invoice", invoice_id),
        lines=[LineDraft("1410", debit=Decimal("1180.00"), counterparty_id=CUSTOMER,
                         document_id=invoice_id),
               LineDraft("6110", credit=Decimal("1000.00"), document_id=invoice_id),
               LineDraft("3330", credit=Decimal("180.00"), document_id=invoice_id)])


async def clerk(h: Harness, books: Books) -> Actor:
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.TRANSACTIONS_WRITE)
    return Actor(ctx.user.id, ctx.user.username)


@pytest.fixture
def ledger(h: Harness) -> LedgerService:
    return h.container.ledger


def document_flow(ledger: LedgerService, invoice_id: UUID
                  ) -> Callable[[UnitOfWork], Awaitable[PostedJournal]]:
    """A stand-in billing use case: the invoice's event, then its journal transaction."""

    async def use_case(uow: UnitOfWork) -> PostedJournal:
        await uow.append(f"billing.invoice-{invoice_id}", "billing.invoice", NO_STREAM,
                         [InvoicePosted(invoice_id, Decimal("1180.00"))])
        return await ledger.post_journal(uow, sale(invoice_id))

    return use_case


async def test_a_document_and_its_journal_transaction_commit_together(
        h: Harness, ledger: LedgerService) -> None:
    books = await h.books()
    actor = await clerk(h, books)
    invoice_id = new_id()

    posted = await h.container.units.run(
        books.company_id, actor, document_flow(ledger, invoice_id))

    tx = await books.get(str(posted.id))
    assert tx["status"] == "posted"
    assert tx["number"] == 1
    assert tx["source"] == {"type": "sales_invoice", "id": str(invoice_id)}
    assert tx["created_by"] == "clerk"
    assert [(e["account_code"], e["counterparty_id"], e["document_id"])
            for e in tx["entries"]] == [("1410", str(CUSTOMER), str(invoice_id)),
                                        ("6110", None, str(invoice_id)),
                                        ("3330", None, str(invoice_id))]
    assert await books.balance("1410") == "1180.00"
    # The sub-ledger's keys reach the journal lines: receivables per customer are a sum.
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT sum(debit_base - credit_base) AS due FROM journal_lines"
            " WHERE company_id = %s AND counterparty_id = %s", (books.company_id, CUSTOMER))
        row = await cursor.fetchone()
        assert row is not None
        assert row["due"] == Decimal("1180.00")
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM events WHERE company_id = %s AND stream_id = %s",
            (books.company_id, f"billing.invoice-{invoice_id}"))
        assert (await cursor.fetchone() or {})["n"] == 1


async def test_a_failure_after_posting_leaves_neither_the_document_nor_the_journal(
        h: Harness, ledger: LedgerService) -> None:
    books = await h.books()
    actor = await clerk(h, books)
    await books.post([("1110", "10.00", ""), ("5150", "", "10.00")])  # the year is open
    before = await journal_state(h, books.company_id)

    class LastStepFailed(Exception):
        pass

    async def use_case(uow: UnitOfWork) -> None:
        await document_flow(ledger, new_id())(uow)
        raise LastStepFailed  # e.g. the document's own read model refused a duplicate

    with pytest.raises(LastStepFailed):
        await h.container.units.run(books.company_id, actor, use_case)

    assert await journal_state(h, books.company_id) == before
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM events WHERE company_id = %s"
                                    " AND stream_type = 'billing.invoice'", (books.company_id,))
        assert (await cursor.fetchone() or {})["n"] == 0
    # The number given back: the next posting still gets No. 2.
    posted = await h.container.units.run(
        books.company_id, actor, document_flow(ledger, new_id()))
    assert posted.number == 2


async def test_a_conflict_retries_the_whole_use_case(h: Harness, ledger: LedgerService) -> None:
    books = await h.books()
    actor = await clerk(h, books)
    invoice_id = new_id()
    runs: list[int] = []

    async def use_case(uow: UnitOfWork) -> PostedJournal:
        runs.append(len(runs) + 1)
        posted = await document_flow(ledger, new_id() if len(runs) > 1 else invoice_id)(uow)
        if len(runs) == 1:  # a concurrent writer took the document's stream meanwhile
            raise ConcurrencyError(f"billing.invoice-{invoice_id}", 0, 1)
        return posted

    posted = await h.container.units.run(books.company_id, actor, use_case)
    assert runs == [1, 2]
    # The first attempt's journal transaction was rolled back with it: one posting, No. 1.
    assert posted.number == 1
    state = await journal_state(h, books.company_id)
    assert state["journal_transactions"][0] == 1


async def test_concurrent_document_flows_get_consecutive_numbers(
        h: Harness, ledger: LedgerService) -> None:
    books = await h.books()
    actor = await clerk(h, books)
    results = await asyncio.gather(*(
        h.container.units.run(books.company_id, actor,
                              document_flow(ledger, new_id()))
        for _ in range(8)))
    assert sorted(p.number for p in results) == list(range(1, 9))
    assert await books.balance("1410") == "9440.00"


@pytest.mark.parametrize(("lines", "code"), [
    # Unbalanced in GEL.
    ([LineDraft("1410", debit=Decimal("100.00")), LineDraft("6110", credit=Decimal("99.00"))],
     "unbalanced_transaction"),
    # A header account.
    ([LineDraft("1400", debit=Decimal("100.00")), LineDraft("6110", credit=Decimal("100.00"))],
     "non_postable_account"),
    # An inactive account (3370, social tax, abolished in 2008).
    ([LineDraft("3370", debit=Decimal("100.00")), LineDraft("1210", credit=Decimal("100.00"))],
     "inactive_account"),
    # An exchange difference in a base-currency transaction must be one-sided and GEL only.
    ([LineDraft("1410", debit=Decimal("5.00"), kind=FX_DIFFERENCE),
      LineDraft("8140", credit=Decimal("5.00"))], "invalid_entry"),
])
async def test_the_port_applies_every_ledger_rule(h: Harness, ledger: LedgerService,
                                                  lines: list[LineDraft], code: str) -> None:
    books = await h.books()
    actor = await clerk(h, books)
    before = await journal_state(h, books.company_id)
    draft = JournalDraft(date(2026, 3, 15), "Bad", lines, SourceRef("test", new_id()))
    with pytest.raises(SaldoError) as caught:
        await h.container.units.run(books.company_id, actor,
                                    lambda uow: ledger.post_journal(uow, draft))
    assert getattr(caught.value, "code", None) == code, caught.value
    after = await journal_state(h, books.company_id)
    assert after["journal_transactions"] == before["journal_transactions"]
    assert after["journal_lines"] == before["journal_lines"]


async def test_the_port_refuses_a_closed_period(h: Harness, ledger: LedgerService) -> None:
    books = await h.books()
    actor = await clerk(h, books)
    r = await h.client.post(books.url("/fiscal-periods/2026-03/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    with pytest.raises(d.PeriodClosed):
        await h.container.units.run(
            books.company_id, actor, document_flow(ledger, new_id()))
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM events WHERE company_id = %s"
                                    " AND stream_type = 'billing.invoice'", (books.company_id,))
        assert (await cursor.fetchone() or {})["n"] == 0


async def test_a_realised_exchange_difference_clears_the_receivable(
        h: Harness, ledger: LedgerService) -> None:
    """USD 100 invoiced at 2.7000 (270.00 GEL) and paid at 2.7500 (275.00 GEL): the bank
    gets 275.00, the receivable is credited 275.00 in the payment's rate, and two exchange
    difference lines of 5.00 GEL take the receivable back to 270.00 and book the gain
    (IAS 21.28). Afterwards 1410 is 0.00 in GEL and in USD."""
    books = await h.books()
    actor = await clerk(h, books)
    invoice_id = new_id()
    usd = "USD"

    async def invoice(uow: UnitOfWork) -> PostedJournal:
        return await ledger.post_journal(uow, JournalDraft(
            date(2026, 3, 10), "Export invoice", source=SourceRef("sales_invoice", invoice_id),
            currency=usd, exchange_rate=Decimal("2.7000"),
            lines=[LineDraft("1410", debit=Decimal("100.00"), counterparty_id=CUSTOMER,
                             document_id=invoice_id),
                   LineDraft("6115", credit=Decimal("100.00"), document_id=invoice_id)]))

    async def payment(uow: UnitOfWork) -> PostedJournal:
        payment_id = new_id()
        return await ledger.post_journal(uow, JournalDraft(
            date(2026, 3, 20), "Payment received", source=SourceRef("payment", payment_id),
            currency=usd, exchange_rate=Decimal("2.7500"),
            lines=[LineDraft("1220", debit=Decimal("100.00")),
                   LineDraft("1410", credit=Decimal("100.00"), counterparty_id=CUSTOMER,
                             document_id=invoice_id),
                   LineDraft("1410", debit_base=Decimal("5.00"), kind=FX_DIFFERENCE,
                             counterparty_id=CUSTOMER, document_id=invoice_id),
                   LineDraft("8140", credit_base=Decimal("5.00"), kind=FX_DIFFERENCE)]))

    await h.container.units.run(books.company_id, actor, invoice)
    paid = await h.container.units.run(books.company_id, actor, payment)

    assert await books.balance("1410") == "0.00"
    assert await books.balance("1220") == "275.00"
    assert await books.balance("8140") == "-5.00"
    tx = await books.get(str(paid.id))
    assert [(e["account_code"], e["debit"], e["credit"], e["debit_base"], e["credit_base"],
             e["kind"]) for e in tx["entries"]] == [
        ("1220", "100.00", "0.00", "275.00", "0.00", "regular"),
        ("1410", "0.00", "100.00", "0.00", "275.00", "regular"),
        ("1410", "0.00", "0.00", "5.00", "0.00", "fx_difference"),
        ("8140", "0.00", "0.00", "0.00", "5.00", "fx_difference")]
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT sum(amount_debit - amount_credit) AS usd,"
            "       sum(debit_base - credit_base) AS gel"
            "  FROM journal_lines WHERE company_id = %s AND account_code = '1410'"
            "   AND document_id = %s", (books.company_id, invoice_id))
        row = await cursor.fetchone()
        assert row is not None
        assert (row["usd"], row["gel"]) == (Decimal("0.00"), Decimal("0.00"))


async def test_a_person_cannot_type_an_exchange_difference(h: Harness) -> None:
    books = await h.books()
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.TRANSACTIONS_WRITE)
    raw = d.ContentInput(date(2026, 3, 15), "Plug", [
        d.LineDraft("1220", debit="100.00"), d.LineDraft("1410", credit="100.00"),
        d.LineDraft("8140", credit_base="50.00", kind=FX_DIFFERENCE),
        d.LineDraft("1410", debit_base="50.00", kind=FX_DIFFERENCE)],
        currency="USD", exchange_rate="2.70")
    with pytest.raises(d.InvalidLine):
        await h.container.ledger.draft(ctx, raw)


async def test_the_approval_rule_holds_at_the_service_layer(h: Harness) -> None:
    """Maker-checker is the domain's rule, not the HTTP layer's: the author of a draft
    cannot approve it through the service either."""
    books = await h.books()
    ctx = await h.container.identity.member_context(books.company_id, "chief",
                                                    Permission.TRANSACTIONS_APPROVE)
    tx, _ = await h.container.ledger.draft(ctx, d.ContentInput(
        date(2026, 3, 15), "Own draft", [d.LineDraft("1110", debit="10.00"),
                                         d.LineDraft("5150", credit="10.00")]))
    with pytest.raises(d.SegregationOfDuties):
        await h.container.ledger.approve(ctx, tx.id)
    with pytest.raises(d.InvalidState):  # and an unapproved draft is not posted
        await h.container.ledger.post(ctx, tx.id)
