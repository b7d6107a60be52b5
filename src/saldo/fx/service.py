"""The fx context's use cases: store a rate typed in, fetch NBG's rates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog

from saldo.fx import queries, store
from saldo.fx.domain import (
    REALISED_GAIN,
    REALISED_LOSS,
    UNREALISED_GAIN,
    UNREALISED_LOSS,
    NbgAnswerInvalid,
    NbgUnavailable,
    OfficialRate,
    Position,
    RateNotFound,
    Retranslation,
    check_currency,
    is_monetary,
    manual_rate,
    retranslate,
)
from saldo.fx.nbg import NbgClient
from saldo.fx.queries import RateInEffect
from saldo.platform.db import Database

log = structlog.get_logger("saldo.fx")

#: What other contexts use: the service, and IAS 21's pure rules (the ledger's revaluation
#: and its exchange-difference checks).
__all__ = ["REALISED_GAIN", "REALISED_LOSS", "UNREALISED_GAIN", "UNREALISED_LOSS",
           "FetchOutcome", "FxService", "Position", "RateInEffect", "RateNotFound",
           "Retranslation", "is_monetary", "retranslate"]

#: NBG's clock: a day's rates are Tbilisi's day (georgia.md §7).
TBILISI = ZoneInfo("Asia/Tbilisi")


def tbilisi_today() -> date:
    return datetime.now(TBILISI).date()


#: The most days one fetch may cover (a year and a bit: loading a year's history).
MAX_FETCH_DAYS = 400


@dataclass(slots=True)
class FetchOutcome:
    """What :meth:`FxService.fetch` did, per day asked."""

    stored: int = 0
    unchanged: int = 0
    days: list[date] = field(default_factory=list)
    #: (day, code, message) for each day whose answer was unusable (nothing stored).
    failures: list[tuple[date, str, str]] = field(default_factory=list)


class FxService:
    def __init__(self, db: Database, client: NbgClient, *,
                 today: Callable[[], date] = tbilisi_today) -> None:
        self.db = db
        self.client = client
        self.today = today

    async def rate(self, currency: str, on: date) -> RateInEffect:
        """The rate in effect on ``on``; :class:`RateNotFound` if there is none."""
        code = check_currency(currency)
        async with self.db.transaction() as conn:
            found = await queries.rate_in_effect(conn, code, on)
        if found is None:
            raise RateNotFound(f"No {code} rate is in effect on {on}: none was published "
                               "on or before that day.", currency=code, date=str(on))
        return found

    async def set_rate(self, currency: object, valid_from: date, rate: object,
                       by: str) -> RateInEffect:
        """Store a rate a superuser enters (replacing the one of that day, if any)."""
        official = manual_rate(currency, valid_from, rate)
        async with self.db.transaction() as conn:
            await store.save_rates(conn, [official], by)
        log.info("rate_entered", currency=official.currency, valid_from=str(valid_from),
                 rate=str(official.rate), by=by)
        return RateInEffect(official.currency, official.rate.normalize(), valid_from,
                            official.source)

    async def store_rates(self, rates: Iterable[OfficialRate], by: str) -> int:
        async with self.db.transaction() as conn:
            return await store.save_rates(conn, list(rates), by)

    async def fetch(self, first: date, last: date | None = None, *,
                    by: str = "nbg") -> FetchOutcome:
        """Load NBG's rates for each day from ``first`` to ``last``; each day's answer is
        stored whole or not at all. A day NBG cannot serve (no answer, a malformed or
        empty one, or one for another day) is a failure of that day, never a partial
        store. Days after today are not asked (NBG has no future rates)."""
        last = last or first
        if last < first:
            first, last = last, first
        if (last - first).days >= MAX_FETCH_DAYS:
            raise NbgAnswerInvalid(f"At most {MAX_FETCH_DAYS} days per fetch.",
                                   findings=[f"{first}..{last} is too long."])
        outcome = FetchOutcome()
        day = first
        while day <= min(last, self.today()):
            outcome.days.append(day)
            try:
                rates = await self.client.rates(day)
            except (NbgAnswerInvalid, NbgUnavailable) as exc:
                log.warning("nbg_fetch_failed", day=str(day), code=exc.code, detail=exc.detail)
                outcome.failures.append((day, exc.code, exc.detail))
            else:
                changed = await self.store_rates(rates, by)
                outcome.stored += changed
                outcome.unchanged += len(rates) - changed
            day += timedelta(days=1)
        return outcome


    async def catch_up(self, days: int = 7) -> FetchOutcome:
        """Fetch from the day after the latest NBG rate stored (at most ``days`` back) to
        today: what the daily schedule runs, so a day missed while the worker was down or
        NBG was unreachable is fetched the next time."""
        today = self.today()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT max(valid_from) AS last FROM fx_rates WHERE source = 'nbg'")
            row = await cursor.fetchone()
        last = row["last"] if row else None
        first = today - timedelta(days=days - 1)
        if last is not None and last + timedelta(days=1) > first:
            first = min(last + timedelta(days=1), today)
        return await self.fetch(first, today)

    async def run_schedule(self, stop: asyncio.Event, *, at: time = time(0, 30),
                           retry_seconds: float = 3600.0, days: int = 7,
                           now: Callable[[], datetime] = lambda: datetime.now(TBILISI)
                           ) -> None:
        """Fetch the rates once at start, then every day at ``at`` (Tbilisi time), until
        ``stop`` is set. A run that leaves a day unfetched is tried again after
        ``retry_seconds``. Failures are logged, never raised: the schedule keeps going."""
        while not stop.is_set():
            try:
                outcome = await self.catch_up(days)
                failed = bool(outcome.failures)
                log.info("rates_fetched", days=len(outcome.days), stored=outcome.stored,
                         failures=len(outcome.failures))
            except Exception:  # a database hiccup must not end the schedule
                log.exception("rates_schedule_failed")
                failed = True
            current = now()
            if failed:
                wait = retry_seconds
            else:
                following = datetime.combine(current.date() + timedelta(days=1), at,
                                             current.tzinfo)
                wait = (following - current).total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(wait, 1.0))
