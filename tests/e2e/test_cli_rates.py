"""``saldo rates fetch`` as an operator runs it: the real client, over HTTP, against the
stand-in NBG server (``SALDO_NBG_URL``)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from nbg_standin import nbg_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh_url(scratch_database_url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    return f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"


def _saldo(url: str, nbg: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=url, SALDO_NBG_URL=nbg, SALDO_NBG_TIMEOUT="2",
               COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "saldo", *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_rates_fetch_stores_a_range_and_reports_a_bad_day(fresh_url: str) -> None:
    with nbg_server() as nbg:
        nbg.publish("2026-03-13", ("USD", 1, "2.7123"), ("EUR", 1, "2.9511"))
        nbg.publish("2026-03-16", ("USD", 1, "2.7201"), ("EUR", 1, "2.9490"))
        assert _saldo(fresh_url, nbg.url, "db", "upgrade").returncode == 0
        done = _saldo(fresh_url, nbg.url, "rates", "fetch", "--from", "2026-03-13",
                      "--to", "2026-03-16")
        assert done.returncode == 0, done.stderr
        # Friday and Monday's four rates; Saturday and Sunday answer Friday's again.
        assert "4 day(s) asked: 4 rate(s) stored, 4 unchanged" in done.stdout
        nbg.fail("2026-03-17", "wrong_date")
        bad = _saldo(fresh_url, nbg.url, "rates", "fetch", "--date", "2026-03-17")
        assert bad.returncode == 1
        assert "2026-03-17: nbg_answer_invalid" in bad.stdout
        both = _saldo(fresh_url, nbg.url, "rates", "fetch", "--date", "2026-03-17",
                      "--from", "2026-03-01")
        assert both.returncode == 1
    with psycopg.connect(fresh_url) as conn:
        rows = conn.execute("SELECT currency, valid_from, rate, source FROM fx_rates"
                            " ORDER BY 1, 2").fetchall()
    assert [(c.strip(), v, Decimal(r), s) for c, v, r, s in rows] == [
        ("EUR", date(2026, 3, 13), Decimal("2.9511"), "nbg"),
        ("EUR", date(2026, 3, 16), Decimal("2.9490"), "nbg"),
        ("USD", date(2026, 3, 13), Decimal("2.7123"), "nbg"),
        ("USD", date(2026, 3, 16), Decimal("2.7201"), "nbg")]


def test_fx_revalue_on_the_demo_books(fresh_url: str) -> None:
    nowhere = "http://127.0.0.1:9"
    loaded = _saldo(fresh_url, nowhere, "demo", "--year", "2025", "--password",
                    "demo-cli-password-long")
    assert loaded.returncode == 0, loaded.stderr
    with psycopg.connect(fresh_url) as conn:
        row = conn.execute("SELECT id FROM companies").fetchone()
    assert row is not None
    company = str(row[0])
    # The demo revalued 31 December already: asked again, the same answer, nothing posted.
    # USD 5,000.00 at 2.6950 = 13,475.00, booked at 2.7180 = 13,590.00: −115.00.
    again = _saldo(fresh_url, nowhere, "fx", "revalue", "--as-of", "2025-12-31",
                   "--company", company, "--user", "demo-chief")
    assert again.returncode == 0, again.stderr
    assert "1220" in again.stdout
    assert "13590.00 → 13475.00" in " ".join(again.stdout.split())
    assert "nothing posted" in again.stdout
    # The accountant may not revalue (transactions:approve).
    refused = _saldo(fresh_url, nowhere, "fx", "revalue", "--as-of", "2025-11-30",
                     "--company", company, "--user", "demo-accountant")
    assert refused.returncode == 1
