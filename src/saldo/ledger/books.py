"""What every ledger use case stands on: the company's settings, the streams' names, the
journal transaction's load and save, the official rate a foreign-currency transaction
takes, and the account check every posting makes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

import orjson

from saldo.fx import queries as fx_queries
from saldo.identity import queries as identity_queries
from saldo.identity.service import CompanyContext, CompanyNotFound
from saldo.kernel.errors import RuleViolation
from saldo.kernel.money import ISO_CURRENCIES
from saldo.ledger import domain as d
from saldo.ledger import store
from saldo.ledger.domain import (
    Actor,
    Content,
    ContentInput,
    JournalTransaction,
)
from saldo.ledger.projections import TRANSACTION_STREAM_PREFIX
from saldo.platform.db import Connection
from saldo.platform.uow import UnitOfWork, UnitsOfWork

TRANSACTION_STREAM = "ledger.transaction"
CHART_STREAM = "ledger.chart"
FISCAL_YEAR_STREAM = "ledger.fiscal-year"


def transaction_stream(transaction_id: UUID) -> str:
    return f"{TRANSACTION_STREAM_PREFIX}{transaction_id}"


def chart_stream(company_id: UUID) -> str:
    return f"ledger.chart-{company_id}"


def fiscal_year_stream(company_id: UUID, year: int) -> str:
    return f"ledger.fiscal-year-{company_id}-{year}"


@dataclass(frozen=True, slots=True)
class CompanySettings:
    """What the books need to know of a company. None of it changes after creation
    (identity has no way to), so :meth:`LedgerService.company` caches it."""

    id: UUID
    name: str
    tax_id: str
    base_currency: str
    fiscal_year_start_month: int


@dataclass(frozen=True, slots=True)
class PostedJournal:
    """The posting port's answer: the journal transaction a document made."""

    id: UUID
    number: int
    fiscal_year: int
    content: Content


def actor_of(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


def fingerprint(content: Content) -> str:
    """The same request, however written ("100" or "100.00"): hash of the checked content."""
    return hashlib.sha256(orjson.dumps(content.as_data(), option=orjson.OPT_SORT_KEYS)).hexdigest()


class RateNotFound(RuleViolation):
    """A foreign-currency transaction with no ``exchange_rate`` and no official rate in
    effect on its date (docs/currencies.md)."""

    code = "rate_not_found"
    title = "No exchange rate in effect"


def needs_rate(raw: ContentInput, base_currency: str) -> str | None:
    """The currency whose official rate ``raw`` must take, or ``None``: a foreign-currency
    transaction without ``exchange_rate`` takes the NBG rate in effect on its date."""
    if raw.currency is None or raw.exchange_rate not in (None, ""):
        return None
    currency = raw.currency.strip().upper()
    if currency == base_currency or currency not in ISO_CURRENCIES:
        return None  # the base currency's rate is 1; a bad code is check_content's to report
    return currency


async def with_official_rate(conn: Connection, raw: ContentInput,
                             base_currency: str) -> ContentInput:
    """``raw`` with the official rate in effect on its date, if it needs one (IAS 21.21:
    the spot rate at the date of the transaction; georgia.md §7: the NBG rate in effect,
    the last one on weekends and holidays). None at all: 422 ``rate_not_found``."""
    currency = needs_rate(raw, base_currency)
    if currency is None:
        return raw
    found = await fx_queries.rate_in_effect(conn, currency, raw.date)
    if found is None:
        raise rate_not_found(currency, raw.date)
    return replace(raw, exchange_rate=found.rate)


def rate_not_found(currency: str, day: date) -> RateNotFound:
    """The refusal of a ``currency`` transaction dated ``day`` that gives no rate, when no
    official one is in effect then (one posted or a row of a batch)."""
    return RateNotFound(f"No exchange rate for {currency} on {day}: no official NBG rate is "
                        f"in effect on that date; give exchange_rate (GEL per one {currency}) "
                        "or load the rates (saldo rates fetch).",
                        currency=currency, date=str(day))


async def check_accounts(uow: UnitOfWork, content: Content) -> None:
    """Every line's account exists, is a leaf and is active."""
    codes = [e.account_code for e in content.lines]
    d.check_accounts(codes, await store.posting_targets(uow.conn, uow.company_id, codes))




class Books:
    """The state every part of the ledger's service shares: the units of work, the
    company settings cache, the clock and the range of fiscal years a company may open."""

    def __init__(self, units: UnitsOfWork, *, history_years: int = 10,
                 today: Callable[[], date] = date.today) -> None:
        self.units = units
        self.db, self.events = units.db, units.events
        self.history_years = history_years
        self.today = today
        self._settings: dict[UUID, CompanySettings] = {}
        self._open_years: set[tuple[UUID, int]] = set()

    async def company(self, company_id: UUID, conn: Connection | None = None
                      ) -> CompanySettings:
        """The company's settings, cached; read in ``conn`` when given (inside a unit of
        work, so that it never waits for a second pooled connection while holding one)."""
        settings = self._settings.get(company_id)
        if settings is None:
            if conn is not None:
                row = await identity_queries.company_settings(conn, company_id)
            else:
                async with self.db.transaction(company_id=company_id) as own:
                    row = await identity_queries.company_settings(own, company_id)
            if row is None:
                raise CompanyNotFound("No such company.", company_id=str(company_id))
            # Base currency and fiscal year start never change after creation.
            settings = CompanySettings(company_id, row["name"], row["tax_id"],
                                       row["base_currency"].strip(),
                                       row["fiscal_year_start_month"])
            self._settings[company_id] = settings
        return settings

    async def _save(self, uow: UnitOfWork, tx: JournalTransaction) -> None:
        pending, tx.pending = tx.pending, []
        await uow.append(transaction_stream(tx.id), TRANSACTION_STREAM,
                         tx.version - len(pending), pending)

    async def _load(self, uow: UnitOfWork, transaction_id: UUID) -> JournalTransaction:
        # Row-level security hides other companies' events: another company's id is 404.
        events = await uow.read(transaction_stream(transaction_id))
        tx = JournalTransaction.replay(transaction_id, ((e.type, e.data) for e in events))
        if tx is None:
            raise d.TransactionNotFound("No such transaction.",
                                        transaction_id=str(transaction_id))
        return tx


