"""``UnitsOfWork.run(pipelined=True)``: the ledger's request-sized use cases run their
transaction in psycopg's pipeline mode, where a statement's error may surface only at the
next answer asked for, or at ``COMMIT``. Whatever the moment, nothing of the use case may
stay, and the pooled connection must come back clean."""

from __future__ import annotations

from uuid import UUID

import pytest
from ledger_harness import Harness
from psycopg import errors as pg_errors

from saldo.kernel.events import Actor
from saldo.kernel.ids import new_id
from saldo.platform.eventstore import NO_STREAM, NewEvent
from saldo.platform.uow import UnitOfWork

pytestmark = pytest.mark.integration

STREAM_TYPE = "test.pipelined"


async def _stored(h: Harness, stream_id: str) -> int:
    async with h.container.db.transaction() as conn:
        return await h.container.store.stream_version(conn, stream_id)


async def test_a_pipelined_unit_of_work_commits_reads_and_scopes_to_its_company(
        h: Harness) -> None:
    books = await h.books()
    actor = Actor(new_id(), "tester")
    stream = f"{STREAM_TYPE}-{new_id()}"

    async def use_case(uow: UnitOfWork) -> tuple[str, int]:
        await uow.append(stream, STREAM_TYPE, NO_STREAM, [NewEvent("Noted", {"n": 1})])
        cursor = await uow.conn.execute("SELECT current_setting('saldo.company_id') AS c")
        row = await cursor.fetchone()
        assert row is not None
        return row["c"], await uow.version(stream)

    company, version = await h.container.units.run(books.company_id, actor, use_case,
                                                    pipelined=True)
    assert UUID(company) == books.company_id
    assert version == 1
    assert await _stored(h, stream) == 1


async def test_an_error_nobody_asked_about_rolls_the_whole_use_case_back(h: Harness) -> None:
    books = await h.books()
    actor = Actor(new_id(), "tester")
    stream = f"{STREAM_TYPE}-{new_id()}"

    async def use_case(uow: UnitOfWork) -> None:
        await uow.append(stream, STREAM_TYPE, NO_STREAM, [NewEvent("Noted", {"n": 1})])
        # Sent, never fetched: the error arrives with COMMIT's answer.
        await uow.conn.execute("SELECT 1 / 0")

    with pytest.raises(pg_errors.DivisionByZero):
        await h.container.units.run(books.company_id, actor, use_case, pipelined=True)
    assert await _stored(h, stream) == 0


async def test_a_use_case_that_raises_leaves_nothing_and_the_next_one_runs(
        h: Harness) -> None:
    books = await h.books()
    actor = Actor(new_id(), "tester")
    stream = f"{STREAM_TYPE}-{new_id()}"

    async def failing(uow: UnitOfWork) -> None:
        await uow.append(stream, STREAM_TYPE, NO_STREAM, [NewEvent("Noted", {"n": 1})])
        await uow.conn.execute("UPDATE accounts SET name = name WHERE company_id = %s",
                               (uow.company_id,))  # queued, not answered yet
        raise RuntimeError("the use case changed its mind")

    with pytest.raises(RuntimeError, match="changed its mind"):
        await h.container.units.run(books.company_id, actor, failing, pipelined=True)
    assert await _stored(h, stream) == 0

    # Every pooled connection is usable again, outside pipeline mode and transaction.
    for _ in range(3):
        async with h.container.app_db.transaction(company_id=books.company_id) as conn:
            cursor = await conn.execute("SELECT count(*) AS n FROM accounts")
            row = await cursor.fetchone()
            assert row is not None
            assert row["n"] > 0
    await h.container.units.run(
        books.company_id, actor,
        lambda uow: uow.append(stream, STREAM_TYPE, NO_STREAM, [NewEvent("Noted", {})]),
        pipelined=True)
    assert await _stored(h, stream) == 1
