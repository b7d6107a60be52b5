"""Fiscal periods through HTTP: the twelve months of a year, close, reopen, lock, who may
do it, and closing a month while postings into it are in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

pytestmark = pytest.mark.integration

RENT = [("7420", "1500.00", ""), ("1210", "", "1500.00")]


async def period_action(books: Books, period: str, action: str, by: str = "chief") -> Any:
    return await books.h.client.post(books.url(f"/fiscal-periods/{period}/{action}"),
                                     headers=getattr(books, by))


async def statuses(books: Books, year: int = 2026) -> dict[str, str]:
    r = await books.h.client.get(books.url("/fiscal-periods"), params={"year": year},
                                 headers=books.clerk)
    assert r.status_code == 200, r.text
    return {p["period"]: p["status"] for p in r.json()}


async def test_a_year_has_twelve_open_months(h: Harness) -> None:
    books = await h.books()
    r = await h.client.get(books.url("/fiscal-periods"), params={"year": 2026},
                           headers=books.clerk)
    assert r.status_code == 200, r.text
    periods = r.json()
    assert [p["period"] for p in periods] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert {p["status"] for p in periods} == {"open"}
    assert (periods[0]["start"], periods[0]["end"]) == ("2026-01-01", "2026-01-31")
    assert (periods[1]["start"], periods[1]["end"]) == ("2026-02-01", "2026-02-28")
    assert (periods[11]["start"], periods[11]["end"]) == ("2026-12-01", "2026-12-31")
    # 2028 is a leap year.
    r = await h.client.get(books.url("/fiscal-periods"), params={"year": 2028},
                           headers=books.clerk)
    assert r.json()[1]["end"] == "2028-02-29"


async def test_close_march_then_reopen(h: Harness) -> None:
    books = await h.books()
    february = await books.post(RENT, day="2026-02-27")
    waiting = await books.approved(RENT, day="2026-03-31")
    r = await period_action(books, "2026-03", "close")
    assert r.status_code == 200, r.text
    assert r.json() == {"period": "2026-03", "start": "2026-03-01", "end": "2026-03-31",
                        "status": "closed"}
    months = await statuses(books)
    assert months["2026-03"] == "closed"
    assert [m for m, s in months.items() if s != "open"] == ["2026-03"]

    before = await books.state()
    expect_problem(await books.act(waiting["id"], "post", by="clerk"), 422, "period_closed")
    # A reversal dated in March is a posting into March too.
    expect_problem(await books.act(february["id"], "reverse", reason="Wrong month",
                                   date="2026-03-05"), 422, "period_closed")
    assert await books.state() == before
    # Other months take postings; a draft may still be dated in the closed month.
    assert (await books.post(RENT, day="2026-04-01"))["number"] == 2
    assert (await books.draft(RENT, day="2026-03-20"))["status"] == "draft"

    r = await period_action(books, "2026-03", "reopen")
    assert r.status_code == 200
    assert r.json()["status"] == "open"
    posted = await books.act(waiting["id"], "post", by="clerk")
    assert posted.status_code == 200, posted.text
    assert posted.json()["number"] == 3
    assert await books.balance("7420") == "4500.00"


async def test_a_locked_period_never_reopens(h: Harness) -> None:
    books = await h.books()
    waiting = await books.approved(RENT, day="2026-03-10")
    assert (await period_action(books, "2026-03", "close")).status_code == 200
    r = await period_action(books, "2026-03", "lock")
    assert r.status_code == 200
    assert r.json()["status"] == "locked"
    expect_problem(await period_action(books, "2026-03", "reopen"), 409, "period_locked")
    expect_problem(await period_action(books, "2026-03", "close"), 409, "period_locked")
    expect_problem(await period_action(books, "2026-03", "lock"), 409, "period_locked")
    expect_problem(await books.act(waiting["id"], "post", by="clerk"), 422, "period_closed")
    assert (await statuses(books))["2026-03"] == "locked"
    # An open month can be locked directly.
    r = await period_action(books, "2026-01", "lock")
    assert r.status_code == 200
    assert r.json()["status"] == "locked"


async def test_only_the_chief_accountant_closes_periods(h: Harness) -> None:
    books = await h.books()
    for action in ("close", "reopen", "lock"):
        assert (await period_action(books, "2026-03", action, by="clerk")).status_code == 403
    assert (await statuses(books))["2026-03"] == "open"
    assert (await books.post(RENT, day="2026-03-10"))["status"] == "posted"


async def test_closing_twice_and_reopening_an_open_month(h: Harness) -> None:
    books = await h.books()
    expect_problem(await period_action(books, "2026-03", "reopen"), 409, "invalid_state")
    assert (await period_action(books, "2026-03", "close")).status_code == 200
    expect_problem(await period_action(books, "2026-03", "close"), 409, "invalid_state")
    assert (await statuses(books))["2026-03"] == "closed"


async def test_reopening_a_month_of_a_year_never_opened_writes_nothing(h: Harness) -> None:
    """A year that was never opened has twelve open months, so reopening one is refused;
    the refusal must not open the year on the way."""
    books = await h.books()
    before = await books.state()
    expect_problem(await period_action(books, "2024-03", "reopen"), 409, "invalid_state")
    assert await books.state() == before


@pytest.mark.parametrize(("period", "status", "code"), [
    ("2026-13", 404, "period_not_found"),
    ("2026-00", 404, "period_not_found"),
    ("26-03-1", 404, "period_not_found"),
    ("2030-01", 422, "fiscal_year_unavailable"),
    ("1999-12", 422, "fiscal_year_unavailable"),
])
async def test_periods_that_do_not_exist(h: Harness, period: str, status: int,
                                         code: str) -> None:
    books = await h.books()
    before = await books.state()
    expect_problem(await period_action(books, period, "close"), status, code)
    assert await books.state() == before


async def _lines_in_march(books: Books) -> int:
    async with books.h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT count(*) AS n FROM journal_lines WHERE company_id = %s"
            " AND entry_date BETWEEN '2026-03-01' AND '2026-03-31'", (books.company_id,))
        row = await cursor.fetchone()
    assert row is not None
    return int(row["n"])


async def test_closing_races_with_posting(make_harness: Callable[..., Any]) -> None:
    """Postings into March race with March's close. Whatever the interleaving, once the
    close has committed no line lands in March: every posting either committed before the
    close (and is counted right after it) or is refused with ``period_closed``. And the
    close is not starved: it gets in while postings are still arriving."""
    async with make_harness(db_pool_max=12) as h:
        books = await h.books()
        await books.post(RENT, day="2026-02-28")  # the year is open before the race starts
        approved = [await books.approved([("1210", f"{100 + i}.00", ""),
                                          ("6110", "", f"{100 + i}.00")],
                                         day=f"2026-03-{1 + i % 28:02d}")
                    for i in range(40)]

        async def post(i: int, tx: dict[str, Any]) -> Any:
            await asyncio.sleep(i * 0.01)  # a steady stream, several in flight at a time
            return await books.act(tx["id"], "post", by="clerk")

        async def close() -> tuple[Any, int]:
            await asyncio.sleep(0.05)
            r = await period_action(books, "2026-03", "close")
            return r, await _lines_in_march(books)

        (closed, lines_at_close), *responses = await asyncio.gather(
            close(), *(post(i, tx) for i, tx in enumerate(approved)))
        assert closed.status_code == 200, closed.text

        succeeded = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code != 200]
        for r in refused:
            expect_problem(r, 422, "period_closed")
        assert refused, "the close waited until the stream of postings had ended"
        # Nothing landed in March after the close committed; every success is in March.
        assert await _lines_in_march(books) == lines_at_close == 2 * len(succeeded)
        assert sorted(r.json()["number"] for r in succeeded) == list(
            range(2, 2 + len(succeeded)))
        listed = await books.listing(status="approved", limit=100)
        assert len(listed["items"]) == len(refused)
