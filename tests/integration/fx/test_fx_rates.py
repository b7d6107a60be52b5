"""Official rates over HTTP: ``GET /rates`` and ``PUT /rates/{currency}/{valid_from}``
(``../shared/api/v1.md`` "Currencies"), and the NBG client against a stand-in server."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from ledger_harness import Harness, expect_problem
from nbg_standin import nbg_server

from saldo.fx.nbg import NbgClient
from saldo.fx.queries import RateInEffect, rate_in_effect, rates_in_effect
from saldo.fx.service import FxService

pytestmark = pytest.mark.integration


async def root(h: Harness) -> dict[str, str]:
    await h.user("root", superuser=True)
    return await h.headers("root")


def fx(h: Harness) -> FxService:
    service = h.container.services["fx"]
    assert isinstance(service, FxService)
    return service


async def put(h: Harness, headers: dict[str, str], currency: str, day: str,
              rate: object) -> dict[str, object]:
    r = await h.client.put(f"/api/v1/rates/{currency}/{day}", json={"rate": rate},
                           headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_rate_entered_is_in_effect_until_the_next_one(h: Harness) -> None:
    admin = await root(h)
    # Friday 2026-03-13 and Monday 2026-03-16; the weekend keeps Friday's rate.
    assert await put(h, admin, "USD", "2026-03-13", "2.7123") == {
        "currency": "USD", "date": "2026-03-13", "rate": "2.7123",
        "valid_from": "2026-03-13", "source": "manual"}
    await put(h, admin, "usd", "2026-03-16", 2.7201)  # an exact JSON number, any case
    await h.user("reader")
    reader = await h.headers("reader")
    for day, rate, valid_from in (("2026-03-13", "2.7123", "2026-03-13"),
                                  ("2026-03-14", "2.7123", "2026-03-13"),
                                  ("2026-03-15", "2.7123", "2026-03-13"),
                                  ("2026-03-16", "2.7201", "2026-03-16"),
                                  ("2026-12-31", "2.7201", "2026-03-16")):
        r = await h.client.get("/api/v1/rates", params={"currency": "USD", "date": day},
                               headers=reader)
        assert r.status_code == 200, r.text
        assert r.json() == {"currency": "USD", "date": day, "rate": rate,
                            "valid_from": valid_from, "source": "manual"}
    r = await h.client.get("/api/v1/rates", params={"currency": "USD", "date": "2026-03-12"},
                           headers=reader)
    expect_problem(r, 404, "rate_not_found")
    r = await h.client.get("/api/v1/rates", params={"currency": "EUR", "date": "2026-03-16"},
                           headers=reader)
    expect_problem(r, 404, "rate_not_found")


async def test_a_rate_entered_again_replaces_the_days_rate(h: Harness) -> None:
    admin = await root(h)
    await put(h, admin, "EUR", "2026-03-16", "2.9500")
    await put(h, admin, "EUR", "2026-03-16", "2.9512")
    async with h.container.app_db.transaction() as conn:
        found = await rate_in_effect(conn, "EUR", date(2026, 3, 20))
        assert found == RateInEffect("EUR", Decimal("2.9512"), date(2026, 3, 16), "manual")
        cursor = await conn.execute("SELECT old_rate, new_rate FROM fx_rate_changes"
                                    " ORDER BY id")
        changes = [(r["old_rate"], r["new_rate"]) for r in await cursor.fetchall()]
    assert changes == [(None, Decimal("2.95")), (Decimal("2.95"), Decimal("2.9512"))]


@pytest.mark.parametrize(("currency", "rate", "code"), [
    ("USD", "0", "invalid_rate"),
    ("USD", "-2.7", "invalid_rate"),
    ("USD", "10000.01", "invalid_rate"),           # absurd: more than 10,000 GEL per unit
    ("USD", "2.71234567891", "invalid_rate"),      # eleven decimals
    ("USD", "abc", "invalid_rate"),
    ("XYZ", "2.7", "invalid_currency"),
    ("GEL", "1", "invalid_currency"),
])
async def test_bad_rates_are_refused_and_nothing_is_stored(h: Harness, currency: str,
                                                           rate: object, code: str) -> None:
    admin = await root(h)
    r = await h.client.put(f"/api/v1/rates/{currency}/2026-03-16", json={"rate": rate},
                           headers=admin)
    expect_problem(r, 422, code)
    async with h.container.app_db.transaction() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM fx_rates")
        assert (await cursor.fetchone() or {})["n"] == 0


async def test_only_a_superuser_enters_rates_and_only_users_read_them(h: Harness) -> None:
    await h.user("clerk")
    clerk = await h.headers("clerk")
    r = await h.client.put("/api/v1/rates/USD/2026-03-16", json={"rate": "2.7"}, headers=clerk)
    expect_problem(r, 403)
    r = await h.client.get("/api/v1/rates", params={"currency": "USD", "date": "2026-03-16"})
    expect_problem(r, 401)
    r = await h.client.put("/api/v1/rates/USD/2026-02-30", json={"rate": "2.7"},
                           headers=await root(h))
    expect_problem(r, 422)
    r = await h.client.get("/api/v1/rates", params={"currency": "USD", "date": "16.03.2026"},
                           headers=clerk)
    expect_problem(r, 422)
    r = await h.client.get("/api/v1/rates", params={"currency": "XYZ", "date": "2026-03-16"},
                           headers=clerk)
    expect_problem(r, 422, "invalid_currency")



# ---------------------------------------------------------------------- the NBG client


async def test_fetch_stores_nbgs_rates_per_unit_keyed_by_valid_from(h: Harness) -> None:
    with nbg_server() as nbg:
        nbg.publish("2026-03-13", ("USD", 1, "2.7123"), ("EUR", 1, "2.9511"),
                    ("JPY", 100, "1.8342"), ("IRR", 10000, "0.6457"), ("XDR", 1, "3.6001"))
        nbg.publish("2026-03-16", ("USD", 1, "2.7201"), ("EUR", 1, "2.9490"),
                    ("JPY", 100, "1.8350"), ("IRR", 10000, "0.6460"))
        service = fx(h)
        service.client = NbgClient(nbg.url, timeout=2)
        service.today = lambda: date(2026, 3, 16)
        # Friday to Monday; Saturday and Sunday answer Friday's rates (valid from Friday).
        outcome = await service.fetch(date(2026, 3, 13), date(2026, 3, 17))
        assert outcome.days == [date(2026, 3, 13), date(2026, 3, 14), date(2026, 3, 15),
                                date(2026, 3, 16)]  # never the future
        assert outcome.failures == []
        assert (outcome.stored, outcome.unchanged) == (8, 8)  # 4 + 4 new, weekend twice again
        assert len(nbg.requests) == 4
        assert all("date=2026-03-1" in path for path in nbg.requests)
    async with h.container.app_db.transaction() as conn:
        sat = await rates_in_effect(conn, ["USD", "JPY", "IRR", "EUR", "XDR", "CHF"],
                                    date(2026, 3, 14))
        mon = await rates_in_effect(conn, ["USD", "JPY", "IRR"], date(2026, 3, 16))
    # JPY: 1.8342 per 100 = 0.018342 per yen; IRR: 0.6457 per 10,000 = 0.00006457.
    assert {c: (r.rate, r.valid_from) for c, r in sat.items()} == {
        "USD": (Decimal("2.7123"), date(2026, 3, 13)),
        "EUR": (Decimal("2.9511"), date(2026, 3, 13)),
        "JPY": (Decimal("0.018342"), date(2026, 3, 13)),
        "IRR": (Decimal("0.00006457"), date(2026, 3, 13))}  # XDR is no ISO currency: skipped
    assert {c: r.rate for c, r in mon.items()} == {
        "USD": Decimal("2.7201"), "JPY": Decimal("0.01835"), "IRR": Decimal("0.0000646")}
    assert all(r.source == "nbg" for r in mon.values())


@pytest.mark.parametrize(("mode", "code"), [
    ("http500", "nbg_unavailable"),
    ("hang", "nbg_unavailable"),          # no answer within the timeout
    ("not_json", "nbg_answer_invalid"),
    ("empty", "nbg_answer_invalid"),
    ("no_currencies", "nbg_answer_invalid"),
    ("wrong_date", "nbg_answer_invalid"),
    ("future_valid_from", "nbg_answer_invalid"),
    ("bad_rate", "nbg_answer_invalid"),   # one bad row: nothing of the day is stored
])
async def test_a_day_nbg_cannot_serve_is_a_finding_and_stores_nothing(
        h: Harness, mode: str, code: str) -> None:
    with nbg_server() as nbg:
        nbg.publish("2026-03-13", ("USD", 1, "2.7123"))
        nbg.publish("2026-03-16", ("USD", 1, "2.7201"), ("EUR", 1, "2.9490"))
        nbg.fail("2026-03-16", mode)
        service = fx(h)
        service.client = NbgClient(nbg.url, timeout=1)
        service.today = lambda: date(2026, 3, 16)
        outcome = await service.fetch(date(2026, 3, 13), date(2026, 3, 16))
    assert [(day, c) for day, c, _ in outcome.failures] == [(date(2026, 3, 16), code)]
    assert outcome.failures[0][2]  # a sentence that says what was wrong
    async with h.container.app_db.transaction() as conn:
        cursor = await conn.execute("SELECT currency, valid_from FROM fx_rates ORDER BY 1, 2")
        stored = [(r["currency"].strip(), r["valid_from"]) for r in await cursor.fetchall()]
    assert stored == [("USD", date(2026, 3, 13))]  # Friday's only


async def test_an_unreachable_nbg_is_a_finding(h: Harness) -> None:
    service = fx(h)
    service.client = NbgClient("http://127.0.0.1:9", timeout=1)  # nothing listens on 9
    service.today = lambda: date(2026, 3, 16)
    outcome = await service.fetch(date(2026, 3, 16))
    assert [c for _, c, _ in outcome.failures] == ["nbg_unavailable"]


async def test_the_daily_schedule_catches_up_and_keeps_going(h: Harness) -> None:
    with nbg_server() as nbg:
        nbg.publish("2026-03-13", ("USD", 1, "2.7123"))
        nbg.publish("2026-03-16", ("USD", 1, "2.7201"))
        nbg.fail("2026-03-12", "http500")
        service = fx(h)
        service.client = NbgClient(nbg.url, timeout=2)
        service.today = lambda: date(2026, 3, 16)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run_schedule(stop, retry_seconds=0.2, days=7))
        # First run: the week up to today, 10..16 March; the 12th fails (HTTP 500), so the
        # schedule tries again after retry_seconds, from the day after the last rate stored.
        for _ in range(100):
            if len(nbg.requests) >= 8:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    days = [path.split("date=")[1][:10] for path in nbg.requests]
    assert days[:7] == [f"2026-03-{d}" for d in range(10, 17)]
    assert days[7] == "2026-03-16"  # catching up starts after the latest rate (the 16th)
    async with h.container.app_db.transaction() as conn:
        found = await rate_in_effect(conn, "USD", date(2026, 3, 16))
    assert found is not None
    assert found.rate == Decimal("2.7201")
