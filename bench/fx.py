"""IAS 21 revaluation benchmark (issue 12, "Benchmark").

Run it from the repository root::

    .venv/bin/python bench/fx.py            # 100,000 open items, embedded PostgreSQL
    .venv/bin/python bench/fx.py --quick    # 10,000 items (a smoke run)
    .venv/bin/python bench/fx.py --database-url postgresql://user@host:5432/postgres

A company gets ``--items`` open foreign-currency items (journal lines in USD or EUR) across
20 monetary accounts, posted with ``LedgerService.post_batch`` over the year's first eleven
months, each transaction a debit on one monetary account and a credit on another at the
rate of its day. Then, in rounds, ``LedgerService.revalue`` (read every position,
retranslate, post the differences and their next-day reversal, in one unit of work) is
timed against a plain ``GROUP BY`` of the same journal lines by account and currency (what
any revaluation must at least read), in the same run. The ratio is GROUP BY time /
revaluation time (target >= 0.5: the revaluation takes at most twice the plain query).
A round revalues a new date (each posts), rotating which side goes first.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from common import (
    ERRORS,
    ROOT,
    AppBench,
    Row,
    Run,
    database_argument,
    failed,
    headline,
    migrated,
    output_argument,
    progress,
    scalar,
    server,
)
from saldo.fx.domain import OfficialRate
from saldo.fx.service import FxService
from saldo.identity.domain import Permission
from saldo.ledger.domain import ContentInput, LineDraft

#: Twenty postable monetary leaves of the ge-standard chart.
MONETARY = ("1120", "1220", "1230", "1290", "1410", "1420", "1430", "1440", "1450", "1490",
            "1510", "1520", "3110", "3170", "3190", "3210", "3220", "3410", "3490", "4140")
BATCH = 2000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000,
                        help="open foreign-currency items (journal lines), default 100,000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10,000 items, 3 rounds")
    parser.add_argument("--seed", type=int, default=12)
    database_argument(parser)
    output_argument(parser, ROOT / "bench" / "results" / "fx.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.rounds = 10_000, 3
    return args


def rate_of(currency: str, day: date) -> Decimal:
    """A rate per day that drifts (USD about 2.70, EUR about 2.95), four decimals."""
    base = Decimal("2.7000") if currency == "USD" else Decimal("2.9500")
    return base + Decimal(day.toordinal() % 37) / Decimal(1000)


async def bench(args: argparse.Namespace) -> tuple[list[Row], dict[str, object]]:
    rng = random.Random(args.seed)
    rows: list[Row] = []
    async with server(args.database_url) as (url, label):
        admin = await migrated(url)
        app = AppBench(url, args.seed, ROOT)
        app.admin = admin
        try:
            chief = await app.open()
            company = await app.company(chief, "FX Bench LLC", "204567891")
            ledger, identity = app.container.ledger, app.container.identity
            fx = app.container.services["fx"]
            assert isinstance(fx, FxService)
            year = app.today.year
            first, last = date(year, 1, 1), date(year, 11, 30)
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            rated = [first + timedelta(days=n) for n in range(365)]
            await fx.store_rates([OfficialRate(c, d, rate_of(c, d))
                                  for c in ("USD", "EUR") for d in rated], "bench")
            ctx = await identity.member_context(company, "chief",
                                                Permission.TRANSACTIONS_APPROVE)
            transactions = args.items // 2
            progress(f"posting {transactions:,} foreign-currency transactions "
                     f"({args.items:,} open items on {len(MONETARY)} accounts) ...")
            started = time.perf_counter()
            for start in range(0, transactions, BATCH):
                batch = []
                for i in range(start, min(start + BATCH, transactions)):
                    day = days[rng.randrange(len(days))]
                    currency = "USD" if i % 3 else "EUR"
                    amount = Decimal(rng.randrange(100, 5_000_00)) / 100
                    dr, cr = rng.sample(MONETARY, 2)
                    batch.append((i + 1, ContentInput(
                        day, f"FX item {i + 1}",
                        [LineDraft(dr, debit=amount), LineDraft(cr, credit=amount)],
                        currency=currency, exchange_rate=rate_of(currency, day))))
                outcome = await ledger.post_batch(ctx, batch)
                if not outcome.ok:
                    raise RuntimeError(f"batch refused: {outcome.findings[:3]}")
            posting = time.perf_counter() - started
            progress(f"posted in {posting:.1f} s")
            lines = await scalar(admin, "SELECT count(*) FROM journal_lines"
                                        " WHERE company_id = %s AND currency <> 'GEL'",
                                 (company,))
            revaluations: list[float] = []
            queries: list[float] = []
            differences = 0
            for n in range(args.rounds):
                as_of = date(year, 12, 1) + timedelta(days=n)

                async def revalue(as_of: date = as_of) -> float:
                    nonlocal differences
                    t = time.perf_counter()
                    done = await ledger.revalue(ctx, as_of)
                    elapsed = time.perf_counter() - t
                    assert done.posted, "every round revalues at a new rate"
                    differences = sum(1 for r in done.lines if r.difference)
                    return elapsed

                async def group_by(as_of: date = as_of) -> float:
                    t = time.perf_counter()
                    async with app.container.app_db.transaction(company_id=company) as conn:
                        cursor = await conn.execute(
                            "SELECT account_code, currency, sum(amount_debit - amount_credit),"
                            "       sum(debit_base - credit_base) FROM journal_lines"
                            " WHERE company_id = %s AND currency <> 'GEL' AND entry_date <= %s"
                            " GROUP BY 1, 2", (company, as_of))
                        await cursor.fetchall()
                    return time.perf_counter() - t

                if n % 2:
                    queries.append(await group_by())
                    revaluations.append(await revalue())
                else:
                    revaluations.append(await revalue())
                    queries.append(await group_by())
                progress(f"round {n + 1}: revaluation {revaluations[-1] * 1000:.1f} ms, "
                         f"GROUP BY {queries[-1] * 1000:.1f} ms")
            ratios = [q / r for q, r in zip(queries, revaluations, strict=True)]
            ratio = statistics.median(ratios)
            rows.append(Row("revaluation_ms", f"revaluation of {lines:,} open items, "
                            f"{len(MONETARY)} accounts, 2 currencies (median of rounds)",
                            f"{statistics.median(revaluations) * 1000:,.1f} ms",
                            f"GROUP BY {statistics.median(queries) * 1000:,.1f} ms"))
            rows.append(Row("revaluation_ratio", "GROUP BY time / revaluation time",
                            f"{ratio:.2f}", "-", ">= 0.5", ratio >= 0.5))
            rows.append(Row("posting_s", f"posting the items ({transactions:,} transactions)",
                            f"{posting:.1f} s"))
            extra: dict[str, object] = {"label": label, "lines": lines,
                                        "positions_moved": differences,
                                        "revaluation_s": revaluations, "group_by_s": queries,
                                        "server_version": await scalar(
                                            admin, "SELECT current_setting('server_version')")}
            return rows, extra
        finally:
            await app.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run()
    try:
        rows, extra = asyncio.run(bench(args))
    except ERRORS as exc:
        return failed(exc)
    run.stop()
    mode = "quick" if args.quick else "full"
    title = headline("IAS 21 revaluation", str(extra["server_version"]), str(extra["label"]),
                     mode, run.elapsed)
    return run.conclude(args.output, title, rows, {
        "benchmark": "fx",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode, "items": args.items, "rounds": args.rounds, **extra})


if __name__ == "__main__":
    sys.exit(main())
