"""The ledger's use cases: load, decide, append -- each in one database transaction.

Commands run under the application role with the company set (row-level security) and
are retried when they lose a race (a concurrent change to the same stream, a serialisation
failure or a deadlock): the retry reloads the state and decides again, so the caller sees
either success or the rule the new state breaks, never the race.

``LedgerService`` is what other contexts and the ledger's edges use; its parts live by
concept: :mod:`saldo.ledger.accounts` (the chart), :mod:`saldo.ledger.calendar` (fiscal
years and months), :mod:`saldo.ledger.journal` (transactions, the posting port, IAS 21
revaluation) on :mod:`saldo.ledger.books` (what they share). Bulk posting is here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from saldo.fx import queries as fx_queries
from saldo.identity.service import CompanyContext
from saldo.kernel.errors import SaldoError
from saldo.kernel.ids import new_ids
from saldo.ledger import batch, store
from saldo.ledger import domain as d
from saldo.ledger.accounts import Accounts
from saldo.ledger.books import (
    CompanySettings,
    PostedJournal,
    RateNotFound,
    fingerprint,
    rate_not_found,
)
from saldo.ledger.books import actor_of as _actor
from saldo.ledger.books import needs_rate as _needs_rate
from saldo.ledger.domain import (
    FX_DIFFERENCE,
    Content,
    ContentInput,
    Finding,
    JournalDraft,
    LineDraft,
    PeriodStatus,
    PostingTarget,
    SourceRef,
)
from saldo.ledger.journal import (
    InvalidExchangeDifference,
    Journal,
    Revaluation,
    exchange_difference,
)
from saldo.platform.uow import Busy, UnitOfWork

#: What other contexts use: the service, and the posting port's types.
__all__ = ["FX_DIFFERENCE", "Busy", "CompanySettings", "Finding", "ImportOutcome",
           "InvalidExchangeDifference", "JournalDraft", "LedgerService", "LineDraft",
           "PostedJournal", "RateNotFound", "Revaluation", "SourceRef",
           "exchange_difference"]


@dataclass(slots=True)
class CheckedBatch:
    """A batch whose content passed :func:`~saldo.ledger.domain.check_content`: (row,
    content, fiscal year) per transaction, and the findings of those that did not."""

    rows: list[tuple[int, Content, int]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: Row -> the item's idempotency key (``batch:`` + the client's key), where given.
    keys: dict[int, str] = field(default_factory=dict)
    #: What can be built of the rows' events before they are numbered (in rows' order).
    chunk: batch.Chunk | None = None


@dataclass(slots=True)
class ImportOutcome:
    """What :meth:`LedgerService.import_journal` did."""

    posted: list[tuple[UUID, int, int]] = field(default_factory=list)
    batches: int = 0
    #: Transactions the file held that were imported before (their keys are taken).
    skipped: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: The first row of the batch that failed (None: none failed).
    failed_row: int | None = None


@dataclass(slots=True)
class BatchResult:
    findings: list[Finding] = field(default_factory=list)
    posted: list[tuple[UUID, int, int]] = field(default_factory=list)  # id, year, number
    #: Items whose key was posted before (a re-import): (row, that transaction's id).
    skipped: list[tuple[int, UUID]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


class LedgerService(Journal, Accounts):
    """The ledger's use cases (see the modules named above) and bulk posting."""

    # ------------------------------------------------------------------ bulk posting

    async def post_batch(self, ctx: CompanyContext, rows: Sequence[tuple[int, ContentInput]],
                         correlation_id: str | None = None) -> BatchResult:
        """Validate and post many transactions at once, all or nothing.

        ``rows`` pairs each transaction with the row number it came from; every problem is
        returned as a finding with that row number, and if there is any, nothing is
        written. Imported transactions are posted without a separate approval: the
        importing user must hold ``transactions:approve`` (the API and CLI check it).
        """
        checked = await self.check_batch(ctx, rows)
        if checked.findings:
            return BatchResult(findings=checked.findings)
        return await self.write_batch(ctx, checked, correlation_id)

    async def post_batches(self, ctx: CompanyContext,
                           batches: Iterable[Sequence[tuple[int, ContentInput]]],
                           correlation_id: str | None = None) -> AsyncGenerator[BatchResult]:
        """:meth:`post_batch` for a stream of batches, each all or nothing, yielding each
        one's result; it stops after the first batch with findings.

        Pipelined: the next batch is checked (Python's work) while the previous one is
        written (mostly PostgreSQL's), so an import keeps both busy instead of taking
        turns. The check hands the event loop back every few rows, which lets the write
        send its next statement as soon as the last one is answered.
        """
        writing: asyncio.Task[BatchResult] | None = None
        try:
            for rows in batches:
                checked = await self.check_batch(ctx, rows)
                if writing is not None:
                    result = await writing
                    writing = None
                    yield result
                    if not result.ok:
                        return
                if checked.findings:
                    yield BatchResult(findings=checked.findings)
                    return
                writing = asyncio.create_task(self.write_batch(ctx, checked, correlation_id))
                await asyncio.sleep(0)  # let it send its first statement
            if writing is not None:
                result, writing = await writing, None
                yield result
        finally:
            if writing is not None:  # the caller stopped early: finish or roll back cleanly
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, SaldoError):
                    await writing

    async def import_journal(self, ctx: CompanyContext,
                             transactions: Sequence[tuple[int, ContentInput]],
                             batch_size: int = 2000,
                             posted_batch: Callable[[int], None] | None = None
                             ) -> ImportOutcome:
        """Post a journal read from a file: the content rules of the whole file first
        (nothing is written if any transaction breaks one), then all-or-nothing batches,
        pipelined. A finding only the books reveal (an unknown account, a closed period)
        stops the import at its batch; the batches before it stay posted. The file's
        transaction keys make a second run post only what is missing.

        ``posted_batch(n)`` is told of each committed batch of ``n`` transactions."""
        outcome = ImportOutcome()
        # The whole file's content rules first, set-wise (one rate lookup per currency and
        # day, a key given twice in the file is a finding), without building any events.
        outcome.findings = (await self._check_rows(ctx, transactions)).findings
        if outcome.findings:
            outcome.failed_row = transactions[0][0]
            return outcome
        batches = [transactions[start:start + batch_size]
                   for start in range(0, len(transactions), batch_size)]
        results = self.post_batches(ctx, batches)
        try:
            async for result in results:
                batch = batches[outcome.batches]
                outcome.findings.extend(result.findings)
                if outcome.findings:
                    outcome.failed_row = batch[0][0]
                    break
                outcome.posted.extend(result.posted)
                outcome.skipped += len(result.skipped)
                outcome.batches += 1
                if posted_batch is not None:
                    posted_batch(len(batch))
        except SaldoError as exc:
            batch = batches[outcome.batches]
            outcome.findings.append(Finding(batch[0][0], exc.code, exc.detail))
            outcome.failed_row = batch[0][0]
        finally:
            await results.aclose()
        return outcome

    async def check_batch(self, ctx: CompanyContext,
                          rows: Sequence[tuple[int, ContentInput]]) -> CheckedBatch:
        """The content rules of every transaction of a batch, as findings, and the batch's
        chunk when it passes (:meth:`_build_chunk`)."""
        checked = await self._check_rows(ctx, rows)
        if not checked.findings:
            await self._build_chunk(ctx, checked)
        return checked

    async def _check_rows(self, ctx: CompanyContext,
                          rows: Sequence[tuple[int, ContentInput]]) -> CheckedBatch:
        """The content rules of every row, as findings; no I/O beyond the company's
        (cached) settings and one official-rate lookup per currency and day."""
        settings = await self.company(ctx.company_id)
        checked = CheckedBatch()
        seen: dict[str, int] = {}
        rated, missing = await self._with_official_rates(ctx.company_id, rows,
                                                         settings.base_currency)
        for index, (row, raw) in enumerate(rated):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a pipelined write may be waiting to go on
            try:
                if raw.key is not None:
                    key = raw.key.strip()
                    if not key or len(key) > 200:
                        raise d.InvalidLine("A key is 1 to 200 characters.", field="key")
                    if key in seen:
                        raise d.DuplicateKey(f"Key {key!r} is also the key of row "
                                             f"{seen[key]}.", key=key)
                    seen[key] = row
                    checked.keys[row] = BATCH_KEY_PREFIX + key
                if row in missing:
                    raise missing[row]
                content = d.check_content(raw, settings.base_currency)
                year = d.fiscal_year_of(content.date, settings.fiscal_year_start_month)
                d.check_openable(year, self.today(), settings.fiscal_year_start_month,
                                 self.history_years)
            except SaldoError as exc:
                checked.findings.append(Finding(row, exc.code, exc.detail))
                continue
            checked.rows.append((row, content, year))
        return checked

    async def _build_chunk(self, ctx: CompanyContext, checked: CheckedBatch) -> None:
        """The checked rows' ids and drafted events (:class:`batch.Chunk`): built with the
        check, so that in :meth:`post_batches` it happens while the batch before is
        written, not in the database transaction (decision 0070)."""
        chunk = batch.new_chunk(self.units.events, _actor(ctx))
        # Ascending ids (transaction, drafted, posted; row after row): the rows go in at
        # the end of the indexes on ids, not on a random page each.
        ids = new_ids(3 * len(checked.rows))
        for index, (_, content, year) in enumerate(checked.rows):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a pipelined write may be waiting to go on
            chunk.add(ids[3 * index], content, year, (ids[3 * index + 1], ids[3 * index + 2]))
        checked.chunk = chunk

    async def _with_official_rates(
            self, company_id: UUID, rows: Sequence[tuple[int, ContentInput]],
            base_currency: str) -> tuple[list[tuple[int, ContentInput]], dict[int, RateNotFound]]:
        """The batch's foreign-currency items without a rate, given the official rate of
        their date (one lookup per currency and day), and the rows for which there is none
        (their check reports ``rate_not_found`` with the row)."""
        wanted = {(c, raw.date) for _, raw in rows
                  if (c := _needs_rate(raw, base_currency)) is not None}
        if not wanted:
            return list(rows), {}
        found: dict[tuple[str, date], fx_queries.RateInEffect] = {}
        async with self.db.transaction(company_id=company_id) as conn:
            for currency, day in sorted(wanted):
                rate = await fx_queries.rate_in_effect(conn, currency, day)
                if rate is not None:
                    found[currency, day] = rate
        out: list[tuple[int, ContentInput]] = []
        missing: dict[int, RateNotFound] = {}
        for row, raw in rows:
            code = _needs_rate(raw, base_currency)
            if code is not None:
                rate = found.get((code, raw.date))
                if rate is None:
                    missing[row] = rate_not_found(code, raw.date)
                else:
                    raw = replace(raw, exchange_rate=rate.rate)
            out.append((row, raw))
        return out, missing

    async def write_batch(self, ctx: CompanyContext, checked: CheckedBatch,
                          correlation_id: str | None = None) -> BatchResult:
        """Post a checked batch in one database transaction; the rules that need the
        books (accounts, periods) become findings and then nothing is written."""
        rows = checked.rows
        for year in sorted({year for _, _, year in rows}):
            await self.open_fiscal_year(ctx.company_id, year)
        actor = _actor(ctx)
        if checked.chunk is None:
            await self._build_chunk(ctx, checked)
        prepared = checked.chunk
        assert prepared is not None

        async def decide(uow: UnitOfWork) -> BatchResult:
            conn = uow.conn
            done = BatchResult()
            todo, chunk = rows, prepared
            if checked.keys:
                todo, chunk = await self._skip_posted(uow, checked, prepared, done)
                if done.findings:
                    raise _Refused(done)  # rolls the key claims back
            chart_targets = await store.chart(conn, ctx.company_id)
            periods = await store.lock_periods(
                conn, ctx.company_id, {d.period_of(c.date) for _, c, _ in todo})
            done.findings = _posting_findings(todo, chart_targets, periods)
            if done.findings:
                raise _Refused(done)
            if not todo:
                return done
            first = {year: await store.next_numbers(conn, ctx.company_id, year, count)
                     for year, count in sorted(chunk.per_year().items())}
            numbers = chunk.number(first)
            done.posted = list(zip(chunk.ids, chunk.years, numbers, strict=True))
            await batch.write_posted(uow, chunk)  # set-based (decision 0018)
            return done

        try:
            return await self.units.run(ctx.company_id, actor, decide,
                                        correlation_id=correlation_id)
        except _Refused as refused:
            return refused.result

    async def _skip_posted(self, uow: UnitOfWork, checked: CheckedBatch, chunk: batch.Chunk,
                           done: BatchResult) -> tuple[list[tuple[int, Content, int]],
                                                       batch.Chunk]:
        """Claim the batch's keys; the items whose key was posted before are skipped (the
        same content) or a finding (other content under a used key). The claims commit
        with the batch, so a re-run after a crash posts exactly what is missing."""
        rows = checked.rows
        claims = [(checked.keys[row], fingerprint(content), tx_id)
                  for (row, content, _), tx_id in zip(rows, chunk.ids, strict=True)
                  if row in checked.keys]
        taken = await store.claim_idempotency_keys(uow.conn, uow.company_id, claims)
        if not taken:
            return rows, chunk
        kept_rows, kept = [], []
        for index, (row, content, year) in enumerate(rows):
            earlier = taken.get(checked.keys.get(row, ""))
            if earlier is None:
                kept_rows.append((row, content, year))
                kept.append(index)
            elif earlier[0] == fingerprint(content):
                done.skipped.append((row, earlier[1]))
            else:
                key = checked.keys[row].removeprefix(BATCH_KEY_PREFIX)
                done.findings.append(Finding(
                    row, d.IdempotencyKeyReused.code,
                    f"Key {key!r} was posted before with other content (transaction "
                    f"{earlier[1]}); give the changed transaction a new key."))
        return kept_rows, chunk.subset(kept)


def _posting_findings(rows: Sequence[tuple[int, Content, int]],
                      chart: Mapping[str, PostingTarget],
                      periods: Mapping[str, PeriodStatus]) -> list[Finding]:
    """Each row's refusal by the books, as a single post refuses it: its first account
    that takes no postings, else its period if that is not open. The accounts are
    checked once per batch (a batch of thousands uses a few dozen), not once per line."""
    refused: dict[str, SaldoError] = {}
    for code in {line.account_code for _, content, _ in rows for line in content.lines}:
        try:
            d.check_accounts((code,), chart)
        except SaldoError as exc:
            refused[code] = exc
    findings = []
    for row, content, _ in rows:
        error = next((refused[line.account_code] for line in content.lines
                      if line.account_code in refused), None)
        period = d.period_of(content.date)
        status = periods.get(period)
        if error is None and status is not PeriodStatus.OPEN:
            error = d.PeriodClosed(f"Period {period} is "
                                   f"{status.value if status else 'not open'}.",
                                   period=period)
        if error is not None:
            findings.append(Finding(row, error.code, error.detail))
    return findings


class _Refused(Exception):
    def __init__(self, result: BatchResult) -> None:
        super().__init__("batch refused")
        self.result = result


#: Batch keys live beside Idempotency-Key headers in one table, in their own namespace.
BATCH_KEY_PREFIX = "batch:"


#: How many transactions a batch check handles before it lets the event loop run.
_YIELD_EVERY = 100


#: The journal entry screen (saldo.web) drafts transactions as a client would.
__all__ += ["ContentInput"]
