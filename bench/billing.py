"""Billing benchmark (issue 13): invoice posting against bulk journal posting, the VAT
return of a busy month, and ageing over many open documents.

Run it from the repository root::

    .venv/bin/python bench/billing.py                      # 100,000 invoices (long)
    .venv/bin/python bench/billing.py --invoices 5000      # a smaller run
    .venv/bin/python bench/billing.py --database-url postgresql://user@host:5432/postgres

What is measured, on one server and one database:

1. Invoices of 1–5 lines (random quantities and prices, vat18 / export0 / exempt) drafted
   and posted through ``BillingService.post_many`` in batches of ``--batch`` (one unit of
   work per batch: document events, the journal transaction through the posting port, the
   read models): invoices/s. The same journal lines (1410 / revenue / 3330 per line) are
   posted by ``LedgerService.post_batch`` into a second company in the same rounds:
   transactions/s, and the ratio (target ≥ 0.5).
2. All invoices fall in one month: ``GET …/tax/vat-returns/{month}`` through the app
   (ASGI, in process), sequentially after a warm-up: p50/p95 (target p95 < 200 ms).
3. Ageing: ``GET …/reports/receivables-aging`` over all the open invoices: p50/p95
   (target p95 < 200 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx

from common import AppBench, migrated, percentile, server
from saldo import bootstrap
from saldo.billing.service import (
    BillingService,
    CounterpartyInput,
    DocumentInput,
    DocumentKind,
    LineInput,
)
from saldo.identity.domain import Permission
from saldo.kernel.money import round_half_up
from saldo.ledger.domain import ContentInput, LineDraft

CODES = ("vat18", "vat18", "vat18", "export0", "exempt")
REVENUE = {"vat18": "6110", "export0": "6115", "exempt": "6110"}


def invoices(rng: random.Random, count: int, customers: list, month: date
             ) -> list[DocumentInput]:
    out = []
    for _ in range(count):
        lines = [LineInput("Goods", str(rng.randint(1, 20)),
                           str(Decimal(rng.randrange(100, 500_000)).scaleb(-2)),
                           rng.choice(CODES)) for _ in range(rng.randint(1, 5))]
        day = month.replace(day=rng.randint(1, 28))
        out.append(DocumentInput(rng.choice(customers), day, lines))
    return out


def journal(doc: DocumentInput) -> ContentInput:
    """The journal the invoice makes, as a plain journal entry."""
    entries, total = [], Decimal("0.00")
    for line in doc.lines:
        net = round_half_up(Decimal(str(line.quantity)) * Decimal(str(line.unit_price)), 2)
        vat = round_half_up(net * Decimal("0.18"), 2) if line.vat_code == "vat18" else Decimal(0)
        entries.append(LineDraft(REVENUE[line.vat_code], credit=str(net)))
        if vat:
            entries.append(LineDraft("3330", credit=str(vat)))
        total += net + vat
    return ContentInput(doc.date, "Invoice", [LineDraft("1410", debit=str(total)), *entries])


async def timed(client: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict,
                runs: int) -> list[float]:
    for _ in range(3):
        (await client.get(url, headers=headers, params=params)).raise_for_status()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        (await client.get(url, headers=headers, params=params)).raise_for_status()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def bench(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    async with server(args.database_url) as (url, label):
        app_bench = AppBench(url, args.seed, Path("."))
        app_bench.admin = await migrated(url)
        chief = await app_bench.open()
        try:
            container = app_bench.container
            billing: BillingService = container.wiring.services["billing"]
            company = await app_bench.company(chief, "Bench Trade LLC", "204567891")
            plain = await app_bench.company(chief, "Bench Journal LLC", "204567892")
            identity = container.identity
            ctx = await identity.member_context(company, "chief", Permission.DOCUMENTS_WRITE)
            jctx = await identity.member_context(plain, "chief", Permission.TRANSACTIONS_APPROVE)
            customers = [await billing.register_counterparty(ctx, CounterpartyInput(
                f"Customer {i}", f"2{i:08d}")) for i in range(50)]
            month = date(app_bench.today.year, app_bench.today.month, 1)
            docs = invoices(rng, args.invoices, customers, month)
            batches = [docs[i:i + args.batch] for i in range(0, len(docs), args.batch)]
            inv_time = jr_time = 0.0
            for batch in batches:
                start = time.perf_counter()
                await billing.post_many(ctx, DocumentKind.SALES_INVOICE, batch)
                inv_time += time.perf_counter() - start
                rows = [(i, journal(d)) for i, d in enumerate(batch, start=1)]
                start = time.perf_counter()
                result = await container.ledger.post_batch(jctx, rows)
                jr_time += time.perf_counter() - start
                assert result.ok, result.findings
            lines = sum(len(d.lines) for d in docs)
            inv_rate, jr_rate = len(docs) / inv_time, len(docs) / jr_time
            print(f"target: {label}; {len(docs):,} invoices, {lines:,} lines, batches of "
                  f"{args.batch}")
            print(f"invoices posted: {inv_rate:,.0f}/s; the same journals by post_batch: "
                  f"{jr_rate:,.0f}/s; ratio {inv_rate / jr_rate:.2f} (target >= 0.5)")
            app = bootstrap.create_app(container)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                r = await client.post("/api/v1/auth/token", json={
                    "username": "chief", "password": app_bench.password})
                headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
                base = f"/api/v1/companies/{company}"
                period = month.strftime("%Y-%m")
                samples = await timed(client, f"{base}/tax/vat-returns/{period}", headers, {},
                                      args.runs)
                print(f"VAT return of {len(docs):,} invoices: p50 "
                      f"{statistics.median(samples):.1f} ms, p95 "
                      f"{percentile(samples, 95):.1f} ms (target p95 < 200 ms)")
                samples = await timed(client, f"{base}/reports/receivables-aging", headers,
                                      {"as_of": month.replace(day=28).isoformat()}, args.runs)
                print(f"receivables ageing over {len(docs):,} open invoices: p50 "
                      f"{statistics.median(samples):.1f} ms, p95 "
                      f"{percentile(samples, 95):.1f} ms (target p95 < 200 ms)")
        finally:
            await app_bench.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--database-url", default=None)
    asyncio.run(bench(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
