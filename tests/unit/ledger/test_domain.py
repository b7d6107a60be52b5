"""Properties of the ledger's pure rules (``saldo.ledger.domain``), with Hypothesis.

Balancing in the base currency and in a foreign one with explicit rounding lines, the
mirror image of a reversal, replaying an aggregate's events, and the fiscal calendar.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.kernel.errors import SaldoError
from saldo.kernel.events import DomainEvent
from saldo.kernel.money import round_half_up
from saldo.ledger import domain as d
from saldo.ledger.domain import (
    Actor,
    Content,
    ContentInput,
    InvalidAmountError,
    JournalTransaction,
    LineDraft,
    Status,
    UnbalancedTransaction,
    check_content,
)

GEL = "GEL"
DAY = date(2026, 3, 15)
ACCOUNTS = ("1210", "1410", "3330", "6110", "7420", "3110")
CENT = Decimal("0.01")

AUTHOR = Actor(UUID(int=1), "clerk")
CHIEF = Actor(UUID(int=2), "chief")


def money(cents: int) -> Decimal:
    """``cents`` as an amount with exactly two decimals (``150`` → ``1.50``)."""
    return Decimal(cents).scaleb(-2)


@st.composite
def split(draw: st.DrawFn, total: int, max_parts: int = 4) -> list[int]:
    """``total`` (cents) cut into 1..max_parts positive parts."""
    parts = draw(st.integers(1, min(max_parts, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1,
                                max_size=parts - 1, unique=True))) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@st.composite
def balanced(draw: st.DrawFn, max_cents: int = 10**11) -> list[tuple[str, int, int]]:
    """Lines (account, debit cents, credit cents), one side zero, debits = credits."""
    debits = draw(st.lists(st.integers(1, max_cents), min_size=1, max_size=4))
    credits = draw(split(sum(debits)))
    lines = ([(draw(st.sampled_from(ACCOUNTS)), c, 0) for c in debits]
             + [(draw(st.sampled_from(ACCOUNTS)), 0, c) for c in credits])
    return list(draw(st.permutations(lines)))


def written(cents: int, as_text: bool) -> object:
    """An amount as a client could send it: a string ("12.30") or a Decimal."""
    return str(money(cents)) if as_text else money(cents)


def inputs(lines: list[tuple[str, int, int]], as_text: bool = True) -> list[LineDraft]:
    return [LineDraft(a, debit=written(dr, as_text) if dr else None,
                      credit=written(cr, as_text) if cr else None) for a, dr, cr in lines]


# ---------------------------------------------------------------------- base currency


@given(balanced(), st.booleans())
def test_balanced_lines_are_accepted(lines: list[tuple[str, int, int]], as_text: bool) -> None:
    content = check_content(ContentInput(DAY, " Sale ", inputs(lines, as_text)), GEL)
    assert content.currency == GEL
    assert content.exchange_rate == 1
    assert content.description == "Sale"
    assert [(e.account_code, e.debit, e.credit) for e in content.lines] == [
        (a, money(dr), money(cr)) for a, dr, cr in lines]
    # In the base currency the GEL amount is the amount itself.
    assert all(e.debit_base == e.debit and e.credit_base == e.credit for e in content.lines)
    assert content.total == money(sum(dr for _, dr, _ in lines))
    assert content.total == sum((e.credit_base for e in content.lines), Decimal(0))


@given(balanced(), st.data())
def test_unbalanced_lines_are_rejected(lines: list[tuple[str, int, int]],
                                       data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(lines) - 1))
    account, dr, cr = lines[index]
    amount = dr or cr
    delta = data.draw(st.integers(-(amount - 1), 10**6).filter(bool))
    lines[index] = (account, dr + delta if dr else 0, cr + delta if cr else 0)
    with pytest.raises(UnbalancedTransaction) as caught:
        check_content(ContentInput(DAY, "Off by a little", inputs(lines)), GEL)
    debit, credit = (Decimal(caught.value.data[k]) for k in ("debit", "credit"))
    assert debit - credit == money(sum(dr - cr for _, dr, cr in lines)) != 0
    assert caught.value.data["currency"] == GEL
    assert caught.value.code == "unbalanced_transaction"


@given(balanced(max_cents=10**6), st.data())
def test_more_than_two_decimals_is_refused_not_rounded(lines: list[tuple[str, int, int]],
                                                       data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(lines) - 1))
    digit = data.draw(st.integers(1, 9))
    raw = inputs(lines)
    side = "debit" if lines[index][1] else "credit"
    raw[index] = dataclasses.replace(raw[index], **{side: f"{getattr(raw[index], side)}{digit}"})
    with pytest.raises(InvalidAmountError) as caught:
        check_content(ContentInput(DAY, "Tetri and a bit", raw), GEL)
    assert caught.value.data["field"] == f"entries[{index}].{side}"


# ---------------------------------------------------------------------- foreign currency

rates = st.integers(10_000, 10**9).map(lambda micro: Decimal(micro).scaleb(-6))  # 0.01..1000


@given(balanced(max_cents=10**9).filter(
           lambda lines: all(max(dr, cr) >= 100 for _, dr, cr in lines)),
       rates)
def test_foreign_currency_balances_in_gel_or_names_its_rounding_line(
        lines: list[tuple[str, int, int]], rate: Decimal) -> None:
    raw = ContentInput(DAY, "USD receipt", inputs(lines), currency="USD", exchange_rate=str(rate))
    gel_debit = sum((round_half_up(money(dr) * rate, 2) for _, dr, _ in lines if dr), Decimal(0))
    gel_credit = sum((round_half_up(money(cr) * rate, 2) for _, _, cr in lines if cr),
                     Decimal(0))
    difference = gel_debit - gel_credit
    # Each line rounds by at most half a tetri.
    assert abs(difference) <= Decimal("0.005") * len(lines)
    if difference == 0:
        content = check_content(raw, GEL)
    else:
        with pytest.raises(UnbalancedTransaction) as caught:
            check_content(raw, GEL)
        assert caught.value.data == {"debit": str(gel_debit), "credit": str(gel_credit),
                                     "currency": GEL}
        assert f"rounding line of {abs(difference)} GEL" in caught.value.detail
        side = "credit_base" if difference > 0 else "debit_base"
        rounding = LineDraft("8220", **{side: str(abs(difference))})
        content = check_content(dataclasses.replace(raw, lines=[*raw.lines, rounding]), GEL)
        assert content.lines[-1].debit == content.lines[-1].credit == 0
    assert content.currency == "USD"
    assert content.exchange_rate == rate
    for entry, (_, dr, cr) in zip(content.lines, lines, strict=False):
        assert entry.debit == money(dr)
        assert entry.credit == money(cr)
        assert entry.debit_base == round_half_up(money(dr) * rate, 2)
        assert entry.credit_base == round_half_up(money(cr) * rate, 2)
    assert content.total == max(gel_debit, gel_credit)
    assert sum((e.debit_base - e.credit_base for e in content.lines), Decimal(0)) == 0


@given(balanced(max_cents=10**7), rates)
def test_base_amounts_the_client_writes_must_be_the_converted_ones(
        lines: list[tuple[str, int, int]], rate: Decimal) -> None:
    _account, dr, cr = lines[0]
    expected = round_half_up(money(dr or cr) * rate, 2)
    side = "debit_base" if dr else "credit_base"
    wrong = [dataclasses.replace(e, **({side: str(expected + CENT)} if i == 0 else {}))
             for i, e in enumerate(inputs(lines))]
    with pytest.raises(d.InvalidLine) as caught:
        check_content(ContentInput(DAY, "x", wrong, currency="EUR", exchange_rate=rate), GEL)
    assert str(expected) in caught.value.detail


# ---------------------------------------------------------------------- reversal


@given(balanced(), st.dates(date(2016, 1, 1), date(2027, 12, 31)))
def test_reversing_twice_gives_back_the_original_entries(lines: list[tuple[str, int, int]],
                                                         on: date) -> None:
    content = check_content(ContentInput(DAY, "Sale", inputs(lines)), GEL)
    mirror = content.reversed(on, "Reversal")
    assert mirror.date == on
    assert mirror.description == "Reversal"
    for original, swapped in zip(content.lines, mirror.lines, strict=True):
        assert (swapped.debit, swapped.credit) == (original.credit, original.debit)
        assert (swapped.debit_base, swapped.credit_base) == (original.credit_base,
                                                             original.debit_base)
    assert mirror.total == content.total
    assert mirror.reversed(DAY, "Sale") == content
    assert mirror.reversed(DAY, "Sale").lines == content.lines


# ---------------------------------------------------------------------- replay


def stored(events: Sequence[DomainEvent]) -> list[tuple[str, dict[str, Any]]]:
    """Events as they come back from the event store: through JSON."""
    return [(e.type, orjson.loads(orjson.dumps(e.to_data()))) for e in events]


contents = balanced(max_cents=10**8).map(
    lambda lines: check_content(ContentInput(DAY, "Sale", inputs(lines)), GEL))

#: What may happen to a transaction after it is drafted, in the order the rules allow.
commands = st.lists(st.one_of(
    st.tuples(st.just("amend"), contents, st.sampled_from([AUTHOR, CHIEF])),
    st.tuples(st.just("approve"), st.none(), st.sampled_from([AUTHOR, CHIEF])),
    st.tuples(st.just("discard"), st.none(), st.sampled_from([AUTHOR, CHIEF])),
    st.tuples(st.just("post"), st.integers(1, 10**6), st.sampled_from([AUTHOR, CHIEF])),
    st.tuples(st.just("reverse"), st.none(), st.just(CHIEF)),
), max_size=8)


def state(tx: JournalTransaction) -> JournalTransaction:
    return dataclasses.replace(tx, pending=[])


@given(contents, commands, st.booleans())
def test_replaying_the_events_reproduces_the_state(content: Content,
                                                   steps: list[tuple[str, Any, Actor]],
                                                   born_posted: bool) -> None:
    """Whatever commands are tried (allowed or refused), the events recorded rebuild the
    aggregate exactly, and a refused command records nothing."""
    tx_id = UUID(int=7)
    if born_posted:
        tx = JournalTransaction.born_posted(tx_id, content, CHIEF, 1, 2026, reverses=UUID(int=6))
    else:
        tx = JournalTransaction.draft(tx_id, content, AUTHOR)
    for name, argument, actor in steps:
        before = (state(tx), len(tx.pending))
        try:
            if name == "amend":
                tx.amend(argument, actor)
            elif name == "approve":
                tx.approve(actor)
            elif name == "discard":
                tx.discard(actor)
            elif name == "post":
                tx.post(argument, 2026, actor)
            else:
                tx.mark_reversed(UUID(int=8), "Wrong customer", actor)
        except SaldoError:
            assert (state(tx), len(tx.pending)) == before
        if name == "approve" and actor == AUTHOR and before[0].status is Status.DRAFT:
            assert tx.status is Status.DRAFT  # maker-checker
    replayed = JournalTransaction.replay(tx_id, stored(tx.pending))
    assert replayed == state(tx)
    assert replayed is not None
    assert replayed.version == len(tx.pending)
    if tx.status is Status.POSTED:
        assert replayed.number is not None
        assert replayed.fiscal_year == 2026


def test_replaying_nothing_is_no_transaction() -> None:
    assert JournalTransaction.replay(UUID(int=7), []) is None


def test_the_author_cannot_approve() -> None:
    content = check_content(ContentInput(DAY, "Sale", inputs([("1410", 100, 0),
                                                              ("6110", 0, 100)])), GEL)
    tx = JournalTransaction.draft(UUID(int=7), content, AUTHOR)
    with pytest.raises(d.SegregationOfDuties):
        tx.approve(AUTHOR)
    tx.approve(CHIEF)
    assert tx.status is Status.APPROVED
    assert tx.approved_by == "chief"


# ---------------------------------------------------------------------- fiscal calendar


@given(st.dates(date(1990, 1, 1), date(2200, 12, 31)), st.integers(1, 12))
def test_a_fiscal_year_is_twelve_consecutive_months_holding_the_date(day: date,
                                                                     start_month: int) -> None:
    year = d.fiscal_year_of(day, start_month)
    periods = d.periods_of_year(year, start_month)
    assert len(periods) == 12
    assert periods[0].start == date(year, start_month, 1)
    for earlier, later in itertools.pairwise(periods):
        assert later.start == earlier.end + timedelta(days=1)
    for p in periods:
        assert p.start.day == 1
        assert (p.end + timedelta(days=1)).day == 1
        assert p.period == d.period_of(p.start)
    assert periods[-1].end + timedelta(days=1) == date(year + 1, start_month, 1)
    holding = [p for p in periods if p.start <= day <= p.end]
    assert [p.period for p in holding] == [d.period_of(day)]
    # The year is named by the calendar year it starts in.
    assert year in (day.year, day.year - 1)
    assert (year == day.year) == (day.month >= start_month)
    assert d.parse_period(d.period_of(day)) == day.replace(day=1)
