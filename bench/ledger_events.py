"""What typed journal events cost: building and encoding the events of born-posted
transactions (what bulk posting and every document flow write) and replaying them,
against the plain dictionaries of the same data measured in the same run.

    .venv/bin/python bench/ledger_events.py [--transactions 20000] [--rounds 5]

No database: this is the Python side of an append and of a load. The reference writes
the dictionaries the ledger stored before its events were classes (the same keys and
values, built inline) and replays them as the aggregate did then, reading the
dictionaries in place (:func:`dict_replay`); the ratio is typed / reference, best round
of each, rounds alternating so that the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import orjson

from saldo.ledger.domain import (
    Actor,
    Content,
    ContentInput,
    JournalTransaction,
    LineDraft,
    Status,
    check_content,
    imported_events,
)

ACCOUNTS = ("1110", "1210", "1410", "3110", "3330", "6110", "7410", "7420")
ACTOR = Actor(UUID(int=5), "importer")


def contents(count: int, seed: int = 7) -> list[Content]:
    """Transactions of 2-4 lines in GEL, checked as posting checks them."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        amounts = [Decimal(rng.randint(1, 10**6)) / 100 for _ in range(rng.randint(1, 3))]
        codes = rng.sample(ACCOUNTS, len(amounts) + 1)
        lines = [LineDraft(codes[0], debit=str(sum(amounts)))]
        lines += [LineDraft(code, credit=str(a)) for code, a in zip(codes[1:], amounts,
                                                                   strict=True)]
        out.append(check_content(ContentInput(date(2026, 1, 1) + timedelta(days=i % 365),
                                              f"Sale {i}", lines), "GEL"))
    return out


def dict_events(tx_id: UUID, content: Content, number: int) -> list[dict[str, Any]]:
    by = ACTOR.as_data()
    return [{"id": str(tx_id), **content.as_data(), "reverses": None, **by},
            {"number": number, "fiscal_year": 2026, **by}]


def typed_events(tx_id: UUID, content: Content, number: int) -> list[dict[str, Any]]:
    return [e.to_data() for e in imported_events(tx_id, content, ACTOR, number, 2026)]


def dict_replay(tx_id: UUID, events: list[tuple[str, dict[str, Any]]]) -> JournalTransaction:
    """The replay of a born-posted stream as the aggregate did it before its events were
    typed: the stored dictionaries read in place."""
    tx = JournalTransaction(tx_id)
    for event_type, data in events:
        tx.version += 1
        if event_type == "TransactionDrafted":
            tx.content = Content.from_data(data)
            tx.created_by, tx.created_by_id = data["by"], UUID(data["by_id"])
            tx.reverses = UUID(data["reverses"]) if data.get("reverses") else None
            tx.kind = data.get("kind", "regular")
        elif event_type == "TransactionPosted":
            tx.status, tx.posted_by = Status.POSTED, data["by"]
            tx.number, tx.fiscal_year = data["number"], data["fiscal_year"]
    return tx


def best(fn: Callable[[], object], rounds: int, other: Callable[[], object]
         ) -> tuple[float, float]:
    """Best time of ``fn`` and of ``other`` over ``rounds`` alternating rounds."""
    mine, theirs = [], []
    for _ in range(rounds):
        for run, times in ((fn, mine), (other, theirs)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return min(mine), min(theirs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    items = [(uuid4(), c, n) for n, c in enumerate(contents(args.transactions), start=1)]

    def write(build: Callable[[UUID, Content, int], list[dict[str, Any]]]) -> list[bytes]:
        return [orjson.dumps(d) for tx_id, c, n in items for d in build(tx_id, c, n)]

    typed_write, dict_write = best(lambda: write(typed_events), args.rounds,
                                   lambda: write(dict_events))
    assert write(typed_events) == [orjson.dumps(d) for tx_id, c, n in items
                                   for d in dict_events(tx_id, c, n)], "shapes differ"
    stored = [(tx_id, [("TransactionDrafted", orjson.loads(a)),
                       ("TransactionPosted", orjson.loads(b))])
              for (tx_id, _, _), a, b in zip(items, *[iter(write(dict_events))] * 2,
                                              strict=True)]

    def replay() -> None:
        for tx_id, events in stored:
            JournalTransaction.replay(tx_id, events)

    def replay_dicts() -> None:
        for tx_id, events in stored:
            dict_replay(tx_id, events)

    assert all(JournalTransaction.replay(tx_id, events) == dict_replay(tx_id, events)
               for tx_id, events in stored[:100]), "states differ"
    typed_read, dict_read = best(replay, args.rounds, replay_dicts)
    n = args.transactions
    print(f"{n:,} born-posted transactions of 2-4 lines, best of {args.rounds} rounds")
    print(f"write: typed {n / typed_write:,.0f} tx/s, dictionaries {n / dict_write:,.0f} "
          f"tx/s, ratio {typed_write / dict_write:.2f}")
    print(f"read:  typed replay {n / typed_read:,.0f} tx/s, dictionaries "
          f"{n / dict_read:,.0f} tx/s, ratio {typed_read / dict_read:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
