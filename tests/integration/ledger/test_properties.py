"""Hypothesis properties of the ledger over real PostgreSQL (the issue's wording):

* any sequence of valid postings and reversals leaves the sum of all balances at zero and
  every account's balance equal to the sum of its posted lines;
* reversing a transaction restores every balance;
* replay rebuilds identical read models.

Each example gets a fresh company (cheap: one transaction), so examples never see each
other's books. The service is driven directly (``container.ledger``) for speed, with the
maker-checker split of real use: the accountant drafts and posts, the chief approves and
reverses; balances are also read back through the HTTP endpoint. The expected figures
come from a model kept by the test, not from the code under test.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ledger_harness import Harness

from saldo.identity.domain import CompanyContext, NewCompany, Permission, Role, User
from saldo.kernel.money import round_half_up
from saldo.ledger.domain import ContentInput, LineDraft, fiscal_year_of
from saldo.ledger.projections import READ_MODELS

pytestmark = pytest.mark.integration

#: Leaves under the class headers 1000 (assets) and 3000 (liabilities), and two more.
ASSETS = ("1210", "1410")
LIABILITIES = ("3110", "3330")
ACCOUNTS = (*ASSETS, *LIABILITIES, "6110", "7420")
ROUNDING_ACCOUNT = "8220"
#: Two fiscal years (the company's year starts in January), both open-able today.
FIRST_DAY, LAST_DAY = date(2025, 1, 1), date(2026, 12, 31)
MAX_OPS = 12

SETTINGS = settings(max_examples=20, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# ---------------------------------------------------------------------- what to post

Line = tuple[str, Decimal, Decimal]  # account, debit, credit (GEL)


@dataclass(frozen=True)
class Spec:
    """A transaction to post: lines in cents, in GEL or in USD at ``rate``."""

    day: date
    lines: tuple[tuple[str, int, int], ...]
    rate: Decimal | None = None

    def content(self) -> ContentInput:
        entries = [LineDraft(a, debit=str(money(dr)) if dr else None,
                             credit=str(money(cr)) if cr else None) for a, dr, cr in self.lines]
        difference = self._difference()
        if difference:
            side = "credit_base" if difference > 0 else "debit_base"
            entries.append(LineDraft(ROUNDING_ACCOUNT, **{side: str(abs(difference))}))
        return ContentInput(self.day, "Property", entries,
                            currency="USD" if self.rate else None,
                            exchange_rate=str(self.rate) if self.rate else None)

    def _base(self, cents: int) -> Decimal:
        return round_half_up(money(cents) * self.rate, 2) if self.rate else money(cents)

    def _difference(self) -> Decimal:
        return sum((self._base(dr) - self._base(cr) for _, dr, cr in self.lines), Decimal(0))

    def gel_lines(self) -> list[Line]:
        """The lines the books must hold once this is posted, rounding line included."""
        lines = [(a, self._base(dr), self._base(cr)) for a, dr, cr in self.lines]
        difference = self._difference()
        if difference > 0:
            lines.append((ROUNDING_ACCOUNT, Decimal(0), difference))
        elif difference < 0:
            lines.append((ROUNDING_ACCOUNT, -difference, Decimal(0)))
        return lines


@st.composite
def splits(draw: st.DrawFn, total: int) -> list[int]:
    parts = draw(st.integers(1, min(3, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1,
                                max_size=parts - 1, unique=True))) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    foreign = draw(st.booleans())  # half of them in USD
    smallest = 100 if foreign else 1  # every USD line converts to at least a tetri
    debits = draw(st.lists(st.integers(smallest, 10**7), min_size=1, max_size=3))
    credits = draw(splits(sum(debits)).filter(lambda parts: min(parts) >= smallest))
    accounts = st.sampled_from(ACCOUNTS)
    lines = [(draw(accounts), c, 0) for c in debits] + [(draw(accounts), 0, c) for c in credits]
    rate = (draw(st.integers(10_000, 10_000_000).map(lambda m: Decimal(m).scaleb(-6)))
            if foreign else None)
    return Spec(draw(st.dates(FIRST_DAY, LAST_DAY)), tuple(draw(st.permutations(lines))), rate)


dates = st.dates(FIRST_DAY, LAST_DAY)
operations = st.lists(st.one_of(
    st.tuples(st.just("cycle"), specs()),                       # draft, approve, post
    st.tuples(st.just("batch"), st.lists(specs(), min_size=1, max_size=3)),
    st.tuples(st.just("draft"), specs(), st.booleans()),        # left unposted (approved?)
    st.tuples(st.just("reverse"), st.integers(0, 100), st.one_of(st.none(), dates)),
), min_size=1, max_size=MAX_OPS)


# ---------------------------------------------------------------------- the books under test


@dataclass
class Books:
    """A fresh company and the model of what its books must hold."""

    h: Harness
    company_id: UUID
    chief: CompanyContext
    clerk: CompanyContext
    lines: list[tuple[date, Line]] = field(default_factory=list)
    reversible: list[tuple[UUID, Spec]] = field(default_factory=list)
    numbers: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def ledger(self) -> Any:
        return self.h.container.ledger

    def _posted(self, tx_id: UUID, spec: Spec, year: int, number: int) -> None:
        self.numbers[year] += 1
        assert number == self.numbers[year], "numbers are consecutive per fiscal year"
        self.lines.extend((spec.day, line) for line in spec.gel_lines())
        self.reversible.append((tx_id, spec))

    async def cycle(self, spec: Spec) -> UUID:
        draft, new = await self.ledger.draft(self.clerk, spec.content())
        assert new
        await self.ledger.approve(self.chief, draft.id)
        tx = await self.ledger.post(self.clerk, draft.id)
        assert tx.fiscal_year == fiscal_year_of(spec.day, 1)
        self._posted(tx.id, spec, tx.fiscal_year, tx.number)
        return tx.id

    async def batch(self, batch: list[Spec]) -> None:
        result = await self.ledger.post_batch(
            self.chief, list(enumerate((s.content() for s in batch), start=1)))
        assert result.ok, result.findings
        assert len(result.posted) == len(batch)
        for spec, (tx_id, year, number) in zip(batch, result.posted, strict=True):
            self._posted(tx_id, spec, year, number)

    async def draft(self, spec: Spec, approve: bool) -> None:
        tx, _ = await self.ledger.draft(self.clerk, spec.content())
        if approve:
            await self.ledger.approve(self.chief, tx.id)

    async def reverse(self, tx_id: UUID, spec: Spec, on: date | None) -> None:
        # A reversal is never dated before its original (the ledger refuses that).
        on = max(on, spec.day) if on is not None else None
        self.reversible = [(i, s) for i, s in self.reversible if i != tx_id]
        reversal, original = await self.ledger.reverse(self.chief, tx_id, "Wrong customer", on)
        day = on or spec.day
        assert original.reversed_by == reversal.id
        assert reversal.reverses == original.id
        self.numbers[reversal.fiscal_year] += 1
        assert reversal.fiscal_year == fiscal_year_of(day, 1)
        assert reversal.number == self.numbers[reversal.fiscal_year]
        self.lines.extend((day, (a, cr, dr)) for a, dr, cr in spec.gel_lines())

    async def run(self, ops: list[tuple[Any, ...]]) -> None:
        for op in ops:
            if op[0] == "cycle":
                await self.cycle(op[1])
            elif op[0] == "batch":
                await self.batch(op[1])
            elif op[0] == "draft":
                await self.draft(op[1], op[2])
            elif self.reversible:
                tx_id, spec = self.reversible[op[1] % len(self.reversible)]
                await self.reverse(tx_id, spec, op[2])

    # ------------------------------------------------------------------ expectations

    def expected(self, as_of: date = LAST_DAY) -> dict[str, tuple[Decimal, Decimal]]:
        totals: dict[str, tuple[Decimal, Decimal]] = {}
        for day, (account, dr, cr) in self.lines:
            if day <= as_of:
                debit, credit = totals.get(account, (Decimal(0), Decimal(0)))
                totals[account] = (debit + dr, credit + cr)
        return totals

    async def _fetch(self, sql: str) -> list[dict[str, Any]]:
        async with self.h.container.db.transaction() as conn:
            cursor = await conn.execute(sql, {"company": self.company_id})
            return list(await cursor.fetchall())

    async def turnover(self) -> dict[str, tuple[Decimal, Decimal]]:
        rows = await self._fetch("SELECT account_code, sum(debit_base) AS dr,"
                                 "       sum(credit_base) AS cr"
                                 "  FROM account_turnover WHERE company_id = %(company)s"
                                 " GROUP BY 1")
        return {r["account_code"]: (r["dr"], r["cr"]) for r in rows}

    async def daily_net(self) -> dict[tuple[str, date], Decimal]:
        rows = await self._fetch("SELECT account_code, day, debit_base - credit_base AS net"
                                 "  FROM account_turnover WHERE company_id = %(company)s")
        return {(r["account_code"], r["day"]): r["net"] for r in rows if r["net"]}

    async def check(self, as_of: date, clerk_headers: dict[str, str]) -> None:
        """The read models against the model, and against each other."""
        expected = self.expected()
        turnover = await self.turnover()
        lines = await self._fetch("SELECT account_code, sum(debit_base) AS dr,"
                                  "       sum(credit_base) AS cr,"
                                  "       count(*) AS n"
                                  "  FROM journal_lines WHERE company_id = %(company)s"
                                  " GROUP BY 1")
        assert turnover == expected
        assert {r["account_code"]: (r["dr"], r["cr"]) for r in lines} == expected
        assert sum(r["n"] for r in lines) == len(self.lines)
        # Every GEL debited is credited somewhere: the balances sum to zero.
        assert sum((dr - cr for dr, cr in turnover.values()), Decimal(0)) == 0
        # Posted numbers: 1..n in each fiscal year, and the counter at n.
        rows = await self._fetch("SELECT fiscal_year, number FROM journal_transactions"
                                 " WHERE company_id = %(company)s AND status = 'posted'")
        by_year: dict[int, list[int]] = defaultdict(list)
        for r in rows:
            by_year[r["fiscal_year"]].append(r["number"])
        assert {y: sorted(n) for y, n in by_year.items()} == {
            y: list(range(1, n + 1)) for y, n in self.numbers.items() if n}
        counters = await self._fetch("SELECT fiscal_year, last_number FROM transaction_numbers"
                                     " WHERE company_id = %(company)s")
        assert {r["fiscal_year"]: r["last_number"] for r in counters} == {
            y: n for y, n in self.numbers.items() if n}
        # The balance endpoint, as of a date, for leaves and for two class headers.
        at = self.expected(as_of)
        zero = (Decimal(0), Decimal(0))
        wanted = {code: at.get(code, zero) for code in (*ASSETS, "3330", ROUNDING_ACCOUNT)}
        for header, leaves in (("1000", ASSETS), ("3000", LIABILITIES)):
            wanted[header] = (sum((at.get(c, zero)[0] for c in leaves), Decimal(0)),
                              sum((at.get(c, zero)[1] for c in leaves), Decimal(0)))
        for code, (dr, cr) in wanted.items():
            r = await self.h.client.get(
                f"/api/v1/companies/{self.company_id}/accounts/{code}/balance",
                params={"as_of": as_of.isoformat()}, headers=clerk_headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert (Decimal(body["debit"]), Decimal(body["credit"]),
                    Decimal(body["balance"])) == (dr, cr, dr - cr), code
            assert body["balance"] == f"{dr - cr:.2f}"


@dataclass
class World:
    """Two people, chief accountant and accountant, and a fresh company per example."""

    h: Harness
    chief: User
    clerk_headers: dict[str, str]
    names: itertools.count[int] = field(default_factory=itertools.count)

    async def books(self) -> Books:
        identity = self.h.container.identity
        company = await identity.create_company(
            self.chief, NewCompany(f"Property {next(self.names)} LLC", "204567891", True))
        chief = await identity.member_context(company.id, "chief",
                                              Permission.TRANSACTIONS_APPROVE)
        await identity.add_member(chief, "clerk", Role.ACCOUNTANT)
        clerk = await identity.member_context(company.id, "clerk",
                                              Permission.TRANSACTIONS_WRITE)
        return Books(self.h, company.id, chief, clerk)


@pytest.fixture
async def world(h: Harness) -> World:
    chief = await h.user("chief")
    await h.user("clerk")
    return World(h, chief, await h.headers("clerk"))


# ---------------------------------------------------------------------- properties


#: USD at this rate rounds 100.01 = 50.00 + 50.01 into 271.86 = 135.91 + 135.94 (a credit
#: rounding line of 0.01) and 1.02 = 0.51 + 0.51 into 2.77 = 1.39 + 1.39 (a debit one).
RATE = Decimal("2.718281")
ROUNDING_BOTH_WAYS = [
    ("cycle", Spec(date(2026, 3, 15), (("1210", 10001, 0), ("6110", 0, 5000),
                                       ("3330", 0, 5001)), RATE)),
    ("batch", [Spec(date(2025, 12, 31), (("1410", 102, 0), ("6110", 0, 51), ("3330", 0, 51)),
                    RATE)]),
    ("reverse", 0, None),
    ("reverse", 0, date(2026, 1, 1)),  # into the next fiscal year
]


@SETTINGS
@given(ops=operations, as_of=dates)
@example(ops=ROUNDING_BOTH_WAYS, as_of=date(2026, 1, 1))
async def test_postings_and_reversals_keep_every_balance_equal_to_its_lines(
        world: World, ops: list[tuple[Any, ...]], as_of: date) -> None:
    books = await world.books()
    await books.run(ops)
    await books.check(as_of, world.clerk_headers)


@settings(SETTINGS, max_examples=15)
@given(before=operations, spec=specs(), on=st.one_of(st.none(), dates))
async def test_reversing_a_transaction_restores_every_balance(
        world: World, before: list[tuple[Any, ...]], spec: Spec, on: date | None) -> None:
    books = await world.books()
    await books.run(before[:5])
    totals, daily = await books.turnover(), await books.daily_net()
    tx_id = await books.cycle(spec)
    assert await books.turnover() != totals
    on = max(on, spec.day) if on is not None else None
    await books.reverse(tx_id, spec, on)
    after = await books.turnover()
    net = {a: dr - cr for a, (dr, cr) in after.items()}
    assert {a: n for a, n in net.items() if n} == {
        a: dr - cr for a, (dr, cr) in totals.items() if dr != cr}
    if on is None or on == spec.day:
        # Reversed on its own date: the balance as of every day is back, not just today's.
        assert await books.daily_net() == daily
    await books.check(on or spec.day, world.clerk_headers)


async def _read_models(world: World) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with world.h.container.db.transaction() as conn:
        for table in READ_MODELS:
            cursor = await conn.execute(f"SELECT * FROM {table}")
            tables[table] = sorted((tuple(r.items()) for r in await cursor.fetchall()), key=repr)
    return tables


@settings(SETTINGS, max_examples=10)
@given(ops=operations)
async def test_replay_rebuilds_identical_read_models(world: World,
                                                     ops: list[tuple[Any, ...]]) -> None:
    books = await world.books()
    await books.run(ops)
    live = await _read_models(world)
    assert live["accounts"]
    assert live["fiscal_periods"]
    replayed = await world.h.container.runner.rebuild("ledger")
    assert replayed > 0
    rebuilt = await _read_models(world)
    for table in READ_MODELS:
        assert rebuilt[table] == live[table], table
    # And the rebuilt books still answer as the live ones did.
    await books.check(LAST_DAY, world.clerk_headers)
