"""The set-based batch path (``saldo.ledger.batch``, decision 0018) against single posting.

Bulk posting writes a chunk's events and read-model rows in one statement instead of
going through the inline projection. These tests hold it to what a single post does:
every ledger rule refuses in a batch as it refuses one transaction, a failing chunk leaves
nothing behind, numbers stay gap-free, the events are the domain's own, and the read
model is the one single posting (and a replay of the log) produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from ledger_harness import Books, Harness, journal_state
from psycopg import errors as pg_errors

from saldo.identity.domain import Permission
from saldo.identity.service import CompanyContext
from saldo.kernel.errors import SaldoError
from saldo.ledger import domain as d
from saldo.ledger.domain import ContentInput, LineDraft
from saldo.platform.db import Connection
from saldo.platform.eventstore import RecordedEvent

pytestmark = pytest.mark.integration


def _content(day: date, lines: Sequence[tuple[str, str, str]], description: str = "Sale",
             **extra: Any) -> ContentInput:
    """``lines``: (account, debit, credit), "" for the empty side."""
    return ContentInput(day, description, [
        LineDraft(a, debit=dr or None, credit=cr or None) for a, dr, cr in lines], **extra)


SALE = [("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")]


async def _contexts(h: Harness, books: Books) -> tuple[CompanyContext, CompanyContext]:
    identity = h.container.identity
    chief = await identity.member_context(books.company_id, "chief",
                                          Permission.TRANSACTIONS_APPROVE)
    clerk = await identity.member_context(books.company_id, "clerk",
                                          Permission.TRANSACTIONS_WRITE)
    return chief, clerk


async def _single(h: Harness, books: Books, raw: ContentInput) -> str | None:
    """Post ``raw`` the way a person does (draft, approve, post): the refusing rule's code,
    or None if it posts."""
    ledger = h.container.ledger
    chief, clerk = await _contexts(h, books)
    try:
        tx, _ = await ledger.draft(clerk, raw)
        await ledger.approve(chief, tx.id)
        await ledger.post(clerk, tx.id)
    except SaldoError as exc:
        return exc.code
    return None


async def test_every_rule_refuses_in_a_batch_as_it_refuses_a_single_post(h: Harness) -> None:
    books = await h.books()
    ledger = h.container.ledger
    chief, _ = await _contexts(h, books)
    # The books the rules are checked against: an inactive leaf, a closed month.
    await ledger.change_account(chief, "1120", {"active": False})
    await ledger.open_fiscal_year(books.company_id, 2026)
    await ledger.change_period(chief, "2026-02", "close")
    ok = date(2026, 3, 10)
    broken = {
        "unbalanced": _content(ok, [("1410", "100.00", ""), ("6110", "", "99.99")]),
        "unknown account": _content(ok, [("9999", "5.00", ""), ("6110", "", "5.00")]),
        "header account": _content(ok, [("1000", "5.00", ""), ("6110", "", "5.00")]),
        "inactive account": _content(ok, [("1120", "5.00", ""), ("6110", "", "5.00")]),
        "closed period": _content(date(2026, 2, 10), SALE),
        "one line": _content(ok, [("1410", "5.00", "")]),
        "three decimals": _content(ok, [("1410", "5.001", ""), ("6110", "", "5.001")]),
        "negative amount": _content(ok, [("1410", "-5.00", ""), ("6110", "", "-5.00")]),
        "unknown currency": _content(ok, SALE, currency="XYZ", exchange_rate="1"),
        "currency without a rate": _content(ok, SALE, currency="USD"),
        "base amount off the rate": ContentInput(ok, "Export", [
            LineDraft("1410", debit="100.00", debit_base="270.01"),
            LineDraft("6110", credit="100.00")], currency="USD", exchange_rate="2.7"),
        "year out of reach": _content(date(1990, 1, 5), SALE),
    }
    for name, raw in broken.items():
        before = await journal_state(h, books.company_id)
        result = await ledger.post_batch(chief, [(1, _content(ok, SALE)), (2, raw)])
        assert not result.ok, name
        assert [f.row for f in result.findings] == [2], (name, result.findings)
        assert await journal_state(h, books.company_id) == before, name  # nothing written
        single = await _single(h, books, raw)
        assert single is not None, f"{name}: a single post accepts it"
        assert result.findings[0].code == single, (name, result.findings[0], single)
    # And what passes one by one passes in a batch.
    result = await ledger.post_batch(chief, [(1, _content(ok, SALE))])
    assert result.ok
    assert len(result.posted) == 1


class _FailOnPosted:
    """An inline projection of another context that fails on a journal posting: a
    database error inside the chunk's transaction, after the set-based write ran."""

    name = "test-fails-on-posted"

    def __init__(self) -> None:
        self.seen = 0

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        posted = [e for e in events if e.type == d.TRANSACTION_POSTED]
        self.seen += len(posted)
        if posted:
            await conn.execute("SELECT 1 / 0")

    async def reset(self, conn: Connection) -> None:
        return None


class _Counting:
    """An inline projection that declares the streams it reads (``stream_types``) and
    counts what it is handed."""

    name = "test-counting"

    def __init__(self, stream_types: tuple[str, ...]) -> None:
        self.stream_types = stream_types
        self.seen: list[str] = []

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.seen.extend(e.stream_type for e in events)

    async def reset(self, conn: Connection) -> None:
        return None


async def test_a_projection_of_other_streams_is_handed_no_journal_events(h: Harness) -> None:
    """Payroll's, tax's, billing's, banking's and rs.ge's projections declare their
    streams: bulk posting then builds no records for them (decision 0070), and a single
    post hands them nothing, while a projection of journal streams still sees them."""
    books = await h.books()
    ledger = h.container.ledger
    chief, _ = await _contexts(h, books)
    elsewhere, journal = _Counting(("payroll.",)), _Counting(("ledger.transaction",))
    store = h.container.store
    assert not store.projections_besides("ledger", "ledger.transaction")
    store.inline_projections.extend([elsewhere, journal])
    try:
        assert store.projections_besides("ledger", "ledger.transaction") == [journal]
        result = await ledger.post_batch(chief, [(r, _content(date(2026, 4, r), SALE))
                                                 for r in range(1, 4)])
        assert result.ok
        await _single(h, books, _content(date(2026, 4, 9), SALE))
    finally:
        store.inline_projections.remove(elsewhere)
        store.inline_projections.remove(journal)
    assert elsewhere.seen == []
    # Three born-posted transactions (2 events each), then drafted, approved and posted.
    assert journal.seen == ["ledger.transaction"] * 9


async def test_a_failing_chunk_leaves_nothing_and_takes_no_numbers(h: Harness) -> None:
    books = await h.books()
    ledger = h.container.ledger
    chief, _ = await _contexts(h, books)
    first = await ledger.post_batch(chief, [(r, _content(date(2026, 4, r), SALE))
                                            for r in range(1, 4)])
    assert [n for _, _, n in first.posted] == [1, 2, 3]
    before = await journal_state(h, books.company_id)
    failing = _FailOnPosted()
    h.container.store.inline_projections.append(failing)
    try:
        with pytest.raises(pg_errors.DivisionByZero):
            await ledger.post_batch(chief, [(r, _content(date(2026, 5, r), SALE))
                                            for r in range(1, 6)])
    finally:
        h.container.store.inline_projections.remove(failing)
    # The other projection saw the chunk's events (as records), then the chunk rolled back.
    assert failing.seen == 5
    assert await journal_state(h, books.company_id) == before
    # The numbers were given back: the next chunk goes on from 4.
    again = await ledger.post_batch(chief, [(r, _content(date(2026, 5, r), SALE))
                                            for r in range(1, 3)])
    assert [n for _, _, n in again.posted] == [4, 5]


async def test_numbers_stay_gap_free_across_batches_single_posts_and_years(h: Harness) -> None:
    books = await h.books()
    ledger = h.container.ledger
    chief, _ = await _contexts(h, books)
    days = [date(2026, 12, 30), date(2027, 1, 2), date(2026, 6, 1), date(2027, 3, 3)]
    await ledger.post_batch(chief, [(r, _content(days[r % 4], SALE)) for r in range(10)])
    await books.post(SALE, day="2026-07-01")
    await books.post(SALE, day="2027-07-01")
    await ledger.post_batch(chief, [(r, _content(days[r % 4], SALE)) for r in range(7)])
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT fiscal_year, array_agg(number ORDER BY number) AS numbers"
            "  FROM journal_transactions WHERE company_id = %s GROUP BY 1 ORDER BY 1",
            (books.company_id,))
        numbers = {r["fiscal_year"]: r["numbers"] for r in await cursor.fetchall()}
        cursor = await conn.execute(
            "SELECT fiscal_year, last_number FROM transaction_numbers WHERE company_id = %s",
            (books.company_id,))
        counters = {r["fiscal_year"]: r["last_number"] for r in await cursor.fetchall()}
    posted_days = [days[r % 4] for r in range(10)] + [date(2026, 7, 1), date(2027, 7, 1)] + [
        days[r % 4] for r in range(7)]
    per_year = {year: sum(1 for day in posted_days if day.year == year) for year in (2026, 2027)}
    assert numbers == {year: list(range(1, count + 1)) for year, count in per_year.items()}
    assert counters == per_year


async def test_the_events_are_the_domains_born_posted_events(h: Harness) -> None:
    books = await h.books()
    ledger = h.container.ledger
    chief, _ = await _contexts(h, books)
    raws = [_content(date(2026, 3, 2), SALE, reference="INV-1"),
            ContentInput(date(2026, 3, 3), "Export", [
                LineDraft("1410", debit="150.02"), LineDraft("6110", credit="100.01"),
                LineDraft("6110", credit="50.01"),
                LineDraft("8240", debit_base="0.01", description="Rounding")],
                currency="USD", exchange_rate="2.7000")]
    result = await ledger.post_batch(chief, list(enumerate(raws, start=1)))
    assert result.ok, result.findings
    actor = d.Actor(chief.user.id, chief.user.username)
    for (tx_id, year, number), raw in zip(result.posted, raws, strict=True):
        content = d.check_content(raw, "GEL")
        expected = d.imported_events(tx_id, content, actor, number, year)
        async with h.container.db.transaction() as conn:
            stored = await h.container.store.read_stream(conn, f"ledger.transaction-{tx_id}")
        assert [(e.type, e.version, e.stream_type) for e in stored] == [
            (x.type, n, "ledger.transaction") for n, x in enumerate(expected, start=1)]
        # As stored: the JSON of the domain's data, nothing added, nothing lost.
        assert [e.data for e in stored] == [orjson.loads(orjson.dumps(x.to_data()))
                                            for x in expected]
        assert all(e.company_id == books.company_id for e in stored)
        assert all(e.metadata["actor"] == str(chief.user.id) for e in stored)


#: Columns a single post and a batch must agree on (ids, actors, versions and times
#: differ by nature: a person's post is drafted, approved and posted by two people).
_COMPARED = {
    "journal_transactions": ("number, fiscal_year, status, date, description, reference,"
                             " currency, exchange_rate, entries, account_codes, total,"
                             " reverses, kind, source_type, source_id",
                             "fiscal_year, number"),
    "journal_lines": ("entry_date, line_no, number, account_code, debit_base, credit_base,"
                      " currency,"
                      " amount_debit, amount_credit, description, kind, counterparty_id,"
                      " document_id, line_kind", "entry_date, number, line_no"),
    "account_turnover": ("account_code, day, closing, debit_base, credit_base, lines",
                         "account_code, day, closing"),
    "account_currency_turnover": ("account_code, currency, day, debit_base, credit_base,"
                                  " amount_debit, amount_credit, lines",
                                  "account_code, currency, day"),
    "transaction_numbers": ("fiscal_year, last_number", "fiscal_year"),
}


async def _read_model(h: Harness, company_id: UUID) -> dict[str, list[dict[str, Any]]]:
    tables = {}
    async with h.container.db.transaction() as conn:
        for table, (columns, order) in _COMPARED.items():
            cursor = await conn.execute(f"SELECT {columns} FROM {table}"
                                        f" WHERE company_id = %s ORDER BY {order}",
                                        (company_id,))
            tables[table] = list(await cursor.fetchall())
    return tables


_JOURNAL = [
    ("2026-03-02", [("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")],
     {}),
    ("2026-03-02", [("7420", "1500.00", ""), ("1210", "", "1500.00")], {"reference": "R-7"}),
    ("2026-03-05", [("1410", "150.02", ""), ("6110", "", "100.01"), ("6110", "", "50.01")],
     {"currency": "USD", "exchange_rate": "2.7000"}),
    ("2027-01-04", [("7492", "3.00", ""), ("1210", "", "3.00")], {}),
]


async def test_the_read_model_equals_single_posting_and_a_replay(h: Harness) -> None:
    by_batch, by_hand = await h.books(), await h.other_books("hand", name="Hand Posted LLC")
    ledger = h.container.ledger
    chief, _ = await _contexts(h, by_batch)
    rows: list[tuple[int, ContentInput]] = []
    for row, (day, lines, extra) in enumerate(_JOURNAL, start=1):
        entries = [LineDraft(a, debit=dr or None, credit=cr or None) for a, dr, cr in lines]
        if extra.get("currency"):  # USD 150.02 at 2.7 is 405.05 against 270.03 + 135.03
            entries.append(LineDraft("8240", debit_base="0.01"))
        rows.append((row, ContentInput(date.fromisoformat(day), f"Entry {row}", entries,
                                       **extra)))
        body_entries = [{"account_code": e.account_code,
                         **{k: v for k in ("debit", "credit", "debit_base")
                            if (v := getattr(e, k)) is not None}} for e in entries]
        tx = await h.client.post(by_hand.url("/transactions"), headers=by_hand.clerk, json={
            "date": day, "description": f"Entry {row}", "entries": body_entries, **extra})
        assert tx.status_code == 201, tx.text
        tx_id = tx.json()["id"]
        assert (await by_hand.act(tx_id, "approve")).status_code == 200
        assert (await by_hand.act(tx_id, "post", by="clerk")).status_code == 200
    result = await ledger.post_batch(chief, rows)
    assert result.ok, result.findings

    batch_model, hand_model = (await _read_model(h, by_batch.company_id),
                               await _read_model(h, by_hand.company_id))
    for table in _COMPARED:
        assert batch_model[table], f"{table} is empty"
        assert batch_model[table] == hand_model[table], table
    assert sum(Decimal(r["debit_base"]) for r in batch_model["account_turnover"]) == Decimal(
        "3088.06")

    # The events say the same: replaying the log gives the rows the batch wrote, column
    # for column (timestamps, versions and actors included).
    live = await _everything(h, by_batch.company_id)
    await h.container.runner.rebuild("ledger")
    assert await _everything(h, by_batch.company_id) == live


#: Every ledger read model a posting writes, with its key.
_KEYS = {"journal_transactions": "id", "journal_lines": "entry_date, transaction_id, line_no",
         "account_turnover": "account_code, day, closing",
         "account_currency_turnover": "account_code, currency, day",
         "transaction_numbers": "fiscal_year"}


async def _everything(h: Harness, company_id: UUID) -> dict[str, list[dict[str, Any]]]:
    tables = {}
    async with h.container.db.transaction() as conn:
        for table, key in _KEYS.items():
            cursor = await conn.execute(f"SELECT * FROM {table} WHERE company_id = %s"
                                        f" ORDER BY {key}", (company_id,))
            tables[table] = list(await cursor.fetchall())
    return tables
