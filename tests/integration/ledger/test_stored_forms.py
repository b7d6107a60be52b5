"""Events stored before the ledger's events were typed classes, through the real event
store and the service: a draft in the first stored form (no kind, no source, plain lines)
is approved and posted, and an account added in the first chart form (no cash-flow
activity) is changed, as if nothing had happened to the code since they were written."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import Harness

from saldo.identity.domain import Permission
from saldo.kernel.events import Actor
from saldo.kernel.ids import new_id
from saldo.ledger.books import CHART_STREAM, TRANSACTION_STREAM, chart_stream, transaction_stream
from saldo.platform.eventstore import NO_STREAM, NewEvent
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration


def first_form_draft(transaction_id: str, by: Actor) -> dict[str, Any]:
    return {"id": transaction_id, "date": "2026-03-15", "description": "Sale (old form)",
            "reference": "INV-1", "currency": "GEL", "exchange_rate": "1",
            "entries": [{"account_code": "1410", "debit": "1180.00", "credit": "0.00",
                         "debit_base": "1180.00", "credit_base": "0.00", "description": ""},
                        {"account_code": "6110", "debit": "0.00", "credit": "1180.00",
                         "debit_base": "0.00", "credit_base": "1180.00",
                         "description": "Goods"}],
            "reverses": None, "by": by.username, "by_id": str(by.id)}


async def test_a_draft_stored_in_the_first_form_is_approved_and_posted(h: Harness) -> None:
    books = await h.books()
    await books.post([("1110", "10.00", ""), ("5150", "", "10.00")])  # the year is open
    identity = h.container.identity
    clerk = await identity.member_context(books.company_id, "clerk",
                                          Permission.TRANSACTIONS_WRITE)
    chief = await identity.member_context(books.company_id, "chief",
                                          Permission.TRANSACTIONS_APPROVE)
    by = Actor(clerk.user.id, clerk.user.username)
    tx_id = new_id()

    async def write_old(uow: UnitOfWork) -> None:
        await uow.append(transaction_stream(tx_id), TRANSACTION_STREAM, NO_STREAM,
                         [NewEvent("TransactionDrafted", first_form_draft(str(tx_id), by))])

    await h.container.units.run(books.company_id, by, write_old)
    ledger = h.container.ledger
    approved = await ledger.approve(chief, tx_id)
    assert approved.created_by == "clerk"
    posted = await ledger.post(chief, tx_id)
    assert (posted.number, posted.posted_by) == (2, "chief")
    shown = await books.get(str(tx_id))
    assert (shown["status"], shown["source"], shown["created_by"]) == ("posted", None, "clerk")
    assert await books.balance("1410") == "1180.00"
    history = await ledger.history(books.company_id, tx_id)
    assert [(e["type"], e["actor"]) for e in history] == [
        ("TransactionDrafted", "clerk"), ("TransactionApproved", "chief"),
        ("TransactionPosted", "chief")]


async def test_an_account_added_in_the_first_form_is_changed(h: Harness) -> None:
    books = await h.books()
    chief = await h.container.identity.member_context(books.company_id, "chief",
                                                      Permission.ACCOUNTS_WRITE)
    by = Actor(chief.user.id, chief.user.username)
    old = {"code": "1210.01", "name": "TBC Bank", "name_ka": "თიბისი ბანკი",
           "type": "asset", "normal_balance": "debit", "classification": "current_asset",
           "parent_code": "1210", "postable": True, "active": True, "custom": True}

    async def write_old(uow: UnitOfWork) -> None:
        stream = chart_stream(books.company_id)
        await uow.append(stream, CHART_STREAM, await uow.version(stream), [NewEvent(
            "AccountAdded", {"account": old, "parent_becomes_header": True,
                             "by": by.username, "by_id": str(by.id)})])

    await h.container.units.run(books.company_id, by, write_old)
    ledger = h.container.ledger
    changed = await ledger.change_account(chief, "1210.01", {"name": "TBC Bank (GEL)"})
    assert (changed.name, changed.cash_flow.value, changed.parent_code) == (
        "TBC Bank (GEL)", "cash", "1210")
    # The parent became a header when the old event was applied, and stays one.
    r = await books.h.client.get(books.url("/accounts"), headers=books.clerk)
    assert r.status_code == 200, r.text
    listed = {a["code"]: a for a in r.json()}
    assert listed["1210.01"]["name"] == "TBC Bank (GEL)"
    assert listed["1210"]["postable"] is False
