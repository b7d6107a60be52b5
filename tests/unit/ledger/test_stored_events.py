"""The ledger's typed events read every shape the event store holds.

Journal transactions and the chart were stored as plain dictionaries before their events
became classes; fields were added over time (a line's kind and sub-ledger keys, a
transaction's source and kind, an account's cash-flow activity). The dictionaries below
are written out as the first ledger stored them: each must replay into the aggregate, and
a new event must write exactly the stored shape (the projection and the relay read it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest

from saldo.ledger import domain as d
from saldo.ledger.domain import (
    AccountType,
    Actor,
    CashFlow,
    ChartOfAccounts,
    JournalTransaction,
    Status,
)

CLERK, CHIEF = UUID(int=1), UUID(int=2)
TX = UUID("01900000-0000-7000-8000-0000000000aa")
REVERSAL = UUID("01900000-0000-7000-8000-0000000000bb")

#: A draft as the first ledger stored it: no kind, no source, lines without kind,
#: counterparty or document.
OLD_DRAFT: dict[str, Any] = {
    "id": str(TX), "date": "2026-03-15", "description": "Sale", "reference": "INV-1",
    "currency": "GEL", "exchange_rate": "1",
    "entries": [
        {"account_code": "1410", "debit": "1180.00", "credit": "0.00",
         "debit_base": "1180.00", "credit_base": "0.00", "description": ""},
        {"account_code": "6110", "debit": "0.00", "credit": "1000.00",
         "debit_base": "0.00", "credit_base": "1000.00", "description": "Goods"},
        {"account_code": "3330", "debit": "0.00", "credit": "180.00",
         "debit_base": "0.00", "credit_base": "180.00", "description": "VAT"}],
    "reverses": None, "by": "clerk", "by_id": str(CLERK)}


def chief(event: str, **data: Any) -> tuple[str, dict[str, Any]]:
    return event, {**data, "by": "chief", "by_id": str(CHIEF)}


OLD_STREAM = [
    ("TransactionDrafted", OLD_DRAFT),
    ("TransactionAmended", {k: v for k, v in OLD_DRAFT.items()
                            if k not in ("id", "reverses")} | {"description": "Sale INV-1"}),
    chief("TransactionApproved"),
    chief("TransactionPosted", number=7, fiscal_year=2026),
    chief("TransactionReversed", reversed_by=str(REVERSAL), reason="Wrong customer"),
]


def test_a_transaction_stored_in_the_first_form_replays() -> None:
    tx = JournalTransaction.replay(TX, OLD_STREAM)
    assert tx is not None
    assert (tx.version, tx.status, tx.number, tx.fiscal_year) == (5, Status.POSTED, 7, 2026)
    assert (tx.created_by, tx.created_by_id, tx.approved_by, tx.posted_by) == (
        "clerk", CLERK, "chief", "chief")
    assert (tx.reversed_by, tx.reversal_reason, tx.kind) == (REVERSAL, "Wrong customer",
                                                             d.REGULAR)
    assert tx.content is not None
    assert tx.content.description == "Sale INV-1"
    assert tx.content.source is None
    assert [(line.account_code, line.debit_base, line.credit_base, line.kind)
            for line in tx.content.lines] == [
        ("1410", Decimal("1180.00"), Decimal("0.00"), d.REGULAR_LINE),
        ("6110", Decimal("0.00"), Decimal("1000.00"), d.REGULAR_LINE),
        ("3330", Decimal("0.00"), Decimal("180.00"), d.REGULAR_LINE)]
    # Reversed already: the aggregate decides on the stored state.
    with pytest.raises(d.InvalidState):
        tx.check_reversible()


def test_an_old_draft_is_still_approved_by_another_member_only() -> None:
    tx = JournalTransaction.replay(TX, OLD_STREAM[:1])
    assert tx is not None
    with pytest.raises(d.SegregationOfDuties):
        tx.approve(Actor(CLERK, "clerk"))
    tx.approve(Actor(CHIEF, "chief"))
    assert tx.status is Status.APPROVED


def test_events_write_the_stored_shape_exactly() -> None:
    """Reading the old data and writing it again gives the same JSON, key for key."""
    for event_type, data in OLD_STREAM:
        event = d.TRANSACTION_EVENTS[event_type].from_data(data)
        assert event.type == event_type
        assert orjson.loads(orjson.dumps(event.to_data())) == data


def test_a_document_draft_keeps_its_newer_fields() -> None:
    document = UUID(int=77)
    data = {**OLD_DRAFT, "kind": "closing",
            "source": {"type": "sales_invoice", "id": str(document)},
            "entries": [{**OLD_DRAFT["entries"][0], "counterparty_id": str(UUID(int=5)),
                         "document_id": str(document)}, *OLD_DRAFT["entries"][1:]]}
    event = d.TransactionDrafted.from_data(data)
    assert event.kind == d.CLOSING
    assert event.content.source == d.SourceRef("sales_invoice", document)
    assert event.content.lines[0].counterparty_id == UUID(int=5)
    assert orjson.loads(orjson.dumps(event.to_data())) == data


#: Accounts as the first chart events stored them: no cash-flow activity.
OLD_ACCOUNTS = [
    {"code": "1000", "name": "Current assets", "name_ka": "მიმდინარე აქტივები",
     "type": "asset", "normal_balance": "debit", "classification": "current_asset",
     "parent_code": None, "postable": False, "active": True, "custom": False},
    {"code": "1210", "name": "Bank accounts (GEL)", "name_ka": "ანგარიშები ბანკში (ლარი)",
     "type": "asset", "normal_balance": "debit", "classification": "current_asset",
     "parent_code": "1000", "postable": True, "active": True, "custom": False},
    {"code": "7400", "name": "Operating expenses", "name_ka": "საოპერაციო ხარჯები",
     "type": "expense", "normal_balance": "debit", "classification": "operating_expense",
     "parent_code": None, "postable": False, "active": True, "custom": False},
]
OLD_CHART = [
    ("ChartOfAccountsLoaded", {"chart": "ge-standard", "accounts": OLD_ACCOUNTS,
                               "by": "owner", "by_id": str(CLERK)}),
    chief("AccountAdded", account={**OLD_ACCOUNTS[1], "code": "1210.01",
                                   "name": "TBC Bank", "name_ka": "თიბისი ბანკი",
                                   "parent_code": "1210", "custom": True},
          parent_becomes_header=True),
    chief("AccountAdded", account={**OLD_ACCOUNTS[2], "code": "7497", "name": "Fines",
                                   "name_ka": "ჯარიმები", "parent_code": "7400",
                                   "postable": True, "custom": True},
          parent_becomes_header=False),
    chief("AccountChanged", code="7497", changes={"name": "Fines and penalties",
                                                  "active": False}),
    chief("AccountDeleted", code="1210.01"),
]


def test_a_chart_stored_in_the_first_form_replays() -> None:
    chart = ChartOfAccounts.replay(OLD_CHART)
    assert chart is not None
    assert (chart.version, chart.chart) == (5, "ge-standard")
    assert list(chart.accounts) == ["1000", "1210", "7400", "7497"]
    # Accounts recorded before the column take the standard activity of their code.
    assert chart.accounts["1210"].cash_flow is CashFlow.CASH
    assert chart.accounts["7497"].cash_flow is CashFlow.OPERATING
    assert (chart.accounts["7497"].name, chart.accounts["7497"].active) == (
        "Fines and penalties", False)
    # 1210 became a header for 1210.01 and is a leaf again since it was deleted.
    assert chart.accounts["1210"].postable
    for event_type, data in OLD_CHART[1:]:
        event = d.CHART_EVENTS[event_type].from_data(data)
        written = orjson.loads(orjson.dumps(event.to_data()))
        # Written again, the accounts carry their activity; nothing else changes.
        if "account" in written:
            assert written["account"].pop("cash_flow") in {f.value for f in CashFlow}
        assert written == data


def test_the_chart_decides_on_its_replayed_state() -> None:
    chart = ChartOfAccounts.replay(OLD_CHART)
    assert chart is not None
    chief_ = Actor(CHIEF, "chief")
    with pytest.raises(d.AccountExists):
        chart.add("7497", "Again", None, None, None, chief_, False)
    with pytest.raises(d.AccountHasBalance):
        chart.change("1210", {"active": False}, chief_, d.AccountFacts(balance=Decimal("5")))
    with pytest.raises(d.InvalidAccount):
        chart.delete("1000", chief_, d.AccountFacts())  # it has sub-accounts
    added = chart.add("1210.02", "BoG", None, None, None, chief_, False)
    assert (added.type, added.cash_flow, added.parent_code) == (AccountType.ASSET,
                                                               CashFlow.CASH, "1210")
    assert not chart.accounts["1210"].postable
    assert [e.type for e in chart.pending] == ["AccountAdded"]
    again = ChartOfAccounts.replay([*OLD_CHART, *((e.type, e.to_data())
                                                  for e in chart.pending)])
    assert again is not None
    assert again.accounts == chart.accounts
