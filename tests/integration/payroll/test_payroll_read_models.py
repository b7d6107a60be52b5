"""Payroll's read models are a function of its events: rebuilt from the log they equal
the live tables; two runs for one period drafted at once give one run and one 409."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ledger_harness import Harness

from saldo.payroll.projections import READ_MODELS, PayrollProjection

pytestmark = pytest.mark.integration


async def _tables(h: Harness) -> dict[str, list[Any]]:
    found = {}
    async with h.container.db.transaction() as conn:
        for table in READ_MODELS:
            cursor = await conn.execute(f"SELECT * FROM {table}")
            rows = [tuple(sorted((k, str(v)) for k, v in r.items()))
                    for r in await cursor.fetchall()]
            found[table] = sorted(rows)
    return found


async def test_rebuilding_the_read_models_from_the_log_gives_the_same_tables(
        h: Harness) -> None:
    b = await h.books()
    await b.post([("1210", "50000.00", ""), ("6110", "", "50000.00")], day="2026-06-01")
    ids = []
    for i, gross in enumerate(("3000.00", "1234.57")):
        r = await h.client.post(b.url("/employees"), headers=b.clerk, json={
            "personal_number": f"0100101123{i}", "full_name": f"E{i}", "gross_salary": gross,
            "start_date": "2025-01-01"})
        ids.append(r.json()["id"])
    await h.client.post(b.url(f"/employees/{ids[0]}/salaries"), headers=b.clerk,
                        json={"effective_from": "2026-05-10", "gross_salary": "3300"})
    await h.client.patch(b.url(f"/employees/{ids[1]}"), headers=b.clerk,
                         json={"end_date": "2026-05-20", "pension_enrolled": False})
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-05", "payment_date": "2026-06-05"})
    run_id = r.json()["id"]
    await h.client.post(b.url(f"/payroll-runs/{run_id}/post"), headers=b.clerk)
    await h.client.post(b.url(f"/payroll-runs/{run_id}/pay"), headers=b.clerk, json={})
    r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                            json={"period": "2026-06", "payment_date": "2026-07-05"})
    await h.client.delete(b.url(f"/payroll-runs/{r.json()['id']}"), headers=b.clerk)
    await h.client.post(b.url("/dividends"), headers=b.clerk, json={
        "date": "2026-06-30", "amount": "1000", "shareholders": [
            {"name": "A", "kind": "person", "resident": True, "share": "1"}]})
    await h.client.post(b.url("/profit-tax-objects"), headers=b.clerk, json={
        "date": "2026-06-30", "category": "free_supply", "amount": "85",
        "description": "Gift"})
    await h.client.post(b.url("/withholdings"), headers=b.clerk, json={
        "date": "2026-06-30", "code": "royalties", "payee_tax_id": "01001011299",
        "payee_name": "Author", "gross": "100", "expense_account_code": "7490"})
    live = await _tables(h)
    assert all(live[t] for t in READ_MODELS), {t: len(v) for t, v in live.items()}

    projection = PayrollProjection()
    async with h.container.db.transaction() as conn:
        await projection.reset(conn)
        async for batch in h.container.store.replay(conn, 500):
            await projection.apply(conn, batch)
    assert await _tables(h) == live


async def test_two_runs_for_one_period_at_once_make_one_run(h: Harness) -> None:
    b = await h.books()
    await h.client.post(b.url("/employees"), headers=b.clerk, json={
        "personal_number": "01001011234", "full_name": "Nino", "gross_salary": "1000",
        "start_date": "2025-01-01"})

    async def draft() -> int:
        r = await h.client.post(b.url("/payroll-runs"), headers=b.clerk,
                                json={"period": "2026-03", "payment_date": "2026-04-05"})
        return r.status_code

    assert sorted(await asyncio.gather(draft(), draft(), draft())) == [201, 409, 409]
