"""Bulk posting's write: a checked, numbered chunk of transactions in one statement.

:meth:`LedgerService.write_batch` decides (accounts, periods, keys, numbers: every rule a
single post applies) and then hands the chunk to :func:`write_posted`, which writes, in
one SQL statement and so in one round trip:

* the two events of every transaction (drafted, posted), built by the domain's own
  :func:`~saldo.ledger.domain.imported_events` -- the events a single born-posted post
  writes, to new streams, so the unique key (stream_id, version) is the only guard;
* the ledger's read-model rows those events stand for: the ``journal_transactions`` row
  (inserted posted), the journal lines, the turnover per account and day, and the turnover
  per account, currency and day.

The event data travel once, as JSON; the server derives the read-model rows from them,
exactly as :class:`~saldo.ledger.projections.LedgerProjection` derives them on a replay
(``saldo projections rebuild ledger`` gives the same rows; a test proves it). What the
inline projection would have cost per event -- a record per event, the content read
back, 22 column arrays built and sent -- is gone; see docs/decisions/0018-set-based-bulk-posting.md.

Other inline projections (none reads ledger events today) still see every event: when the
event store has any besides the ledger's, the statement returns what the server assigned
and :meth:`EventStore.project_appended` hands them the records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg.rows import tuple_row

from saldo.kernel.events import Actor, DomainEvent
from saldo.ledger import domain as d
from saldo.ledger.projections import (
    TRANSACTION_STREAM_PREFIX,
    TURNOVERS_OF_LINES,
    LedgerProjection,
)
from saldo.platform.eventstore import NO_STREAM, Metadata, NewEvent, StreamAppend, dumps
from saldo.platform.uow import UnitOfWork, as_new_event

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
                               account_code, debit, credit, currency, amount_debit,
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
    RETURNING company_id, account_code, entry_date, debit, credit, kind, currency,
              amount_debit, amount_credit
), """ + TURNOVERS_OF_LINES + """
"""
# What the statement answers: the events' assigned columns when another inline projection
# needs records, else their count (data-modifying CTEs run to completion either way).
_RECORDS = _WRITE + "SELECT event_id, position, transaction_id, version, recorded_at FROM ev"
_COUNT = _WRITE + "SELECT count(*) FROM ev"


class Chunk:
    """A chunk's transactions as the statement's column arrays, in posting order."""

    __slots__ = ("appends", "codes", "drafted", "drafted_ids", "ids", "numbers",
                 "posted", "posted_ids", "totals", "types", "years")

    def __init__(self) -> None:
        self.ids: list[UUID] = []
        self.numbers: list[int] = []
        self.years: list[int] = []
        self.drafted_ids: list[UUID] = []
        self.posted_ids: list[UUID] = []
        self.drafted: list[str] = []
        self.posted: list[str] = []
        self.codes: list[str] = []
        self.totals: list[str] = []
        #: (drafted type, schema version, posted type, schema version): one shape per chunk.
        self.types: tuple[str, int, str, int] | None = None
        self.appends: list[StreamAppend] = []


def build_chunk(uow: UnitOfWork,
                transactions: Sequence[tuple[UUID, d.Content, int, int]],
                keep_events: bool = False) -> Chunk:
    """The column arrays of ``transactions`` (id, content, fiscal year, number): each
    transaction's events as the domain builds them for a born-posted transaction, their
    data encoded once. ``keep_events``: also the events themselves (for records)."""
    chunk = Chunk()
    actor = uow.actor
    metadata = uow.metadata
    _fill(chunk, transactions, actor, metadata, keep_events)
    return chunk


def _fill(chunk: Chunk, transactions: Sequence[tuple[UUID, d.Content, int, int]],
          actor: Actor, metadata: Metadata, keep_events: bool) -> None:
    for transaction_id, content, year, number in transactions:
        events = [_new_event(e)
                  for e in d.imported_events(transaction_id, content, actor, number, year)]
        if len(events) != 2:  # pragma: no cover - the domain's shape changed: say so
            raise RuntimeError("a born-posted transaction is expected to be two events")
        drafted, posted = events
        shape = (drafted.type, drafted.schema_version, posted.type, posted.schema_version)
        if chunk.types is None:
            chunk.types = shape
        elif shape != chunk.types:  # pragma: no cover - one function, one shape
            raise RuntimeError("the transactions of a chunk have events of other shapes")
        chunk.ids.append(transaction_id)
        chunk.numbers.append(number)
        chunk.years.append(year)
        chunk.drafted_ids.append(drafted.event_id)
        chunk.posted_ids.append(posted.event_id)
        chunk.drafted.append(dumps(drafted.data))
        chunk.posted.append(dumps(posted.data))
        chunk.codes.append(" ".join(sorted({e.account_code for e in content.lines})))
        chunk.totals.append(str(content.total))
        if keep_events:
            chunk.appends.append(StreamAppend(TRANSACTION_STREAM_PREFIX + str(transaction_id),
                                              TRANSACTION_STREAM, NO_STREAM,
                                              [drafted, posted], metadata))


async def write_posted(uow: UnitOfWork,
                       transactions: Sequence[tuple[UUID, d.Content, int, int]]) -> None:
    """Write ``transactions`` (id, checked content, fiscal year, number), born posted:
    their events and their read-model rows, in ``uow``'s transaction. The caller has
    applied every rule and reserved the numbers (``LedgerService.write_batch``)."""
    if not transactions:
        return
    others = uow.events.projections_besides(LedgerProjection.name)
    chunk = build_chunk(uow, transactions, keep_events=bool(others))
    assert chunk.types is not None
    drafted_type, drafted_version, posted_type, posted_version = chunk.types
    params: dict[str, Any] = {
        "ids": chunk.ids, "numbers": chunk.numbers, "years": chunk.years,
        "drafted_ids": chunk.drafted_ids, "posted_ids": chunk.posted_ids,
        "drafted": chunk.drafted, "posted": chunk.posted, "codes": chunk.codes,
        "totals": chunk.totals, "prefix": TRANSACTION_STREAM_PREFIX,
        "stream_type": TRANSACTION_STREAM, "metadata": dumps(uow.metadata.as_json()),
        "company": uow.company_id, "drafted_type": drafted_type,
        "drafted_version": drafted_version, "posted_type": posted_type,
        "posted_version": posted_version,
    }
    async with uow.conn.cursor(row_factory=tuple_row) as cursor:
        try:
            await cursor.execute(_RECORDS if others else _COUNT, params)
        except pg_errors.UniqueViolation as exc:
            raise uow.events.unique_violation(exc, {}) from exc
        rows = await cursor.fetchall()
    expected = 2 * len(transactions)
    if others:
        if len(rows) != expected:  # pragma: no cover - an insert either writes all or fails
            raise RuntimeError(f"{len(rows)} events written of {expected}")
        datas = [data for pair in zip(chunk.drafted, chunk.posted, strict=True)
                 for data in pair]
        await uow.events.project_appended(uow.conn, rows, chunk.appends, datas,
                                          besides=LedgerProjection.name)
    else:
        written = rows[0][0] if rows else 0
        if written != expected:  # pragma: no cover - as above
            raise RuntimeError(f"{written} events written of {expected}")
        uow.events.count_appended(expected)


def _new_event(event: Any) -> NewEvent:
    """A domain event as the event store takes it: a typed event through the unit of
    work's conversion, a plain ``d.Event`` (type and data) as the service saves it."""
    if isinstance(event, DomainEvent):
        return as_new_event(event)
    # imported_events promises data of JSON values only: records need not decode them.
    return NewEvent(event.type, event.data, json_values=True)
