"""The fx context's use cases: store a rate typed in, fetch NBG's rates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import structlog

from saldo.fx import queries, store
from saldo.fx.domain import (
    NbgAnswerInvalid,
    NbgUnavailable,
    OfficialRate,
    RateNotFound,
    check_currency,
    manual_rate,
)
from saldo.fx.nbg import NbgClient
from saldo.fx.queries import RateInEffect
from saldo.platform.db import Database

log = structlog.get_logger("saldo.fx")

__all__ = ["FetchOutcome", "FxService", "RateInEffect", "RateNotFound"]

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
                 today: Callable[[], date] = date.today) -> None:
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
