"""The chart of accounts restored from a snapshot is the chart its whole stream replays to.

The chart's use cases load the newest snapshot and apply the events after it (decision
0067). Whatever the history, and wherever in it the snapshot was taken, that must give the
same accounts, in the same order, at the same version, and so the same decisions, as
replaying every event from the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saldo.kernel.errors import SaldoError
from saldo.kernel.events import DomainEvent
from saldo.ledger import domain as d
from saldo.ledger.domain import (
    Account,
    AccountFacts,
    AccountType,
    Actor,
    ChartOfAccounts,
    Classification,
    NormalBalance,
)

CHIEF = Actor(UUID(int=2), "chief")


def account(code: str, name: str, kind: AccountType, classification: Classification,
            parent: str | None, postable: bool) -> Account:
    return Account(code, name, f"{name} (ka)", kind, d.normal_balance_of(kind), classification,
                   parent, postable, cash_flow=d.standard_cash_flow(code))


#: A small chart: two headers, leaves under them.
ACCOUNTS = (
    account("1000", "Current assets", AccountType.ASSET, Classification.CURRENT_ASSET,
            None, False),
    account("1110", "Cash", AccountType.ASSET, Classification.CURRENT_ASSET, "1000", True),
    account("1210", "Bank", AccountType.ASSET, Classification.CURRENT_ASSET, "1000", True),
    account("7400", "Operating expenses", AccountType.EXPENSE,
            Classification.OPERATING_EXPENSE, None, False),
    account("7410", "Rent", AccountType.EXPENSE, Classification.OPERATING_EXPENSE, "7400",
            True),
)


def stored(events: Sequence[DomainEvent]) -> list[tuple[str, dict[str, Any]]]:
    """Events as they come back from the event store: through JSON."""
    return [(e.type, orjson.loads(orjson.dumps(e.to_data()))) for e in events]


def through_json(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's state as it comes back from the ``snapshots`` table (jsonb)."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(state))
    return loaded


#: Commands on the chart: add a sub-account, rename, deactivate, reclassify or delete.
commands = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["1110", "1210", "7410", "7400"]),
              st.integers(1, 4)),
    st.tuples(st.just("rename"), st.sampled_from(["1110", "1210", "7410", "1210.01",
                                                  "7410.02"]), st.integers(1, 3)),
    st.tuples(st.just("deactivate"), st.sampled_from(["1110", "7410.01", "1210.02"]),
              st.just(0)),
    st.tuples(st.just("reclassify"), st.sampled_from(["7410", "7410.01", "7400"]),
              st.just(0)),
    st.tuples(st.just("delete"), st.sampled_from(["1210.01", "1210.02", "7410.01",
                                                  "7410.03", "7497", "1110"]), st.just(0)),
), min_size=1, max_size=25)


def history(steps: list[tuple[str, str, int]]) -> tuple[ChartOfAccounts,
                                                        list[tuple[str, dict[str, Any]]]]:
    """The chart after ``steps`` (refused ones change nothing), and its stored events."""
    chart = ChartOfAccounts.load("small", ACCOUNTS, CHIEF)
    for command, code, n in steps:
        try:
            if command == "add":
                new = f"{code[:2]}97" if code == "7400" else f"{code}.0{n}"
                chart.add(new, f"Account {new}", None, None, code, CHIEF, False)
            elif command == "rename":
                chart.change(code, {"name": f"Renamed {n}"}, CHIEF, AccountFacts())
            elif command == "deactivate":
                chart.change(code, {"active": False}, CHIEF, AccountFacts())
            elif command == "reclassify":
                chart.change(code, {"classification": "other_expense"}, CHIEF, AccountFacts())
            else:
                chart.delete(code, CHIEF, AccountFacts())
        except SaldoError:
            pass
    return chart, stored(chart.pending)


@settings(max_examples=60, deadline=None)
@given(commands, st.data())
def test_a_snapshot_anywhere_plus_the_later_events_is_the_full_replay(
        steps: list[tuple[str, str, int]], data: st.DataObject) -> None:
    chart, events = history(steps)
    full = ChartOfAccounts.replay(events)
    assert full is not None
    assert (full.version, full.accounts) == (chart.version, chart.accounts)
    at = data.draw(st.integers(1, len(events)), label="snapshot version")
    taken = ChartOfAccounts.replay(events[:at])
    assert taken is not None
    state = through_json(taken.snapshot_state())
    restored = ChartOfAccounts.replay(events[at:],
                                      ChartOfAccounts.from_snapshot(state, at))
    assert restored is not None
    assert (restored.version, restored.chart) == (full.version, full.chart) == (
        len(events), "small")
    assert list(restored.accounts.items()) == list(full.accounts.items())  # order too
    # ... and so it decides alike: the same command, the same outcome on both.
    outcomes = []
    for aggregate in (restored, full):
        try:
            outcomes.append(aggregate.add("1210.04", "Fourth bank", None, None, "1210",
                                          CHIEF, False))
        except SaldoError as exc:
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]


def test_the_snapshot_state_is_pinned_to_its_schema_version() -> None:
    """The stored shape, written out: a change to it fails here until
    CHART_SNAPSHOT_SCHEMA is raised (older snapshots are then ignored, not misread)."""
    chart = ChartOfAccounts.load("small", ACCOUNTS[:2], CHIEF)
    chart.add("1110.01", "Petty cash", "სალარო", None, None, CHIEF, False)
    assert d.CHART_SNAPSHOT_SCHEMA == 1
    assert through_json(chart.snapshot_state()) == {"chart": "small", "accounts": [
        {"code": "1000", "name": "Current assets", "name_ka": "Current assets (ka)",
         "type": "asset", "normal_balance": "debit", "classification": "current_asset",
         "parent_code": None, "postable": False, "active": True, "custom": False,
         "cash_flow": "operating"},
        {"code": "1110", "name": "Cash", "name_ka": "Cash (ka)", "type": "asset",
         "normal_balance": "debit", "classification": "current_asset",
         "parent_code": "1000", "postable": False, "active": True, "custom": False,
         "cash_flow": "cash"},
        {"code": "1110.01", "name": "Petty cash", "name_ka": "სალარო", "type": "asset",
         "normal_balance": "debit", "classification": "current_asset",
         "parent_code": "1110", "postable": True, "active": True, "custom": True,
         "cash_flow": "cash"},
    ]}


def test_a_restored_chart_keeps_the_version_it_was_taken_at() -> None:
    chart = ChartOfAccounts.load("small", ACCOUNTS, CHIEF)
    chart.change("7410", {"name": "Office rent"}, CHIEF, AccountFacts())
    restored = ChartOfAccounts.from_snapshot(through_json(chart.snapshot_state()), 2)
    assert (restored.version, restored.pending) == (2, [])
    assert restored.accounts["7410"].name == "Office rent"
    assert restored.accounts["7410"].normal_balance is NormalBalance.DEBIT
    # The next event it records is version 3: appended at expected version 2.
    restored.delete("1110", CHIEF, AccountFacts())
    assert restored.version == 3
    with pytest.raises(d.AccountNotFound):
        restored.account("1110")
