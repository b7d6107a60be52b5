"""The fiscal year as an aggregate: it decides on its months and its year-end close from
its own events, and its events keep the shape the ledger has always stored."""

from __future__ import annotations

from uuid import UUID

import pytest

from saldo.kernel.events import SYSTEM
from saldo.ledger import domain as d
from saldo.ledger.domain import Actor, FiscalYear, PeriodStatus

CHIEF = Actor(UUID(int=2), "chief")
CLOSING = UUID(int=99)


def opened(year: int = 2025, start_month: int = 1) -> FiscalYear:
    """A new year; its ``pending`` events are its whole stream (nothing saved yet)."""
    return FiscalYear.open(year, d.periods_of_year(year, start_month), SYSTEM)


def replayed(fiscal_year: FiscalYear) -> FiscalYear:
    """The year as a later command sees it: rebuilt from the data its events store."""
    events = [(e.type, e.to_data()) for e in fiscal_year.pending]
    again = FiscalYear.replay(fiscal_year.year, events)
    assert again is not None
    assert (again.months, again.closed, again.version) == (
        fiscal_year.months, fiscal_year.closed, fiscal_year.version)
    again.pending = list(fiscal_year.pending)  # keep the stream for the next replay
    return again


def test_a_new_year_has_twelve_open_months_in_order() -> None:
    fiscal_year = opened(2025, start_month=4)
    assert list(fiscal_year.months) == [f"2025-{m:02d}" for m in range(4, 13)] + [
        f"2026-{m:02d}" for m in range(1, 4)]
    assert set(fiscal_year.months.values()) == {PeriodStatus.OPEN}
    assert fiscal_year.version == 1


def test_the_opening_event_keeps_the_stored_shape() -> None:
    fiscal_year = FiscalYear.open(2025, d.periods_of_year(2025, 1), CHIEF)
    (event,) = fiscal_year.pending
    assert event.type == "FiscalYearOpened"
    data = event.to_data()
    assert data["periods"][0] == {"period": "2025-01", "start": "2025-01-01",
                                  "end": "2025-01-31"}
    assert (data["year"], data["by"], data["by_id"]) == (2025, "chief", str(CHIEF.id))


def test_months_close_reopen_and_lock_once_for_ever() -> None:
    fiscal_year = opened()
    assert fiscal_year.change_month("2025-03", "close", CHIEF) is PeriodStatus.CLOSED
    assert [e.type for e in fiscal_year.pending][-1] == "PeriodClosed"
    fiscal_year = replayed(fiscal_year)
    with pytest.raises(d.InvalidState):
        fiscal_year.change_month("2025-03", "close", CHIEF)
    assert fiscal_year.change_month("2025-03", "reopen", CHIEF) is PeriodStatus.OPEN
    assert fiscal_year.change_month("2025-03", "lock", CHIEF) is PeriodStatus.LOCKED
    with pytest.raises(d.PeriodLocked):
        fiscal_year.change_month("2025-03", "reopen", CHIEF)
    with pytest.raises(d.PeriodNotFound):
        fiscal_year.change_month("2026-03", "close", CHIEF)


def test_the_year_end_close_closes_the_open_months_and_reopening_reopens_only_those() -> None:
    fiscal_year = opened()
    fiscal_year.change_month("2025-01", "close", CHIEF)  # closed month by month before
    closed = fiscal_year.close(CHIEF, CLOSING)
    assert closed == [f"2025-{m:02d}" for m in range(2, 13)]
    assert fiscal_year.closed
    with pytest.raises(d.YearClosed):
        fiscal_year.close(CHIEF, None)
    fiscal_year = replayed(fiscal_year)
    fiscal_year.reopen(CHIEF)
    fiscal_year = replayed(fiscal_year)
    assert not fiscal_year.closed
    assert fiscal_year.months["2025-01"] is PeriodStatus.CLOSED  # as the accountant left it
    assert fiscal_year.months["2025-02"] is PeriodStatus.OPEN
    with pytest.raises(d.YearNotClosed):
        fiscal_year.reopen(CHIEF)


def test_a_locked_last_month_refuses_a_closing_transaction_but_not_an_empty_close() -> None:
    fiscal_year = opened()
    fiscal_year.change_month("2025-12", "lock", CHIEF)
    with pytest.raises(d.PeriodLocked):
        fiscal_year.close(CHIEF, CLOSING)
    assert fiscal_year.close(CHIEF, None) == [f"2025-{m:02d}" for m in range(1, 12)]
    with pytest.raises(d.PeriodLocked):  # a locked month never reopens
        fiscal_year.reopen(CHIEF)


def test_a_close_recorded_before_its_months_were_reopens_every_closed_month() -> None:
    """Streams written before the close recorded its months: reopening reopens them all."""
    fiscal_year = opened()
    events = [(e.type, e.to_data()) for e in fiscal_year.pending]
    events += [("PeriodClosed", {"period": p, "by": "chief", "by_id": str(CHIEF.id)})
               for p in fiscal_year.months]
    events.append(("FiscalYearClosed", {"year": 2025, "closing_transaction": None,
                                        "by": "chief", "by_id": str(CHIEF.id)}))
    old = FiscalYear.replay(2025, events)
    assert old is not None
    assert old.closed
    old.reopen(CHIEF)
    assert set(old.months.values()) == {PeriodStatus.OPEN}
