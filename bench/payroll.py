"""Payroll benchmark (issue 14): a run for 10,000 employees, computed and posted.

Run it from the repository root::

    .venv/bin/python bench/payroll.py                   # embedded PostgreSQL, 10,000 employees
    .venv/bin/python bench/payroll.py --employees 2000  # a smoke run
    .venv/bin/python bench/payroll.py --database-url postgresql://user@host:5432/postgres

What is measured, in one process against one database:

1. Setup (not timed as the target): 10,000 employees registered in one bulk call
   (``PayrollService.hire_many``), with salaries of 800.00-12,000.00 and one in ten not
   enrolled in the pension scheme.
2. The run: ``PayrollService.create_run`` (each employee's salary, pension, income tax and
   employer pension, rounded per line; the run's event with every line; the read model's
   10,000 line rows) followed by ``PayrollService.post_run`` (the run's journal through the
   ledger's posting port). Target: < 5 s for both together.
3. The reference, in the same run: bulk journal posting of the same lines with
   ``LedgerService.post_batch`` -- one journal transaction per employee with its five
   lines (Dr 7410 gross, Dr 7415 employer pension / Cr 3130 net, Cr 3320 income tax, Cr
   3321 pension), in batches of 2,000, into a second company. The ratio is the run's time
   over the bulk posting's.

Rounds alternate the order of the two sides (each round uses a new period, so each run is
a new run); medians are reported. A missed target is reported, not turned into a failing
exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from common import AppBench, database_argument, migrated, progress, server
from saldo.identity.domain import Permission
from saldo.ledger.domain import ContentInput, LineDraft
from saldo.payroll import domain as d
from saldo.payroll.service import EmployeeInput, PayrollService

TARGET_SECONDS = 5.0


def staff(n: int, seed: int) -> list[EmployeeInput]:
    rng = random.Random(seed)
    return [EmployeeInput(f"{10_000_000_000 + i:011d}", f"Employee {i:05d}",
                          date(2020, 1, 1), pension_enrolled=rng.random() > 0.1,
                          gross_salary=Decimal(rng.randrange(80_000, 1_200_000)) / 100)
            for i in range(n)]


def journal_of(lines: list[d.PayLine], day: date) -> list[tuple[int, ContentInput]]:
    rows = []
    for i, x in enumerate(lines, start=1):
        entries = [LineDraft(code, debit or None, credit or None)
                   for code, debit, credit, _ in d.accrual_lines(d.totals([x]))]
        rows.append((i, ContentInput(day, f"Salary {x.employee_id}", entries)))
    return rows


async def main(args: argparse.Namespace) -> int:
    async with server(args.database_url) as (url, label):
        admin = await migrated(url)
        bench = AppBench(url, args.seed, Path(tempfile.mkdtemp(prefix="saldo-bench-")))
        bench.admin = admin
        chief = await bench.open()
        try:
            payroll_company = await bench.company(chief, "Payroll Bench LLC", "405000001")
            journal_company = await bench.company(chief, "Journal Bench LLC", "405000002")
            identity = bench.container.identity
            ctx = await identity.member_context(payroll_company, "chief",
                                                Permission.PAYROLL_WRITE)
            jctx = await identity.member_context(journal_company, "chief",
                                                 Permission.TRANSACTIONS_APPROVE)
            payroll: PayrollService = bench.container.services["payroll"]
            ledger = payroll.ledger
            progress(f"{label}: registering {args.employees} employees ...")
            started = time.perf_counter()
            await payroll.hire_many(ctx, staff(args.employees, args.seed))
            progress(f"  registered in {time.perf_counter() - started:.2f} s")
            year = bench.today.year - 1
            # Warm up: the fiscal year, partitions, caches (not measured).
            await ledger.open_fiscal_year(payroll_company, year)
            await ledger.open_fiscal_year(journal_company, year)
            run_times, post_times, batch_times = [], [], []
            for round_no in range(args.rounds):
                period = f"{year}-{round_no + 1:02d}"
                first = d.parse_period(period)
                payment = d.period_end(first)

                async def the_run(period: str = period, payment: date = payment) -> list[
                        d.PayLine]:
                    t0 = time.perf_counter()
                    run = await payroll.create_run(ctx, period, payment, None)
                    t1 = time.perf_counter()
                    await payroll.post_run(ctx, run.id)
                    t2 = time.perf_counter()
                    run_times.append(t2 - t0)
                    post_times.append(t2 - t1)
                    return run.lines

                async def the_batch(lines: list[d.PayLine], payment: date = payment) -> None:
                    rows = journal_of(lines, payment)
                    t0 = time.perf_counter()
                    for i in range(0, len(rows), 2000):
                        result = await ledger.post_batch(jctx, rows[i:i + 2000])
                        if not result.ok:
                            raise SystemExit(f"bulk posting refused: {result.findings[:3]}")
                    batch_times.append(time.perf_counter() - t0)

                if round_no % 2 == 0:
                    lines = await the_run()
                    await the_batch(lines)
                else:
                    # The same lines as the previous round's (the reference goes first).
                    await the_batch(lines)
                    await the_run()
                progress(f"  round {round_no + 1}: run {run_times[-1]:.2f} s "
                         f"(post {post_times[-1]:.2f} s), bulk journal {batch_times[-1]:.2f} s")
            run_s = statistics.median(run_times)
            batch_s = statistics.median(batch_times)
            verdict = "met" if run_s < TARGET_SECONDS else "MISSED"
            print(f"payroll run of {args.employees} employees, computed and posted: "
                  f"{run_s:.2f} s (median of {args.rounds}; target < {TARGET_SECONDS:.0f} s: "
                  f"{verdict}); of which posting {statistics.median(post_times):.2f} s")
            print(f"bulk journal posting of the same lines ({args.employees} transactions x "
                  f"5 lines, post_batch by 2,000): {batch_s:.2f} s; ratio run / bulk = "
                  f"{run_s / batch_s:.2f}")
        finally:
            await bench.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    database_argument(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
