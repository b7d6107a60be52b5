"""The issue's concurrency test: 32 clients post for 10 seconds, every transaction on the
same two hot accounts (1210 bank and 3330 output VAT).

Each client loops draft (accountant) → approve (chief accountant) → post (accountant)
through HTTP. The app runs in this process (ASGI) with a database pool large enough that
many transactions are in flight in PostgreSQL at once, so they really do contend for the
same period row, number counter and turnover rows. Expected: no request fails (deadlocks
and serialisation failures are retried inside the service), no amount is lost, and the
posted numbers are 1..N with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from ledger_harness import Books

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 32
#: How long the clients keep posting (the issue says 10 seconds).
DURATION_SECONDS = 10.0
#: Connections in the app's pool: enough for half the clients to be inside PostgreSQL at
#: the same moment (the rest queue for a connection, as they would in production).
POOL_SIZE = 16
HOT = ("1210", "3330")
OTHER = "6110"
#: Most postings land on one day (one hot turnover row per account), some on others.
DAYS = ("2026-11-20", "2026-11-20", "2026-11-20", "2026-10-31", "2026-01-02")


@dataclass
class Client:
    """One client's view: what it posted and anything that went wrong."""

    seed: int
    numbers: list[int] = field(default_factory=list)
    net: Counter[str] = field(default_factory=Counter)  # account -> debit - credit
    lines: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def entries(rng: random.Random) -> tuple[list[tuple[str, str, str]], dict[str, Decimal]]:
    """A transaction touching both hot accounts, in either direction, sometimes with a
    third line; with the movement it makes per account."""
    amount = Decimal(rng.randint(1, 10_000_000)).scaleb(-2)
    bank, vat = HOT
    if rng.random() < 0.25:
        extra = Decimal(rng.randint(1, 100_000)).scaleb(-2)
        return ([(bank, str(amount + extra), ""), (vat, "", str(amount)), (OTHER, "", str(extra))],
                {bank: amount + extra, vat: -amount, OTHER: -extra})
    if rng.random() < 0.5:
        return [(bank, str(amount), ""), (vat, "", str(amount))], {bank: amount, vat: -amount}
    return [(vat, str(amount), ""), (bank, "", str(amount))], {vat: amount, bank: -amount}


async def run_client(books: Books, client: Client, deadline: float) -> None:
    rng = random.Random(client.seed)
    http = books.h.client

    async def call(path: str, headers: dict[str, str], expected: int,
                   body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        client.requests += 1
        response = await http.post(books.url(path), json=body, headers=headers)
        if response.status_code != expected:
            client.failures.append(f"POST {path}: {response.status_code} {response.text}")
            return None
        return dict(response.json())

    while time.monotonic() < deadline and not client.failures:
        lines, movement = entries(rng)
        body = {"date": rng.choice(DAYS), "description": f"Hot {client.seed}", "entries": [
            {"account_code": a, **({"debit": dr} if dr else {}), **({"credit": cr} if cr else {})}
            for a, dr, cr in lines]}
        draft = await call("/transactions", books.clerk, 201, body)
        if draft is None:
            return
        if await call(f"/transactions/{draft['id']}/approve", books.chief, 200) is None:
            return
        posted = await call(f"/transactions/{draft['id']}/post", books.clerk, 200)
        if posted is None:
            return
        assert posted["status"] == "posted"
        assert posted["fiscal_year"] == 2026
        client.numbers.append(posted["number"])
        client.net.update(movement)
        client.lines += len(lines)


async def test_32_clients_posting_to_two_hot_accounts_for_10_seconds(
        make_harness: Callable[..., Any]) -> None:
    async with make_harness(db_pool_max=POOL_SIZE, db_pool_min=POOL_SIZE) as h:
        books = await h.books()
        clients = [Client(seed) for seed in range(CLIENTS)]
        started = time.monotonic()
        await asyncio.gather(*(run_client(books, c, started + DURATION_SECONDS)
                               for c in clients))
        elapsed = time.monotonic() - started

        failures = [f for c in clients for f in c.failures]
        assert not failures, f"{len(failures)} requests failed, first: {failures[:3]}"
        numbers = sorted(n for c in clients for n in c.numbers)
        posted = len(numbers)
        # Every client got through several cycles: the clients really overlapped.
        assert all(len(c.numbers) >= 2 for c in clients), [len(c.numbers) for c in clients]
        assert numbers == list(range(1, posted + 1)), "numbers are gap-free and unique"

        net: Counter[str] = Counter()
        for c in clients:
            net.update(c.net)
        for code in (*HOT, OTHER):
            assert Decimal(await books.balance(code)) == net[code], code
        assert sum(net.values()) == 0

        async with h.container.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT status, count(*) AS n, min(number) AS lo, max(number) AS hi,"
                "       count(DISTINCT number) AS distinct_numbers"
                "  FROM journal_transactions WHERE company_id = %s GROUP BY status",
                (books.company_id,))
            statuses = {r["status"]: r for r in await cursor.fetchall()}
            cursor = await conn.execute(
                "SELECT last_number FROM transaction_numbers"
                " WHERE company_id = %s AND fiscal_year = 2026", (books.company_id,))
            counter = await cursor.fetchone()
            cursor = await conn.execute(
                "SELECT account_code, sum(debit_base - credit_base) AS net, sum(lines) AS lines"
                "  FROM account_turnover WHERE company_id = %s GROUP BY 1", (books.company_id,))
            turnover = {r["account_code"]: r for r in await cursor.fetchall()}
            cursor = await conn.execute(
                "SELECT account_code, sum(debit_base - credit_base) AS net, count(*) AS lines"
                "  FROM journal_lines WHERE company_id = %s GROUP BY 1", (books.company_id,))
            journal = {r["account_code"]: r for r in await cursor.fetchall()}

        # Nothing left half-way, and the read model agrees with what the clients saw.
        assert set(statuses) == {"posted"}
        row = statuses["posted"]
        assert (row["n"], row["lo"], row["hi"], row["distinct_numbers"]) == (
            posted, 1, posted, posted)
        assert counter is not None
        assert counter["last_number"] == posted
        assert {a: r["net"] for a, r in turnover.items()} == {a: net[a] for a in turnover}
        assert {a: r["net"] for a, r in journal.items()} == {a: net[a] for a in journal}
        assert sum(r["lines"] for r in turnover.values()) == sum(c.lines for c in clients)
        assert sum(r["lines"] for r in journal.values()) == sum(c.lines for c in clients)
        print(f"\n{CLIENTS} clients: {posted} transactions posted in {elapsed:.1f} s "
              f"({posted / elapsed:.0f} cycles/s, "
              f"{sum(c.requests for c in clients)} requests, none failed)")
