"""Bulk posting's chunk (``saldo.ledger.batch.Chunk``): built before the numbers are
known, numbered per fiscal year in posting order, and cut down without losing step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import orjson

from saldo.kernel.events import Actor
from saldo.kernel.ids import new_ids
from saldo.ledger import domain as d
from saldo.ledger.batch import Chunk
from saldo.ledger.domain import ContentInput, LineDraft
from saldo.platform.eventstore import Metadata

ACTOR = Actor(UUID(int=7), "chief")


def _content(day: date, amount: str) -> d.Content:
    return d.check_content(ContentInput(day, "Sale", [
        LineDraft("1410", debit=amount), LineDraft("6110", credit=amount)]), "GEL")


def _chunk(years: list[int]) -> tuple[Chunk, list[UUID]]:
    chunk = Chunk(ACTOR, keep_events=True)
    ids = [uuid4() for _ in years]
    for n, (transaction_id, year) in enumerate(zip(ids, years, strict=True), start=1):
        event_ids = new_ids(2)
        chunk.add(transaction_id, _content(date(year, 3, n), f"{n}.00"), year,
                  (event_ids[0], event_ids[1]))
    return chunk, ids


def test_numbers_follow_posting_order_within_each_year() -> None:
    chunk, _ = _chunk([2025, 2026, 2025, 2026, 2026])
    assert chunk.per_year() == {2025: 2, 2026: 3}
    assert chunk.number({2025: 41, 2026: 7}) == [41, 7, 42, 8, 9]
    posted = [orjson.loads(p) for p in chunk.posted]
    assert [(p["number"], p["fiscal_year"]) for p in posted] == [
        (41, 2025), (7, 2026), (42, 2025), (8, 2026), (9, 2026)]
    # The same data as the domain's own events for a born-posted transaction.
    assert posted[0] == d.imported_posting(41, 2025, ACTOR).to_data()
    assert [e.data for e in chunk.posted_events] == posted


def test_the_drafted_events_are_the_domains() -> None:
    chunk, ids = _chunk([2026, 2026])
    content = _content(date(2026, 3, 2), "2.00")
    assert orjson.loads(chunk.drafted[1]) == d.imported_draft(ids[1], content,
                                                               ACTOR).to_data()
    assert chunk.totals == [str(Decimal("1.00")), str(Decimal("2.00"))]
    assert chunk.codes == ["1410 6110", "1410 6110"]
    # Two event ids per transaction, none shared.
    assert len(set(chunk.drafted_ids + chunk.posted_ids)) == 4


def test_a_subset_keeps_every_column_in_step() -> None:
    chunk, ids = _chunk([2025, 2026, 2026])
    part = chunk.subset([0, 2])
    assert part.ids == [ids[0], ids[2]]
    assert part.years == [2025, 2026]
    assert part.drafted == [chunk.drafted[0], chunk.drafted[2]]
    assert part.drafted_ids == [chunk.drafted_ids[0], chunk.drafted_ids[2]]
    assert [e.event_id for e in part.drafted_events] == part.drafted_ids
    assert part.number({2025: 1, 2026: 1}) == [1, 1]
    appends = part.appends(Metadata())
    assert [a.stream_id for a in appends] == [f"ledger.transaction-{ids[0]}",
                                              f"ledger.transaction-{ids[2]}"]
    assert [[e.type for e in a.events] for a in appends] == [
        [d.TransactionDrafted.type, d.TransactionPosted.type]] * 2


def test_new_ids_are_distinct_version_7_uuids() -> None:
    ids = new_ids(1000)
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)  # ascending: bulk rows go in at the indexes' end
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {"specified in RFC 4122"}
