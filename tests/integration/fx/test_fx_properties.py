"""Hypothesis: for random foreign-currency books, the IAS 21 revaluation leaves assets =
liabilities + equity (with the period's profit), puts every monetary position at
round(foreign balance × closing rate), leaves non-monetary accounts alone, books the net
difference in 8145/8245, runs idempotently, and is undone the next day. The expected
figures come from a model kept by the test, not from the code under test."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import Harness

from saldo.fx.domain import OfficialRate
from saldo.fx.service import FxService
from saldo.identity.domain import NewCompany, Permission, Role, User
from saldo.kernel.money import round_half_up
from saldo.ledger.domain import ContentInput, LineDraft

pytestmark = pytest.mark.integration

MONETARY = ("1220", "1410", "3110", "3210")
OTHER = ("1480", "1610", "5150", "6115", "7310")
AS_OF = date(2026, 3, 31)

item = st.tuples(
    st.integers(min_value=1, max_value=30).map(lambda d: date(2026, 3, d)),
    st.sampled_from(("USD", "EUR")),
    st.integers(min_value=10_000, max_value=50_000).map(lambda r: Decimal(r).scaleb(-4)),
    st.sampled_from(MONETARY + OTHER), st.sampled_from(MONETARY + OTHER),
    st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2)),
).filter(lambda t: t[3] != t[4])
closing = st.integers(min_value=10_000, max_value=50_000).map(lambda r: Decimal(r).scaleb(-4))


@dataclass
class World:
    h: Harness
    chief: User
    names: itertools.count[int] = field(default_factory=itertools.count)


@pytest.fixture
async def world(h: Harness) -> World:
    chief = await h.user("chief")
    await h.user("clerk")
    return World(h, chief)


async def balances(world: World, company: object, as_of: date) -> dict[str, Decimal]:
    async with world.h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT account_code, sum(debit_base) - sum(credit_base) AS b FROM account_turnover"
            " WHERE company_id = %s AND day <= %s GROUP BY 1", (company, as_of))
        return {r["account_code"]: Decimal(r["b"]) for r in await cursor.fetchall()}


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=st.lists(item, min_size=1, max_size=12), usd=closing, eur=closing)
async def test_a_revaluation_keeps_the_books_in_balance(
        world: World, items: list[tuple[date, str, Decimal, str, str, Decimal]],
        usd: Decimal, eur: Decimal) -> None:
    h = world.h
    identity = h.container.identity
    company = await identity.create_company(
        world.chief, NewCompany(f"FX Property {next(world.names)} LLC", "204567891", True))
    ctx = await identity.member_context(company.id, "chief", Permission.TRANSACTIONS_APPROVE)
    await identity.add_member(ctx, "clerk", Role.ACCOUNTANT)
    fx = h.container.services["fx"]
    assert isinstance(fx, FxService)
    await fx.store_rates([OfficialRate("USD", AS_OF, usd), OfficialRate("EUR", AS_OF, eur)],
                         "test")
    # The model: GEL per account, and foreign amount and GEL per (account, currency).
    gel: dict[str, Decimal] = defaultdict(Decimal)
    foreign: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    carrying: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    rows = []
    for n, (day, currency, rate, dr, cr, amount) in enumerate(items, start=1):
        base = round_half_up(amount * rate, 2)
        gel[dr] += base
        gel[cr] -= base
        for code, sign in ((dr, 1), (cr, -1)):
            foreign[code, currency] += sign * amount
            carrying[code, currency] += sign * base
        rows.append((n, ContentInput(day, f"Item {n}", [LineDraft(dr, debit=amount),
                                                        LineDraft(cr, credit=amount)],
                                     currency=currency, exchange_rate=rate)))
    outcome = await h.container.ledger.post_batch(ctx, rows)
    assert outcome.ok, outcome.findings

    done = await h.container.ledger.revalue(ctx, AS_OF)
    closing_rate = {"USD": usd, "EUR": eur}
    expected_difference = Decimal(0)
    after = dict(gel)
    for (code, currency), amount in foreign.items():
        if code in MONETARY:
            target = round_half_up(amount * closing_rate[currency], 2)
            expected_difference += target - carrying[code, currency]
            after[code] = after.get(code, Decimal(0)) + target - carrying[code, currency]
    got = await balances(world, company.id, AS_OF)
    for code in MONETARY + OTHER:
        assert got.get(code, Decimal(0)) == after.get(code, Decimal(0)), code
    assert -(got.get("8145", Decimal(0)) + got.get("8245", Decimal(0))) == expected_difference
    assert got.get("8145", Decimal(0)) <= 0 <= got.get("8245", Decimal(0))
    # Assets = liabilities + equity (+ the period's profit): classes 1-2 against 3-9.
    assets = sum((b for c, b in got.items() if c[0] in "12"), Decimal(0))
    others = sum((b for c, b in got.items() if c[0] not in "12"), Decimal(0))
    assert assets == -others
    assert done.posted == (expected_difference != 0 or any(
        r.difference for r in done.lines))

    again = await h.container.ledger.revalue(ctx, AS_OF)
    assert not again.posted
    assert again.lines == done.lines  # the same answer
    # The next day the items are back at their transaction rates.
    next_day = await balances(world, company.id, AS_OF + timedelta(days=1))
    for code in MONETARY + OTHER:
        assert next_day.get(code, Decimal(0)) == gel.get(code, Decimal(0)), code
    assert next_day.get("8145", Decimal(0)) == next_day.get("8245", Decimal(0)) == 0
