"""The issue's property: after any sequence of reconcile and unreconcile, the ledger
account's balance equals the sum of the reconciled lines plus the opening balance; and
the reconciliation statement explains the bank's balance by the unreconciled lines alone.

One company for the whole run (examples carry on from each other's state); the expected
set of reconciled lines is the test's own model. The opening balance, 1,000.00, is posted
once as share capital paid in (Dr 1210, Cr 5110).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from bank_files import Entry, camt053
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import Harness

pytestmark = pytest.mark.integration

#: Eight lines: 1,180.00 - 2.50 + 300.00 - 850.00 + 45.10 - 0.90 + 12.00 - 99.99.
AMOUNTS = ["1180.00", "-2.50", "300.00", "-850.00", "45.10", "-0.90", "12.00", "-99.99"]
TARGETS = ["7492", "6190", "7420"]
SETTINGS = settings(max_examples=15, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

operations = st.lists(st.tuples(st.sampled_from(["reconcile", "unreconcile"]),
                                st.integers(0, len(AMOUNTS) - 1),
                                st.sampled_from(TARGETS)), min_size=1, max_size=8)

_world: dict[int, dict[str, Any]] = {}


async def world(h: Harness) -> dict[str, Any]:
    found = _world.get(id(h))
    if found is None:
        books = await h.books()
        await books.post([("1210", "1000.00", ""), ("5110", "", "1000.00")],
                         day="2026-03-01", description="Capital paid in")
        entries = [Entry(a, date(2026, 3, 2 + n), f"Line {n}", f"P-{n}")
                   for n, a in enumerate(AMOUNTS)]
        r = await h.client.post(books.url("/bank-statements"), params={"account_code": "1210"},
                                files={"file": ("s.xml", camt053(entries), "application/xml")},
                                headers=books.clerk)
        assert r.status_code == 201, r.text
        r = await h.client.get(books.url("/bank-statements/lines"), headers=books.clerk)
        found = {"books": books, "lines": r.json(), "reconciled": set(),
                 "account": r.json()[0]["bank_account_id"]}
        _world.clear()
        _world[id(h)] = found
    return found


@SETTINGS
@given(ops=operations)
async def test_ledger_balance_is_opening_plus_reconciled_lines(h: Harness,
                                                               ops: list[Any]) -> None:
    w = await world(h)
    books, reconciled = w["books"], w["reconciled"]
    for action, index, target in ops:
        line = w["lines"][index]
        url = books.url(f"/bank-statements/lines/{line['id']}/{action}")
        r = await h.client.post(url, headers=books.clerk,
                                json={"account_code": target} if action == "reconcile" else None)
        if action == "reconcile":
            assert r.status_code == (409 if index in reconciled else 200), r.text
            reconciled.add(index)
        else:
            assert r.status_code == (200 if index in reconciled else 409), r.text
            reconciled.discard(index)
    expected = Decimal("1000.00") + sum((Decimal(AMOUNTS[i]) for i in reconciled), Decimal(0))
    assert Decimal(await books.balance("1210")) == expected
    r = await h.client.get(books.url(f"/bank-accounts/{w['account']}/reconciliation"),
                           params={"as_of": "2026-03-31"}, headers=books.clerk)
    report = r.json()
    # Bank: 1,000.00 + the eight lines (583.71) = 1,583.71, whatever is reconciled.
    assert report["bank_balance"] == "1583.71"
    assert Decimal(report["ledger_balance"]) == expected
    assert report["outstanding_in_books"] == "0.00"
    unreconciled = sum((Decimal(AMOUNTS[i]) for i in range(len(AMOUNTS))
                        if i not in reconciled), Decimal(0))
    assert Decimal(report["unreconciled_in"]) + Decimal(report["unreconciled_out"]) \
        == unreconciled
