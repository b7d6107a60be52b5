"""Hypothesis: for random documents and payments (some reversed), the receivables and
payables ledgers (ageing as of any date) equal their control accounts (1410, 3110), per
counterparty too;
the VAT return's output VAT equals the output VAT accounts' movement (3330 + 3331) and
its input VAT the input accounts' (3340 + 3342 + 3343).

The billing service is driven directly (fast); the figures it must meet come from the
ledger, which the billing code does not compute.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import Harness

from saldo.billing import queries
from saldo.billing.service import (
    AllocationInput,
    BillingService,
    CounterpartyInput,
    Direction,
    DocumentInput,
    DocumentKind,
    LineInput,
    PaymentDraft,
)
from saldo.identity.domain import CompanyContext, NewCompany, Permission, User
from saldo.kernel.errors import SaldoError
from saldo.tax.service import TaxService

pytestmark = pytest.mark.integration

SETTINGS = settings(max_examples=15, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
START = date(2026, 1, 1)
SALES_CODES = ("vat18", "vat18", "export0", "exempt", "exempt_credit")
PURCHASE_CODES = ("vat18", "vat18", "reverse_charge18", "import18", "exempt")

lines_st = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 500_000), st.integers(0, 4)),
                    min_size=1, max_size=3)
op_st = st.one_of(
    st.tuples(st.just("invoice"), st.integers(0, 1), st.integers(0, 80), lines_st,
              st.booleans(), st.integers(26000, 28000)),
    st.tuples(st.just("bill"), st.integers(0, 1), st.integers(0, 80), lines_st,
              st.booleans(), st.integers(26000, 28000)),
    st.tuples(st.just("credit"), st.integers(0, 30), st.integers(1, 100)),
    st.tuples(st.just("pay"), st.integers(0, 30), st.integers(1, 100), st.integers(0, 80),
              st.integers(25000, 29000)),
    st.tuples(st.just("advance"), st.integers(0, 1), st.integers(1, 300_000),
              st.integers(0, 80)),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.integers(0, 40)),
)


@dataclass
class World:
    h: Harness
    chief: User
    names: itertools.count[int] = field(default_factory=itertools.count)

    async def company(self) -> CompanyContext:
        identity = self.h.container.identity
        company = await identity.create_company(
            self.chief, NewCompany(f"Property {next(self.names)} LLC", "204567891", True))
        return await identity.member_context(company.id, "chief", Permission.DOCUMENTS_WRITE)


@pytest.fixture
async def world(h: Harness) -> World:
    return World(h, await h.user("chief"))


async def balance(h: Harness, company_id: UUID, codes: tuple[str, ...], as_of: date,
                  date_from: date | None = None) -> dict[UUID | None, Decimal]:
    """Debit − credit of journal lines on ``codes`` per counterparty (None: total)."""
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT counterparty_id, sum(debit_base - credit_base) AS net FROM journal_lines"
            " WHERE company_id = %s AND account_code = ANY(%s) AND entry_date <= %s"
            "   AND entry_date >= %s GROUP BY 1",
            (company_id, list(codes), as_of, date_from or date(1900, 1, 1)))
        rows = await cursor.fetchall()
    out: dict[UUID | None, Decimal] = {r["counterparty_id"]: r["net"] for r in rows}
    out[None] = sum(out.values(), Decimal("0.00"))
    return out


@given(ops=st.lists(op_st, min_size=1, max_size=10))
@SETTINGS
async def test_sub_ledgers_equal_control_accounts(world: World,
                                                  ops: list[tuple[Any, ...]]) -> None:
    h = world.h
    billing: BillingService = h.container.wiring.services["billing"]
    tax: TaxService = h.container.wiring.services["tax"]
    ctx = await world.company()
    customers = [await billing.register_counterparty(ctx, CounterpartyInput(f"C{i}"))
                 for i in range(2)]
    suppliers = [await billing.register_counterparty(ctx, CounterpartyInput(f"S{i}"))
                 for i in range(2)]
    docs: list[tuple[UUID, UUID, str, bool]] = []  # id, counterparty, currency, sales
    paid: list[tuple[UUID, date]] = []  # payments not reversed: id, date
    for op in ops:
        try:
            if op[0] in ("invoice", "bill"):
                _, who, day, raw, usd, rate = op
                sales = op[0] == "invoice"
                codes = SALES_CODES if sales else PURCHASE_CODES
                lines = [LineInput("x", str(q), str(Decimal(p).scaleb(-2)),
                                   codes[c], None if sales else "7490") for q, p, c in raw]
                party = (customers if sales else suppliers)[who]
                doc = await billing.draft(ctx, DocumentKind.SALES_INVOICE if sales
                                          else DocumentKind.PURCHASE_BILL, DocumentInput(
                    party, START + timedelta(days=day), lines,
                    currency="USD" if usd else None,
                    exchange_rate=str(Decimal(rate).scaleb(-4)) if usd else None))
                doc = await billing.post(ctx, doc.id, (doc.kind,))
                docs.append((doc.id, party, doc.currency, sales))
            elif op[0] == "credit" and docs:
                _, pick, share = op
                doc_id, _, _, _ = docs[pick % len(docs)]
                doc = await billing.document(ctx.company_id, doc_id)
                line = doc.lines[0]
                price = max(Decimal("0.01"), (line.unit_price * share / 100).quantize(
                    Decimal("0.01")))
                await billing.credit_note(ctx, doc_id, doc.date + timedelta(days=3), [
                    LineInput("credit", "1", str(price), line.vat_code.value,
                              line.account_code)])
            elif op[0] == "pay" and docs:
                _, pick, share, day, rate = op
                doc_id, party, currency, sales = docs[pick % len(docs)]
                doc = await billing.document(ctx.company_id, doc_id)
                amount = (doc.amount_due * share / 100).quantize(Decimal("0.01"))
                if amount <= 0:
                    continue
                made = await billing.record_payment(ctx, PaymentDraft(
                    party, max(doc.date, START + timedelta(days=day)),
                    Direction.IN if sales else Direction.OUT, amount + Decimal("1.00"),
                    [AllocationInput(doc_id, amount)], currency=currency,
                    exchange_rate=None if currency == "GEL" else str(
                        Decimal(rate).scaleb(-4)),
                    account_code="1210" if currency == "GEL" else "1220"))
                paid.append((made.id, made.event.date))
            elif op[0] == "advance":
                _, who, cents, day = op
                made = await billing.record_payment(ctx, PaymentDraft(
                    customers[who], START + timedelta(days=day), Direction.IN,
                    Decimal(cents).scaleb(-2)))
                paid.append((made.id, made.event.date))
            elif op[0] == "reverse" and paid:
                _, pick, later = op
                payment_id, day = paid.pop(pick % len(paid))
                await billing.reverse_payment(ctx, payment_id, "property",
                                              day + timedelta(days=later))
        except SaldoError as exc:  # the one refusal the ops allow: a credit too large
            if exc.code != "credit_exceeds_invoice":
                raise

    for as_of in (START + timedelta(days=40), START + timedelta(days=200)):
        async with h.container.db.transaction(company_id=ctx.company_id) as conn:
            receivables = await queries.open_as_of(conn, ctx.company_id, "receivables", as_of)
            payables = await queries.open_as_of(conn, ctx.company_id, "payables", as_of)
        control = await balance(h, ctx.company_id, ("1410",), as_of)
        assert sum((r["base_due"] for r in receivables), Decimal(0)) == control[None]
        for party in customers:
            assert sum((r["base_due"] for r in receivables if r["counterparty_id"] == party),
                       Decimal(0)) == control.get(party, Decimal(0))
        control = await balance(h, ctx.company_id, ("3110",), as_of)
        assert -sum((r["base_due"] for r in payables), Decimal(0)) == control[None]

    for month in ("2026-01", "2026-02", "2026-03"):
        result, _, _ = await tax.vat_return(ctx.company_id, month)
        first = date.fromisoformat(f"{month}-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        output = await balance(h, ctx.company_id, ("3330", "3331"), last, first)
        assert result.output_vat == -output[None]
        reverse = await balance(h, ctx.company_id, ("3332",), last, first)
        assert result.reverse_charge_vat == -reverse[None]
        inputs = await balance(h, ctx.company_id, ("3340", "3342", "3343"), last, first)
        assert result.input_vat == inputs[None]
