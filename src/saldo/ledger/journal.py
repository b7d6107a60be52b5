"""Journal transactions' use cases: draft, amend, discard, approve, post and reverse a
transaction typed by a person (maker-checker); the posting port other contexts call
inside their own unit of work; IAS 21 revaluation, which posts through the port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.fx import queries as fx_queries
from saldo.fx import service as fx
from saldo.identity.service import CompanyContext
from saldo.kernel.errors import RuleViolation
from saldo.kernel.ids import new_id
from saldo.ledger import domain as d
from saldo.ledger import queries, store
from saldo.ledger.books import (
    PostedJournal,
    RateNotFound,
    actor_of,
    check_accounts,
    fingerprint,
    needs_rate,
    transaction_stream,
    with_official_rate,
)
from saldo.ledger.calendar import Calendar
from saldo.ledger.domain import (
    FX_DIFFERENCE,
    Content,
    ContentInput,
    JournalDraft,
    JournalTransaction,
    LineDraft,
    SourceRef,
)
from saldo.platform.uow import UnitOfWork


class InvalidExchangeDifference(RuleViolation):
    """An exchange-difference line anywhere but where it belongs (docs/currencies.md)."""

    code = "invalid_exchange_difference"
    title = "Exchange difference not allowed here"


async def check_exchange_differences(uow: UnitOfWork, content: Content,
                                     base_currency: str) -> None:
    """Exchange-difference lines (a GEL amount only) are allowed for one purpose: moving a
    foreign-currency monetary item's GEL value against exchange gain or loss (IAS 21.28
    realised on settlement, 21.23 unrealised at the closing rate). So:

    * they balance among themselves: never a plug for the regular lines' difference;
    * each is either on an exchange gain or loss account (classification fx_gain_loss) or
      on a monetary item (IAS 21.16) in a foreign currency, and there is at least one of
      each."""
    lines = [e for e in content.lines if e.kind == FX_DIFFERENCE]
    if not lines:
        return
    debit = sum((e.debit_base for e in lines), Decimal(0))
    credit = sum((e.credit_base for e in lines), Decimal(0))
    if debit != credit:
        raise InvalidExchangeDifference(
            f"Exchange-difference lines must balance among themselves (debits {debit}, "
            f"credits {credit}): an exchange difference moves an item's value against "
            "exchange gain or loss, it does not make up the other lines' difference.",
            debit=str(debit), credit=str(credit))
    classes = await queries.classifications(uow.conn, uow.company_id,
                                            (e.account_code for e in lines))
    gain_loss = [e for e in lines if classes.get(e.account_code) == "fx_gain_loss"]
    items = [e for e in lines if classes.get(e.account_code) != "fx_gain_loss"]
    if not gain_loss or not items:
        raise InvalidExchangeDifference(
            "An exchange difference moves a monetary item's GEL value against an exchange "
            "gain or loss account (8140/8240 realised, 8145/8245 unrealised): it needs a "
            "line on each.")
    for entry in items:
        if not fx.is_monetary(entry.account_code):
            raise InvalidExchangeDifference(
                f"Account {entry.account_code} is not a monetary item (IAS 21.16: cash, "
                "receivables, payables, loans); it has no exchange difference.",
                code=entry.account_code)
        if (entry.currency or content.currency) == base_currency:
            raise InvalidExchangeDifference(
                f"Account {entry.account_code}: an item in {base_currency} has no exchange "
                "difference; name the foreign currency of the item.",
                code=entry.account_code)


def exchange_difference(account_code: str, residual: Decimal, *, currency: str | None = None,
                        counterparty_id: UUID | None = None,
                        document_id: UUID | None = None) -> list[LineDraft]:
    """The two exchange-difference lines that clear ``residual``, the GEL left on a
    foreign-currency item once it is settled in full in its currency (debit positive:
    what was booked minus what the settlement took off). Realised (IAS 21.28): a debit
    residual is a loss (Cr the item, Dr 8240), a credit residual a gain (Dr the item,
    Cr 8140). ``currency``: the item's, when the transaction is in another (a GEL
    transaction adjusting several currencies' items, as the revaluation is).

    Worked example: a receivable of USD 100.00 booked at 2.70 (270.00) is paid at 2.75,
    which credits it 275.00; residual 270.00 − 275.00 = −5.00: Dr 1410 5.00, Cr 8140 5.00.
    A payable of USD 100.00 booked at 2.70 (−270.00) paid at 2.75 (debited 275.00):
    residual +5.00: Cr 3110 5.00, Dr 8240 5.00."""
    if not residual:
        return []
    gain = residual < 0
    amount = abs(residual)
    text = "Realised exchange difference"
    item = LineDraft(account_code, debit_base=amount if gain else None,
                     credit_base=None if gain else amount, description=text,
                     counterparty_id=counterparty_id, document_id=document_id,
                     kind=FX_DIFFERENCE, currency=currency)
    result = (LineDraft(fx.REALISED_GAIN, credit_base=amount, kind=FX_DIFFERENCE,
                        description="Exchange gain (realised)") if gain else
              LineDraft(fx.REALISED_LOSS, debit_base=amount, kind=FX_DIFFERENCE,
                        description="Exchange loss (realised)"))
    return [item, result]


@dataclass(frozen=True, slots=True)
class Revaluation:
    """What :meth:`LedgerService.revalue` did: the transaction it posted (or the one that
    revalued this date before, when nothing was left to revalue), and each position."""

    transaction_id: UUID | None
    lines: list[fx.Retranslation]
    posted: bool



class Journal(Calendar):
    """Journal transactions' use cases and the posting port (part of
    :class:`~saldo.ledger.service.LedgerService`); a posting takes the calendar's
    open-period lock and gap-free number."""

    # ------------------------------------------------------------------ the posting port

    async def post_journal(self, uow: UnitOfWork, draft: JournalDraft) -> PostedJournal:
        """Post a journal transaction made by a document, inside the document's own unit
        of work: the document's events and its journal transaction commit together or
        not at all, and a race retries both.

        Every ledger rule applies as to a journal entry typed by a person (balanced in GEL
        and per currency, active leaf accounts, an open period, currency and rate, the
        gap-free number). The transaction is born posted: the document's own posting is
        its approval (docs/decisions/0014-unit-of-work-and-posting-port.md). Its lines may
        carry the counterparty and the document, and exchange-difference lines.
        """
        settings = await self.company(uow.company_id, uow.conn)
        raw = await with_official_rate(uow.conn, draft.content(), settings.base_currency)
        content = d.check_content(raw, settings.base_currency, document_flow=True)
        await check_exchange_differences(uow, content, settings.base_currency)
        d.check_openable(d.fiscal_year_of(content.date, settings.fiscal_year_start_month),
                         self.today(), settings.fiscal_year_start_month, self.history_years)
        number, year = await self._checked_number(uow, content)
        tx = JournalTransaction.born_posted(new_id(), content, uow.actor, number, year)
        await self._save(uow, tx)
        return PostedJournal(tx.id, number, year, content)

    async def reverse_journal(self, uow: UnitOfWork, transaction_id: UUID, reason: str,
                              on: date | None = None) -> PostedJournal:
        """Reverse a posted transaction inside the caller's unit of work (a document's
        cancellation): the mirror image, dated ``on`` or the original's date."""
        reversal, _ = await self._reverse(uow, transaction_id, reason, on)
        assert reversal.content is not None
        assert reversal.number is not None
        assert reversal.fiscal_year is not None
        return PostedJournal(reversal.id, reversal.number, reversal.fiscal_year,
                             reversal.content)

    # ------------------------------------------------------------------ IAS 21

    async def revalue(self, ctx: CompanyContext, as_of: date,
                      correlation_id: str | None = None) -> Revaluation:
        """IAS 21.23 at ``as_of``: every monetary account's balance in each foreign
        currency retranslated at the official rate in effect that day; each difference
        posted against unrealised exchange gain (8145) or loss (8245), in one transaction
        dated ``as_of`` and reversed on the next day (docs/decisions/0022): the books keep
        the items at their transaction rates, so a later settlement's realised difference
        is measured from the rate the item was booked at.

        Idempotent per date: the carrying amounts as of ``as_of`` include an earlier
        revaluation of that date, so running it again finds nothing to post (and answers
        that earlier transaction); a posting back-dated since is revalued by the delta."""
        settings = await self.company(ctx.company_id)
        base = settings.base_currency
        for day in (as_of, as_of + timedelta(days=1)):
            year = d.fiscal_year_of(day, settings.fiscal_year_start_month)
            d.check_openable(year, self.today(), settings.fiscal_year_start_month,
                             self.history_years)
        actor = actor_of(ctx)

        async def decide(uow: UnitOfWork) -> Revaluation:
            conn = uow.conn
            positions = [fx.Position(code, currency, amount, gel)
                         for code, currency, amount, gel in
                         await queries.foreign_positions(conn, ctx.company_id, as_of, base)
                         if fx.is_monetary(code)]
            rates = await fx_queries.rates_in_effect(conn, {p.currency for p in positions},
                                                     as_of)
            missing = sorted({p.currency for p in positions} - set(rates))
            if missing:
                raise RateNotFound(f"No official rate in effect on {as_of} for "
                                   f"{', '.join(missing)}; load the rates (saldo rates "
                                   "fetch) or enter them.", currencies=missing,
                                   date=str(as_of))
            lines = [fx.retranslate(p, rates[p.currency].rate) for p in positions]
            moved = [r for r in lines if r.difference]
            if not moved:
                earlier = await queries.revaluations(conn, ctx.company_id, as_of)
                if not earlier:
                    return Revaluation(None, lines, False)
                # Revalued before: answer as that revaluation did (its differences taken
                # out of the carrying amounts again), so a repeated request gets the same
                # answer and posts nothing.
                done: dict[tuple[str, str], Decimal] = {}
                for tx in earlier:
                    for e in tx["entries"]:
                        if e.get("kind") == FX_DIFFERENCE and e.get("currency"):
                            key = (e["account_code"], e["currency"])
                            done[key] = (done.get(key, Decimal(0)) + Decimal(e["debit_base"])
                                         - Decimal(e["credit_base"]))
                lines = [fx.retranslate(fx.Position(
                    r.account_code, r.currency, r.foreign_balance,
                    r.gel_before - done.get((r.account_code, r.currency), Decimal(0))),
                    r.rate) for r in lines]
                return Revaluation(earlier[-1]["id"], lines, False)
            drafts: list[LineDraft] = []
            gains = sum((r.difference for r in moved if r.difference > 0), Decimal(0))
            losses = -sum((r.difference for r in moved if r.difference < 0), Decimal(0))
            for r in moved:
                text = (f"{r.currency} {r.foreign_balance} at {r.rate}: "
                        f"{r.gel_before} → {r.gel_after}")
                if r.difference > 0:
                    drafts.append(LineDraft(r.account_code, debit_base=r.difference,
                                            kind=FX_DIFFERENCE, currency=r.currency,
                                            description=text))
                else:
                    drafts.append(LineDraft(r.account_code, credit_base=-r.difference,
                                            kind=FX_DIFFERENCE, currency=r.currency,
                                            description=text))
            if gains:
                drafts.append(LineDraft(fx.UNREALISED_GAIN, credit_base=gains,
                                        kind=FX_DIFFERENCE,
                                        description="Unrealised exchange gains (IAS 21.23)"))
            if losses:
                drafts.append(LineDraft(fx.UNREALISED_LOSS, debit_base=losses,
                                        kind=FX_DIFFERENCE,
                                        description="Unrealised exchange losses (IAS 21.23)"))
            posted = await self.post_journal(uow, JournalDraft(
                as_of, f"IAS 21 revaluation of foreign-currency monetary items as of {as_of}",
                drafts, SourceRef("fx_revaluation", new_id()), currency=base))
            await self.reverse_journal(uow, posted.id,
                                       f"IAS 21 revaluation of {as_of} reversed",
                                       as_of + timedelta(days=1))
            return Revaluation(posted.id, lines, True)

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    # ------------------------------------------------------------------ transactions

    async def check(self, company_id: UUID, raw: ContentInput) -> Content:
        settings = await self.company(company_id)
        if needs_rate(raw, settings.base_currency) is not None:
            async with self.db.transaction(company_id=company_id) as conn:
                raw = await with_official_rate(conn, raw, settings.base_currency)
        content = d.check_content(raw, settings.base_currency)
        d.check_openable(d.fiscal_year_of(content.date, settings.fiscal_year_start_month),
                         self.today(), settings.fiscal_year_start_month, self.history_years)
        return content

    async def draft(self, ctx: CompanyContext, raw: ContentInput,
                    idempotency_key: str | None = None,
                    correlation_id: str | None = None) -> tuple[JournalTransaction, bool]:
        """A new draft. Returns it and whether it is new (``False``: the same request was
        made before with this idempotency key, and this is its transaction)."""
        content = await self.check(ctx.company_id, raw)
        actor = actor_of(ctx)

        async def decide(uow: UnitOfWork) -> tuple[JournalTransaction, bool]:
            conn = uow.conn
            await check_accounts(uow, content)
            transaction_id = new_id()
            if idempotency_key is not None:
                earlier = await store.claim_idempotency_key(
                    conn, ctx.company_id, idempotency_key, fingerprint(content), transaction_id)
                if earlier is not None:
                    if earlier[0] != fingerprint(content):
                        raise d.IdempotencyKeyReused(
                            "This Idempotency-Key was used for a different request.",
                            key=idempotency_key)
                    return await self._load(uow, earlier[1]), False
            tx = JournalTransaction.draft(transaction_id, content, actor)
            await self._save(uow, tx)
            return tx, True

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def _decide_on(self, ctx: CompanyContext, transaction_id: UUID,
                         act: Callable[[UnitOfWork, JournalTransaction], Awaitable[None]],
                         correlation_id: str | None) -> JournalTransaction:
        """Load one transaction, let ``act`` decide on it, save what it recorded."""
        actor = actor_of(ctx)

        async def decide(uow: UnitOfWork) -> JournalTransaction:
            tx = await self._load(uow, transaction_id)
            await act(uow, tx)
            await self._save(uow, tx)
            return tx

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def amend(self, ctx: CompanyContext, transaction_id: UUID, raw: ContentInput,
                    correlation_id: str | None = None) -> JournalTransaction:
        content = await self.check(ctx.company_id, raw)

        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            tx.amend(content, uow.actor)  # state first: amending a posted one is 409, not 422
            await check_accounts(uow, content)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def discard(self, ctx: CompanyContext, transaction_id: UUID,
                      correlation_id: str | None = None) -> JournalTransaction:
        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            tx.discard(uow.actor)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def approve(self, ctx: CompanyContext, transaction_id: UUID,
                      correlation_id: str | None = None) -> JournalTransaction:
        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            tx.approve(uow.actor)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def post(self, ctx: CompanyContext, transaction_id: UUID,
                   correlation_id: str | None = None) -> JournalTransaction:
        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            content = tx.check_postable()
            number, year = await self._checked_number(uow, content)
            tx.post(number, year, uow.actor)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def reverse(self, ctx: CompanyContext, transaction_id: UUID, reason: str,
                      on: date | None = None, correlation_id: str | None = None
                      ) -> tuple[JournalTransaction, JournalTransaction]:
        """Post the mirror image of a posted transaction, dated ``on`` (default: the
        original's date), and link the two. Returns (reversal, original)."""
        async def decide(uow: UnitOfWork) -> tuple[JournalTransaction, JournalTransaction]:
            return await self._reverse(uow, transaction_id, reason, on)

        return await self.units.run(ctx.company_id, actor_of(ctx), decide,
                                    correlation_id=correlation_id)

    async def _reverse(self, uow: UnitOfWork, transaction_id: UUID, reason: str,
                       on: date | None) -> tuple[JournalTransaction, JournalTransaction]:
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise d.InvalidLine("A reversal needs a reason of 1 to 500 characters.",
                                field="reason")
        original = await self._load(uow, transaction_id)
        content = original.check_reversible()
        day = on or content.date
        if day < content.date:
            raise d.InvalidReversalDate(
                f"The reversal is dated {day}, before the original ({content.date}).",
                date=str(day))
        settings = await self.company(uow.company_id, uow.conn)
        d.check_openable(d.fiscal_year_of(day, settings.fiscal_year_start_month),
                         self.today(), settings.fiscal_year_start_month, self.history_years)
        mirrored = content.reversed(day, f"Reversal of No. {original.number}: {reason}"[:500])
        number, year = await self._number(uow, day)
        reversal = JournalTransaction.born_posted(new_id(), mirrored, uow.actor, number, year,
                                                  reverses=original.id)
        original.mark_reversed(reversal.id, reason, uow.actor)
        await self._save(uow, reversal)
        await self._save(uow, original)
        return reversal, original

    async def history(self, company_id: UUID, transaction_id: UUID) -> list[dict[str, Any]]:
        async with self.db.transaction(company_id=company_id) as conn:
            events = await self.events.read_stream(conn, transaction_stream(transaction_id))
        if not events:
            raise d.TransactionNotFound("No such transaction.",
                                        transaction_id=str(transaction_id))
        return [{"type": e.type, "version": e.version, "recorded_at": e.recorded_at,
                 "actor": d.TRANSACTION_EVENTS[e.type].from_data(e.data).by, "data": e.data}
                for e in events]


