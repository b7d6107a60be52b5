"""Realised exchange differences (issue 12 item 3): a line kind with a GEL amount only,
allowed only to move a foreign-currency monetary item's GEL value against exchange gain or
loss -- never a free-floating plug. Worked example (docs/currencies.md, "A settlement at a
new rate"): an export invoice of USD 100.00 at 2.7000 (1410: 270.00 GEL) is paid when USD
is 2.7500 (275.00 GEL): the 5.00 GEL difference is a realised gain, and 1410 is zero."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from ledger_harness import Books, Harness

from saldo.identity.domain import Permission
from saldo.kernel.events import Actor
from saldo.kernel.ids import new_id
from saldo.ledger.service import (
    FX_DIFFERENCE,
    InvalidExchangeDifference,
    JournalDraft,
    LineDraft,
    PostedJournal,
    SourceRef,
    exchange_difference,
)
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration

CUSTOMER = UUID("01900000-0000-7000-8000-000000000002")
D = Decimal


async def actor(h: Harness, books: Books) -> Actor:
    ctx = await h.container.identity.member_context(books.company_id, "clerk",
                                                    Permission.TRANSACTIONS_WRITE)
    return Actor(ctx.user.id, ctx.user.username)


async def post(h: Harness, books: Books, draft: JournalDraft) -> PostedJournal:
    async def use_case(uow: UnitOfWork) -> PostedJournal:
        return await h.container.ledger.post_journal(uow, draft)

    return await h.container.units.run(books.company_id, await actor(h, books), use_case)


def payment(lines: list[LineDraft], currency: str = "USD", rate: str = "2.7500"
            ) -> JournalDraft:
    return JournalDraft(date(2026, 3, 20), "Payment received", lines,
                        SourceRef("payment", new_id()), currency=currency,
                        exchange_rate=D(rate))


async def test_a_settlement_at_a_new_rate(h: Harness) -> None:
    books = await h.books()
    invoice = new_id()
    await post(h, books, JournalDraft(
        date(2026, 3, 10), "Export invoice", [
            LineDraft("1410", debit=D("100.00"), counterparty_id=CUSTOMER, document_id=invoice),
            LineDraft("6115", credit=D("100.00"), document_id=invoice)],
        SourceRef("sales_invoice", invoice), currency="USD", exchange_rate=D("2.7000")))
    # Dr 1220 275.00 / Cr 1410 275.00 (USD 100.00 × 2.75); Dr 1410 5.00 / Cr 8140 5.00.
    await post(h, books, payment([
        LineDraft("1220", debit=D("100.00")),
        LineDraft("1410", credit=D("100.00"), counterparty_id=CUSTOMER, document_id=invoice),
        LineDraft("1410", debit_base=D("5.00"), kind=FX_DIFFERENCE, counterparty_id=CUSTOMER,
                  document_id=invoice),
        LineDraft("8140", credit_base=D("5.00"), kind=FX_DIFFERENCE)]))
    assert await books.balance("1410") == "0.00"  # not −5.00
    assert await books.balance("1220") == "275.00"
    assert await books.balance("8140") == "-5.00"
    r = await h.client.get(books.url("/accounts/1410/balance"), params={"currency": "USD"},
                           headers=books.clerk)
    assert (r.json()["balance"], r.json()["balance_base"]) == ("0.00", "0.00")


@pytest.mark.parametrize("lines", [
    # A plug: the regular lines are 0.01 GEL apart (0.33 + 0.33 + 0.34 USD at 2.75 round to
    # 0.91 + 0.91 + 0.94 = 2.76 against 1.00 × 2.75 = 2.75); an exchange difference may
    # not make that up.
    pytest.param([LineDraft("1220", debit=D("1.00")), LineDraft("6115", credit=D("0.33")),
                  LineDraft("6115", credit=D("0.33")), LineDraft("6115", credit=D("0.34")),
                  LineDraft("8240", debit_base=D("0.01"), kind=FX_DIFFERENCE)], id="plug"),
    # On an account that is no monetary item (revenue).
    pytest.param([LineDraft("1220", debit=D("100.00")), LineDraft("1410", credit=D("100.00")),
                  LineDraft("6115", debit_base=D("5.00"), kind=FX_DIFFERENCE),
                  LineDraft("8140", credit_base=D("5.00"), kind=FX_DIFFERENCE)],
                 id="non_monetary"),
    # Inventory is not monetary either (IAS 21.16).
    pytest.param([LineDraft("1220", debit=D("100.00")), LineDraft("1410", credit=D("100.00")),
                  LineDraft("1610", debit_base=D("5.00"), kind=FX_DIFFERENCE),
                  LineDraft("8140", credit_base=D("5.00"), kind=FX_DIFFERENCE)],
                 id="inventory"),
    # Between two gain and loss accounts: no item moves.
    pytest.param([LineDraft("1220", debit=D("100.00")), LineDraft("1410", credit=D("100.00")),
                  LineDraft("8240", debit_base=D("5.00"), kind=FX_DIFFERENCE),
                  LineDraft("8140", credit_base=D("5.00"), kind=FX_DIFFERENCE)],
                 id="no_item"),
    # Between two items: no gain or loss.
    pytest.param([LineDraft("1220", debit=D("100.00")), LineDraft("1410", credit=D("100.00")),
                  LineDraft("1220", debit_base=D("5.00"), kind=FX_DIFFERENCE),
                  LineDraft("1410", credit_base=D("5.00"), kind=FX_DIFFERENCE)],
                 id="no_gain_or_loss"),
])
async def test_an_exchange_difference_anywhere_else_is_refused(
        h: Harness, lines: list[LineDraft]) -> None:
    books = await h.books()
    before = await books.state()
    with pytest.raises(InvalidExchangeDifference):
        await post(h, books, payment(lines))
    assert await books.state() == before


async def test_a_gel_item_has_no_exchange_difference(h: Harness) -> None:
    books = await h.books()
    before = await books.state()
    with pytest.raises(InvalidExchangeDifference):
        await post(h, books, payment([
            LineDraft("1210", debit=D("100.00")), LineDraft("1410", credit=D("100.00")),
            LineDraft("1410", debit_base=D("5.00"), kind=FX_DIFFERENCE),
            LineDraft("8140", credit_base=D("5.00"), kind=FX_DIFFERENCE)],
            currency="GEL", rate="1"))
    assert await books.state() == before


async def test_an_exchange_difference_cannot_be_typed_over_http(h: Harness) -> None:
    books = await h.books()
    before = await books.state()
    r = await h.client.post(books.url("/transactions"), headers=books.clerk, json={
        "date": "2026-03-20", "description": "Plug", "currency": "USD", "exchange_rate": "2.75",
        "entries": [{"account_code": "1220", "debit": "100.00"},
                    {"account_code": "1410", "credit": "100.00"},
                    {"account_code": "1410", "debit_base": "5.00", "kind": "fx_difference"},
                    {"account_code": "8140", "credit_base": "5.00", "kind": "fx_difference"}]})
    assert r.status_code == 422, r.text
    assert await books.state() == before


async def test_exchange_difference_lines_for_a_payable_paid_at_a_loss(h: Harness) -> None:
    # A supplier bill of EUR 200.00 at 2.9000 (3110: −580.00) paid when EUR is 2.9500
    # (the payment debits 3110 by 590.00): residual −580.00 + 590.00 = +10.00, a loss:
    # Cr 3110 10.00, Dr 8240 10.00; 3110 ends at 0.00.
    books = await h.books()
    bill = new_id()
    await post(h, books, JournalDraft(
        date(2026, 3, 10), "Supplier bill", [
            LineDraft("7310", debit=D("200.00")),
            LineDraft("3110", credit=D("200.00"), counterparty_id=CUSTOMER, document_id=bill)],
        SourceRef("purchase_bill", bill), currency="EUR", exchange_rate=D("2.9000")))
    residual = D("-580.00") + D("590.00")
    await post(h, books, payment([
        LineDraft("3110", debit=D("200.00"), counterparty_id=CUSTOMER, document_id=bill),
        LineDraft("1220", credit=D("200.00")),
        *exchange_difference("3110", residual, counterparty_id=CUSTOMER, document_id=bill)],
        currency="EUR", rate="2.9500"))
    assert await books.balance("3110") == "0.00"
    assert await books.balance("8240") == "10.00"

