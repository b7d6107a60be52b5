"""Bulk posting's write: a checked, numbered chunk of transactions in one statement.

:meth:`LedgerService.check_batch` checks a batch's content and builds its :class:`Chunk`
(ids, drafted events, their JSON: nothing that needs the books), while the batch before it
is still being written. :meth:`LedgerService.write_batch` then decides in the database
transaction (accounts, periods, keys, numbers: every rule a single post applies), numbers
the chunk and hands it to :func:`write_posted`, which writes, in one SQL statement and so
in one round trip:

* the two events of every transaction (drafted, posted), built by the domain's own
  :func:`~saldo.ledger.domain.imported_draft` and
  :func:`~saldo.ledger.domain.imported_posting` -- the events a single born-posted post
  writes, to new streams, so the unique key (stream_id, version) is the only guard;
* the ledger's read-model rows those events stand for: the ``journal_transactions`` row
  (inserted posted), the journal lines, the turnover per account and day, and the turnover
  per account, currency and day.

The event data travel once, as JSON; the server derives the read-model rows from them,
exactly as :class:`~saldo.ledger.projections.LedgerProjection` derives them on a replay
(``saldo projections rebuild ledger`` gives the same rows; a test proves it). What the
inline projection would have cost per event -- a record per event, the content read
back, 22 column arrays built and sent -- is gone; see docs/decisions/0018-set-based-bulk-posting.md
and 0070-bulk-posting-side-by-side.md.

Other inline projections that read journal transactions (none does today: billing's,
tax's, payroll's, banking's and rs.ge's name other ``stream_types``) still see every
event: the statement then returns what the server assigned and
:meth:`EventStore.project_appended` hands them the records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg.rows import tuple_row

from saldo.kernel.events import Actor
from saldo.ledger import domain as d
from saldo.ledger.projections import (
    TRANSACTION_STREAM_PREFIX,
    TURNOVERS_OF_LINES,
    LedgerProjection,
)
from saldo.platform.eventstore import (
    NO_STREAM,
    EventStore,
    Metadata,
    NewEvent,
    StreamAppend,
    dumps,
)
from saldo.platform.uow import UnitOfWork

#: The event store's stream type of a journal transaction (the service's name for it).
TRANSACTION_STREAM = "ledger.transaction"

# Every array goes in binary (%b): in text format psycopg escapes each '"' of each JSON
# document in Python. Amounts and codes are derived by the server from the drafted
# event's data, as the projection's _POST does from the transaction's entries.
#
# One timestamp for the chunk (``clock``): the events' recorded_at and the rows'
# created_at/updated_at, which a replay takes from the drafted and posted events.
#
# Lock order as every poster's (store.py): the periods and the counters were locked by
# the caller; the turnover rows are upserted in (company, account, day) order.
_WRITE = """
WITH t AS (
    SELECT t.id, t.number, t.fiscal_year, t.drafted_id, t.posted_id,
           t.drafted::jsonb AS drafted, t.posted::jsonb AS posted, t.codes, t.total, t.n
      FROM unnest(%(ids)b::uuid[], %(numbers)b::int[], %(years)b::int[],
                  %(drafted_ids)b::uuid[], %(posted_ids)b::uuid[], %(drafted)b::text[],
                  %(posted)b::text[], %(codes)b::text[], %(totals)b::text[])
           WITH ORDINALITY
           AS t(id, number, fiscal_year, drafted_id, posted_id, drafted, posted, codes,
                total, n)
), clock AS (
    SELECT clock_timestamp() AS at
), ev AS (
    INSERT INTO events (event_id, stream_id, stream_type, version, event_type,
                        schema_version, data, metadata, company_id, recorded_at)
    SELECT v.event_id, %(prefix)b::text || t.id::text, %(stream_type)b::text, v.version,
           v.event_type, v.schema_version, v.data, %(metadata)b::jsonb,
           %(company)b::uuid, clock.at
      FROM t, clock,
           LATERAL (VALUES (1, t.drafted_id, %(drafted_type)b::text,
                            %(drafted_version)b::int, t.drafted),
                           (2, t.posted_id, %(posted_type)b::text,
                            %(posted_version)b::int, t.posted))
           AS v(version, event_id, event_type, schema_version, data)
     ORDER BY t.n, v.version
    RETURNING event_id, position, transaction_id, version, recorded_at
), tx AS (
    INSERT INTO journal_transactions (company_id, id, status, number, fiscal_year,
        posted_by, date, description, reference, currency, exchange_rate, entries,
        account_codes, total, created_by, reverses, version, created_at, updated_at, kind,
        source_type, source_id)
    SELECT %(company)b::uuid, t.id, 'posted', t.number, t.fiscal_year, t.posted->>'by',
           (t.drafted->>'date')::date, t.drafted->>'description', t.drafted->>'reference',
           t.drafted->>'currency', (t.drafted->>'exchange_rate')::numeric,
           t.drafted->'entries', string_to_array(t.codes, ' '), t.total::numeric,
           t.drafted->>'by', (t.drafted->>'reverses')::uuid, 2, clock.at, clock.at,
           coalesce(t.drafted->>'kind', 'regular'), t.drafted->'source'->>'type',
           (t.drafted->'source'->>'id')::uuid
      FROM t, clock
    RETURNING 1
), lines AS (
    INSERT INTO journal_lines (company_id, entry_date, transaction_id, line_no, number,
                               account_code, debit_base, credit_base, currency, amount_debit,
                               amount_credit, description, kind, counterparty_id,
                               document_id, line_kind)
    SELECT %(company)b::uuid, (t.drafted->>'date')::date, t.id, l.n, t.number,
           l.e->>'account_code', (l.e->>'debit_base')::numeric,
           (l.e->>'credit_base')::numeric,
           coalesce(l.e->>'currency', t.drafted->>'currency'),
           (l.e->>'debit')::numeric, (l.e->>'credit')::numeric,
           coalesce(l.e->>'description', ''), coalesce(t.drafted->>'kind', 'regular'),
           (l.e->>'counterparty_id')::uuid, (l.e->>'document_id')::uuid,
           coalesce(l.e->>'kind', 'regular')
      FROM t CROSS JOIN LATERAL jsonb_array_elements(t.drafted->'entries')
                                WITH ORDINALITY AS l(e, n)
     ORDER BY (t.drafted->>'date')::date, t.n, l.n
    RETURNING company_id, account_code, entry_date, debit_base, credit_base, kind, currency,
              amount_debit, amount_credit
), """ + TURNOVERS_OF_LINES + """
"""
# What the statement answers: the events' assigned columns when another inline projection
# needs records, else their count (data-modifying CTEs run to completion either way).
_RECORDS = _WRITE + "SELECT event_id, position, transaction_id, version, recorded_at FROM ev"
_COUNT = _WRITE + "SELECT count(*) FROM ev"


class Chunk:
    """A batch's transactions as the statement's column arrays, in posting order.

    Built in two steps. :meth:`add` does what does not depend on the transactions'
    numbers (ids, the drafted events and their JSON) before the database transaction
    begins -- :meth:`LedgerService.post_batches` does it while the previous batch is being
    written, so Python and PostgreSQL work side by side. :meth:`number` then gives each
    its number, reserved under the counter's lock, and builds the posted events.
    """

    __slots__ = ("actor", "codes", "drafted", "drafted_events", "drafted_ids", "ids",
                 "keep_events", "numbers", "posted", "posted_events", "posted_ids",
                 "totals", "years")

    def __init__(self, actor: Actor, keep_events: bool = False) -> None:
        self.actor = actor
        #: Also keep the events themselves (another inline projection reads them).
        self.keep_events = keep_events
        self.ids: list[UUID] = []
        self.years: list[int] = []
        self.drafted_ids: list[UUID] = []
        self.posted_ids: list[UUID] = []
        self.drafted: list[str] = []
        self.codes: list[str] = []
        self.totals: list[str] = []
        self.drafted_events: list[NewEvent] = []
        # Filled by number():
        self.numbers: list[int] = []
        self.posted: list[str] = []
        self.posted_events: list[NewEvent] = []

    def add(self, transaction_id: UUID, content: d.Content, year: int,
            event_ids: tuple[UUID, UUID]) -> None:
        """Append a checked transaction of fiscal year ``year``; ``event_ids``: its drafted
        and posted events' ids."""
        drafted = d.imported_draft(transaction_id, content, self.actor)
        data = drafted.to_data()
        event_id, posted_id = event_ids
        self.ids.append(transaction_id)
        self.years.append(year)
        self.drafted_ids.append(event_id)
        self.posted_ids.append(posted_id)
        self.drafted.append(dumps(data))
        self.codes.append(" ".join(sorted({e.account_code for e in content.lines})))
        self.totals.append(str(content.total))
        if self.keep_events:
            self.drafted_events.append(NewEvent(drafted.type, data, drafted.schema_version,
                                                event_id, json_values=True))

    def subset(self, keep: Sequence[int]) -> Chunk:
        """The chunk of the transactions at positions ``keep`` (in order): what is left
        of a batch once the items posted before (their keys taken) are skipped."""
        part = Chunk(self.actor, self.keep_events)
        for name in ("ids", "years", "drafted_ids", "posted_ids", "drafted", "codes",
                     "totals") + (("drafted_events",) if self.keep_events else ()):
            values = getattr(self, name)
            setattr(part, name, [values[i] for i in keep])
        return part

    def number(self, first: Mapping[int, int]) -> list[int]:
        """Number the transactions in posting order from ``first[year]`` on (the numbers
        :func:`~saldo.ledger.store.next_numbers` reserved), and build their posted
        events; returns the numbers."""
        following = dict(first)
        posted_type = d.TransactionPosted.type
        numbers, posted, events = [], [], []
        for year, event_id in zip(self.years, self.posted_ids, strict=True):
            number = following[year]
            following[year] = number + 1
            data = d.imported_posting(number, year, self.actor).to_data()
            numbers.append(number)
            posted.append(dumps(data))
            if self.keep_events:
                events.append(NewEvent(posted_type, data, d.TransactionPosted.schema_version,
                                       event_id, json_values=True))
        self.numbers, self.posted, self.posted_events = numbers, posted, events
        return numbers

    def per_year(self) -> dict[int, int]:
        """How many transactions of each fiscal year the chunk holds."""
        counts: dict[int, int] = {}
        for year in self.years:
            counts[year] = counts.get(year, 0) + 1
        return counts

    def appends(self, metadata: Metadata) -> list[StreamAppend]:
        """The chunk's events as stream appends (for the records of other projections)."""
        return [StreamAppend(TRANSACTION_STREAM_PREFIX + str(transaction_id),
                             TRANSACTION_STREAM, NO_STREAM, [drafted, posted], metadata)
                for transaction_id, drafted, posted in zip(
                    self.ids, self.drafted_events, self.posted_events, strict=True)]


def new_chunk(events: EventStore, actor: Actor) -> Chunk:
    """An empty chunk for ``actor``'s transactions, keeping the events only where another
    inline projection than the ledger's reads journal transactions."""
    return Chunk(actor, keep_events=bool(
        events.projections_besides(LedgerProjection.name, TRANSACTION_STREAM)))


async def write_posted(uow: UnitOfWork, chunk: Chunk) -> None:
    """Write ``chunk``'s transactions, numbered (:meth:`Chunk.number`), born posted:
    their events and their read-model rows, in ``uow``'s transaction. The caller has
    applied every rule and reserved the numbers (``LedgerService.write_batch``)."""
    if not chunk.ids:
        return
    if len(chunk.numbers) != len(chunk.ids):  # pragma: no cover - a caller's slip
        raise RuntimeError("a chunk is written after it is numbered")
    params: dict[str, Any] = {
        "ids": chunk.ids, "numbers": chunk.numbers, "years": chunk.years,
        "drafted_ids": chunk.drafted_ids, "posted_ids": chunk.posted_ids,
        "drafted": chunk.drafted, "posted": chunk.posted, "codes": chunk.codes,
        "totals": chunk.totals, "prefix": TRANSACTION_STREAM_PREFIX,
        "stream_type": TRANSACTION_STREAM, "metadata": dumps(uow.metadata.as_json()),
        "company": uow.company_id, "drafted_type": d.TransactionDrafted.type,
        "drafted_version": d.TransactionDrafted.schema_version,
        "posted_type": d.TransactionPosted.type,
        "posted_version": d.TransactionPosted.schema_version,
    }
    async with uow.conn.cursor(row_factory=tuple_row) as cursor:
        try:
            await cursor.execute(_RECORDS if chunk.keep_events else _COUNT, params)
        except pg_errors.UniqueViolation as exc:
            raise uow.events.unique_violation(exc, {}) from exc
        rows = await cursor.fetchall()
    expected = 2 * len(chunk.ids)
    if chunk.keep_events:
        if len(rows) != expected:  # pragma: no cover - an insert either writes all or fails
            raise RuntimeError(f"{len(rows)} events written of {expected}")
        datas = [data for pair in zip(chunk.drafted, chunk.posted, strict=True)
                 for data in pair]
        await uow.events.project_appended(uow.conn, rows, chunk.appends(uow.metadata), datas,
                                          besides=LedgerProjection.name)
    else:
        written = rows[0][0] if rows else 0
        if written != expected:  # pragma: no cover - as above
            raise RuntimeError(f"{written} events written of {expected}")
        uow.events.count_appended(expected)


