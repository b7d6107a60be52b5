"""The chart of accounts is loaded from its newest snapshot plus the events after it
(decision 0067): a snapshot is kept when the chart's stream crosses a multiple of
CHART_SNAPSHOT_INTERVAL, a use case then reads only what came after it and decides as a
full replay would, a snapshot of another schema version is ignored, and another company
can neither read nor overwrite it (row-level security)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
import pytest
from ledger_harness import Harness

from saldo.identity.domain import Permission
from saldo.identity.service import CompanyContext
from saldo.ledger import accounts as chart_use_cases
from saldo.ledger import domain as d
from saldo.ledger.books import CHART_STREAM, chart_stream
from saldo.platform.db import Database
from saldo.platform.eventstore import EventStore, RecordedEvent, Snapshot
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration


class Reads:
    """Every ``EventStore.load`` of a chart stream: the snapshot's version (0: none) and
    the versions of the events read after it."""

    def __init__(self, store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[int, list[int]]] = []
        load = store.load

        async def spy(conn: Any, stream_id: str, schema_version: int | None = None
                      ) -> tuple[Snapshot | None, list[RecordedEvent]]:
            snapshot, events = await load(conn, stream_id, schema_version)
            if stream_id.startswith(CHART_STREAM):
                self.seen.append((snapshot.version if snapshot else 0,
                                  [e.version for e in events]))
            return snapshot, events

        monkeypatch.setattr(store, "load", spy)


async def chief(h: Harness, company_id: UUID) -> CompanyContext:
    return await h.container.identity.member_context(company_id, "chief",
                                                     Permission.ACCOUNTS_WRITE)


async def stored_snapshot(db: Database, company_id: UUID) -> dict[str, Any] | None:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT stream_type, version, schema_version, company_id, state FROM snapshots"
            " WHERE stream_id = %s", (chart_stream(company_id),))
        return await cursor.fetchone()


async def charts(h: Harness, company_id: UUID) -> tuple[d.ChartOfAccounts, d.ChartOfAccounts]:
    """The chart as the use cases load it, and replayed from its whole stream."""
    async def both(uow: UnitOfWork) -> tuple[d.ChartOfAccounts, d.ChartOfAccounts]:
        loaded = await chart_use_cases._chart(uow)
        full = d.ChartOfAccounts.replay(
            (e.type, e.data) for e in await uow.read(chart_stream(company_id)))
        assert full is not None
        return loaded, full

    ctx = await chief(h, company_id)
    return await h.container.units.run(company_id, d.Actor(ctx.user.id, ctx.user.username),
                                       both)


async def test_a_long_chart_is_loaded_from_its_snapshot_and_decides_alike(
        h: Harness, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    interval = chart_use_cases.CHART_SNAPSHOT_INTERVAL
    assert interval == 50
    books = await h.books()
    ctx, ledger = await chief(h, books.company_id), h.container.ledger
    # The chart's load is version 1; each account added is one event.
    for n in range(1, interval - 1):
        await ledger.add_account(ctx, f"7410.{n:02d}", f"Expense {n}", None, None, None)
    assert await stored_snapshot(db, books.company_id) is None  # version 49
    await ledger.add_account(ctx, f"7410.{interval - 1:02d}", "Expense 49", None, None, None)
    taken = await stored_snapshot(db, books.company_id)
    assert taken is not None
    assert (taken["stream_type"], taken["version"], taken["schema_version"],
            taken["company_id"]) == (CHART_STREAM, interval, d.CHART_SNAPSHOT_SCHEMA,
                                     books.company_id)
    assert taken["state"]["accounts"][-1]["code"] == "7410.49"

    reads = Reads(h.container.store, monkeypatch)
    await ledger.change_account(ctx, "7410.03", {"name": "Stationery"})  # version 51
    await ledger.add_account(ctx, "7410.50", "Expense 50", None, None, None)  # 52
    await ledger.delete_account(ctx, "7410.07")  # 53
    # Each use case read the snapshot and only the events after it.
    assert reads.seen == [(50, []), (50, [51]), (50, [51, 52])]
    assert (await stored_snapshot(db, books.company_id))["version"] == 50  # type: ignore[index]

    loaded, full = await charts(h, books.company_id)
    assert reads.seen[-1] == (50, [51, 52, 53])
    assert (loaded.version, loaded.chart) == (full.version, full.chart) == (53, "ge-standard")
    assert list(loaded.accounts.items()) == list(full.accounts.items())
    assert loaded.accounts["7410.03"].name == "Stationery"
    assert "7410.07" not in loaded.accounts
    assert not loaded.accounts["7410"].postable
    # Decisions that depend on events before and after the snapshot.
    with pytest.raises(d.AccountExists):
        await ledger.add_account(ctx, "7410.50", "Again", None, None, None)
    with pytest.raises(d.AccountExists):
        await ledger.add_account(ctx, "7410.20", "Again", None, None, None)
    with pytest.raises(d.AccountNotFound):
        await ledger.delete_account(ctx, "7410.07")
    again = await ledger.add_account(ctx, "7410.07", "Expense 7, again", None, None, None)
    assert (again.parent_code, again.type) == ("7410", d.AccountType.EXPENSE)


async def test_a_snapshot_of_another_schema_version_is_ignored(
        h: Harness, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    books = await h.books()
    ctx, ledger = await chief(h, books.company_id), h.container.ledger
    await ledger.add_account(ctx, "7410.01", "Rent of the office", None, None, None)
    stream = chart_stream(books.company_id)
    # A state that would refuse the next account (no parent 7410 in it), were it read.
    empty = {"chart": "ge-standard", "accounts": []}
    async with db.transaction() as conn:
        await h.container.store.save_snapshot(conn, Snapshot(
            stream, CHART_STREAM, 2, empty, d.CHART_SNAPSHOT_SCHEMA + 1, books.company_id))
    reads = Reads(h.container.store, monkeypatch)
    added = await ledger.add_account(ctx, "7410.02", "Rent of the store", None, None, None)
    assert added.parent_code == "7410"
    assert reads.seen == [(0, [1, 2])]  # the whole stream, from the chart's load on

    # The same state under the schema version the chart reads is taken as it is: the
    # account's parent is then unknown. (The check above is what kept it out.)
    async with db.transaction() as conn:
        await h.container.store.save_snapshot(conn, Snapshot(
            stream, CHART_STREAM, 3, empty, d.CHART_SNAPSHOT_SCHEMA, books.company_id))
    with pytest.raises(d.InvalidAccount):
        await ledger.add_account(ctx, "7410.03", "Rent of the storage", None, None, None)
    assert reads.seen[-1] == (3, [])


async def test_another_company_cannot_read_or_overwrite_the_snapshot(
        h: Harness, db: Database, app_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_use_cases, "CHART_SNAPSHOT_INTERVAL", 2)
    a = await h.books()
    b = await h.other_books("b")
    await h.container.ledger.add_account(await chief(h, a.company_id), "7410.01", "Rent",
                                         None, None, None)
    mine = await stored_snapshot(db, a.company_id)
    assert mine is not None
    assert (mine["version"], mine["company_id"]) == (2, a.company_id)
    store, stream = EventStore(), chart_stream(a.company_id)

    async with app_db.transaction(company_id=a.company_id) as conn:
        seen = await store.load_snapshot(conn, stream)
        assert seen is not None
        assert (seen.version, seen.company_id) == (2, a.company_id)
    async with app_db.transaction(company_id=b.company_id) as conn:
        assert await store.load_snapshot(conn, stream) is None
        count = await (await conn.execute("SELECT count(*) AS n FROM snapshots")).fetchone()
        assert count == {"n": 0}
        snapshot, events = await store.load(conn, stream)
        assert (snapshot, events) == (None, [])  # its events are hidden too
    async with app_db.transaction() as conn:  # no company set: no snapshot at all
        count = await (await conn.execute("SELECT count(*) AS n FROM snapshots")).fetchone()
        assert count == {"n": 0}

    forged = {"chart": "ge-standard", "accounts": []}
    for company in (a.company_id, b.company_id):  # under A's company or under B's own
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with app_db.transaction(company_id=b.company_id) as conn:
                await store.save_snapshot(conn, Snapshot(stream, CHART_STREAM, 9, forged,
                                                         d.CHART_SNAPSHOT_SCHEMA, company))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor delete, even its own
        async with app_db.transaction(company_id=a.company_id) as conn:
            await conn.execute("DELETE FROM snapshots")
    assert await stored_snapshot(db, a.company_id) == mine
