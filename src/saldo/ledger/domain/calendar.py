"""The fiscal calendar: fiscal years and their months, and the fiscal year as an
event-sourced aggregate (open, close, reopen, lock; the year-end close). No I/O."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from saldo.kernel.events import Actor, DomainEvent, event_types
from saldo.ledger.domain.errors import (
    FiscalYearUnavailable,
    InvalidState,
    PeriodLocked,
    PeriodNotFound,
    YearClosed,
    YearNotClosed,
)

# ---------------------------------------------------------------------- fiscal calendar


def fiscal_year_of(day: date, start_month: int) -> int:
    """The fiscal year holding ``day``, named by the calendar year it starts in."""
    return day.year if day.month >= start_month else day.year - 1


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True, slots=True)
class Period:
    period: str
    start: date
    end: date


def periods_of_year(year: int, start_month: int) -> list[Period]:
    """The twelve months of fiscal year ``year``."""
    out = []
    for i in range(12):
        month0 = start_month - 1 + i
        y, m = year + month0 // 12, month0 % 12 + 1
        out.append(Period(f"{y:04d}-{m:02d}", date(y, m, 1),
                          date(y, m, monthrange(y, m)[1])))
    return out


PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_period(text: str) -> date:
    match = PERIOD.fullmatch(text)
    if not match:
        raise PeriodNotFound(f"{text!r} is not a period such as 2026-03.", period=text)
    return date(int(match[1]), int(match[2]), 1)


def check_openable(year: int, today: date, start_month: int, history_years: int) -> None:
    """A company may open fiscal years from ``history_years`` before the current one (to
    migrate its past books) through the next one (to prepare January in December)."""
    current = fiscal_year_of(today, start_month)
    if not current - history_years <= year <= current + 1:
        raise FiscalYearUnavailable(
            f"Fiscal year {year} cannot be opened: Saldo opens {current - history_years} "
            f"to {current + 1}.", year=year)


class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


def next_period_status(current: PeriodStatus, action: str, period: str) -> PeriodStatus:
    """close: open → closed; reopen: closed → open; lock: open|closed → locked (final)."""
    if current is PeriodStatus.LOCKED:
        raise PeriodLocked(f"Period {period} is locked; a locked period never reopens.",
                           period=period)
    if action == "close":
        if current is not PeriodStatus.OPEN:
            raise InvalidState(f"Period {period} is {current.value}, not open.", period=period)
        return PeriodStatus.CLOSED
    if action == "reopen":
        if current is not PeriodStatus.CLOSED:
            raise InvalidState(f"Period {period} is {current.value}, not closed.", period=period)
        return PeriodStatus.OPEN
    if action == "lock":
        return PeriodStatus.LOCKED
    raise ValueError(action)


# ---------------------------------------------------------------------- the fiscal year
#
# The fiscal year is an aggregate like the journal transaction: its stream records that it
# was opened with its twelve months, each month's closing, reopening and locking, and the
# year-end close and reopening; the aggregate replays them and decides. Its events are
# typed (saldo.kernel.events); their data is the shape stored since the ledger began, so
# old streams read as they are. The month events keep their stored names (PeriodClosed,
# ...), which the error PeriodClosed (a posting into a closed month) also bears: the classes
# are named for the month.


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    period: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class FiscalYearOpened(DomainEvent):
    year: int
    periods: tuple[PeriodSpan, ...]
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class MonthClosed(DomainEvent):
    type: ClassVar[str] = "PeriodClosed"
    period: str
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class MonthReopened(DomainEvent):
    type: ClassVar[str] = "PeriodReopened"
    period: str
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class MonthLocked(DomainEvent):
    type: ClassVar[str] = "PeriodLocked"
    period: str
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class FiscalYearClosed(DomainEvent):
    year: int
    #: The year-end closing transaction (None: the year had no result to move).
    closing_transaction: UUID | None
    #: The months this close closed (reopening the year reopens these, not the months
    #: closed one by one before); missing in events written before it was recorded.
    closed_periods: tuple[str, ...] | None
    by: str
    by_id: UUID


@dataclass(frozen=True, slots=True)
class FiscalYearReopened(DomainEvent):
    year: int
    by: str
    by_id: UUID


FISCAL_YEAR_EVENTS = event_types(FiscalYearOpened, MonthClosed, MonthReopened, MonthLocked,
                                 FiscalYearClosed, FiscalYearReopened)
_MONTH_EVENTS: dict[str, type[MonthClosed | MonthReopened | MonthLocked]] = {
    "close": MonthClosed, "reopen": MonthReopened, "lock": MonthLocked}


@dataclass(slots=True)
class FiscalYear:
    """A fiscal year of one company: its months' statuses and whether it is closed."""

    year: int
    version: int = 0
    months: dict[str, PeriodStatus] = field(default_factory=dict)
    spans: dict[str, PeriodSpan] = field(default_factory=dict)
    closed: bool = False
    closing_transaction: UUID | None = None
    closed_by_close: tuple[str, ...] = ()
    pending: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def open(cls, year: int, periods: Sequence[Period], actor: Actor) -> FiscalYear:
        fiscal_year = cls(year)
        fiscal_year._record(FiscalYearOpened(
            year, tuple(PeriodSpan(p.period, p.start, p.end) for p in periods),
            actor.username, actor.id))
        return fiscal_year

    @classmethod
    def replay(cls, year: int, events: Iterable[tuple[str, Mapping[str, Any]]]
               ) -> FiscalYear | None:
        fiscal_year = cls(year)
        for event_type, data in events:
            fiscal_year.apply(FISCAL_YEAR_EVENTS[event_type].from_data(data))
        return fiscal_year if fiscal_year.version else None

    # -------------------------------------------------------------- commands

    def change_month(self, period: str, action: str, actor: Actor) -> PeriodStatus:
        """close: open → closed; reopen: closed → open; lock: open|closed → locked."""
        current = self.months.get(period)
        if current is None:
            raise PeriodNotFound(f"Period {period} is not in fiscal year {self.year}.",
                                 period=period)
        status = next_period_status(current, action, period)
        self._record(_MONTH_EVENTS[action](period, actor.username, actor.id))
        return status

    def check_closable(self) -> None:
        if self.closed:
            raise YearClosed(f"Fiscal year {self.year} is closed already.", year=self.year)

    def close(self, actor: Actor, closing_transaction: UUID | None) -> list[str]:
        """Close the year: every month still open closes with it. Returns those months.
        The closing transaction (if the year has a result) is dated the year's last day,
        so that month must not be locked."""
        self.check_closable()
        last = list(self.months)[-1]
        if closing_transaction is not None and self.months[last] is PeriodStatus.LOCKED:
            raise PeriodLocked(f"Period {last} is locked; the closing transaction cannot be "
                               "posted into it.", period=last)
        closing = [p for p, status in self.months.items() if status is PeriodStatus.OPEN]
        for period in closing:
            self._record(MonthClosed(period, actor.username, actor.id))
        self._record(FiscalYearClosed(self.year, closing_transaction, tuple(closing),
                                      actor.username, actor.id))
        return closing

    def check_reopenable(self) -> None:
        if not self.closed:
            raise YearNotClosed(f"Fiscal year {self.year} is not closed.", year=self.year)
        locked = [p for p, status in self.months.items() if status is PeriodStatus.LOCKED]
        if locked:
            raise PeriodLocked(f"Periods {', '.join(locked)} are locked; fiscal year "
                               f"{self.year} can no longer be reopened.", periods=locked)

    def reopen(self, actor: Actor) -> None:
        """Undo the year-end close: the months that close closed open again."""
        self.check_reopenable()
        for period, status in list(self.months.items()):
            if status is PeriodStatus.CLOSED and period in self.closed_by_close:
                self._record(MonthReopened(period, actor.username, actor.id))
        self._record(FiscalYearReopened(self.year, actor.username, actor.id))

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    # -------------------------------------------------------------- state

    def apply(self, event: DomainEvent) -> None:
        self.version += 1
        if isinstance(event, FiscalYearOpened):
            self.months = {p.period: PeriodStatus.OPEN for p in event.periods}
            self.spans = {p.period: p for p in event.periods}
        elif isinstance(event, MonthClosed):
            self.months[event.period] = PeriodStatus.CLOSED
        elif isinstance(event, MonthReopened):
            self.months[event.period] = PeriodStatus.OPEN
        elif isinstance(event, MonthLocked):
            self.months[event.period] = PeriodStatus.LOCKED
        elif isinstance(event, FiscalYearClosed):
            self.closed, self.closing_transaction = True, event.closing_transaction
            # Events written before the close recorded its months: all of the year's.
            self.closed_by_close = (event.closed_periods if event.closed_periods is not None
                                    else tuple(self.months))
        elif isinstance(event, FiscalYearReopened):
            self.closed, self.closing_transaction = False, None



FISCAL_YEAR_OPENED = FiscalYearOpened.type
PERIOD_CLOSED = MonthClosed.type
PERIOD_REOPENED = MonthReopened.type
PERIOD_LOCKED = MonthLocked.type
FISCAL_YEAR_CLOSED = FiscalYearClosed.type
FISCAL_YEAR_REOPENED = FiscalYearReopened.type
