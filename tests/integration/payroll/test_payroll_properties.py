"""Properties of posted payroll runs, over HTTP and the real database: for any grosses and
enrolments, each line's net + income tax + employee pension = gross, the posted journal
balances and carries the lines' totals, and the income tax return of the payment month
declares what the journal put on 3320."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ledger_harness import Books, Harness

pytestmark = pytest.mark.integration

SETTINGS = settings(max_examples=10, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
D = Decimal


@dataclass
class World:
    books: Books
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    months: itertools.count[int] = field(default_factory=itertools.count)


@pytest.fixture
async def world(h: Harness) -> World:
    return World(await h.books())


staff = st.lists(st.tuples(st.integers(0, 10**9), st.booleans()), min_size=1, max_size=6
                 ).filter(lambda xs: any(cents for cents, _ in xs))


@SETTINGS
@given(people=staff)
# 0.25: pension 0.005 → 0.01 (half up), tax 0.048 → 0.05; 1234.57 as in the worked month.
@example(people=[(25, True), (123457, True), (3, False)])
async def test_a_posted_run_balances_and_its_return_matches_the_books(
        world: World, people: list[tuple[int, bool]]) -> None:
    b, h = world.books, world.books.h
    month = next(world.months)
    year, mon = 2024 + month // 11, 1 + month % 11
    period, payment = f"{year}-{mon:02d}", f"{year}-{mon + 1:02d}-05"
    lines = []
    for cents, enrolled in people:
        r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
            "personal_number": f"{next(world.numbers):011d}", "full_name": "P",
            "pension_enrolled": enrolled, "start_date": "2020-01-01"})
        assert r.status_code == 201, r.text
        lines.append({"employee_id": r.json()["id"], "gross": str(D(cents).scaleb(-2))})
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": period, "payment_date": payment, "lines": lines})
    assert r.status_code == 201, r.text
    run = r.json()
    for line in run["lines"]:
        assert D(line["net"]) + D(line["income_tax"]) + D(line["pension_employee"]) \
            == D(line["gross"])
    r = await h.client.post(b.url(f"/payroll-runs/{run['id']}/post"), headers=b.clerk)
    assert r.status_code == 200, r.text
    tx = await b.get(r.json()["transaction_id"])
    debit = sum(D(e["debit"]) for e in tx["entries"])
    credit = sum(D(e["credit"]) for e in tx["entries"])
    assert debit == credit
    totals = run["totals"]
    by_account = {e["account_code"]: D(e["debit"]) + D(e["credit"]) for e in tx["entries"]}
    assert by_account.get("7410", D(0)) == D(totals["gross"])
    assert by_account.get("3320", D(0)) == D(totals["income_tax"])
    assert by_account.get("3130", D(0)) == D(totals["net"])
    r = await h.client.get(b.url(f"/tax/income-tax-returns/{payment[:7]}"), headers=b.chief)
    assert D(r.json()["total_income_tax"]) == D(totals["income_tax"])
    assert D(r.json()["total_gross"]) == D(totals["gross"])
