"""``saldo rs status`` and ``saldo rs retry`` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
from rsge_harness import Rs

from saldo.rsge.settings import load_rs_settings


def _url(conninfo: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(conninfo)
    user, port = info.get("user", "postgres"), info.get("port", 5432)
    return f"postgresql://{user}@/{info['dbname']}?host={info['host']}&port={port}"


def _saldo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_RS_")}
    env.update(SALDO_DATABASE_URL=_url(url), COLUMNS="250")
    return subprocess.run([sys.executable, "-m", "saldo", "rs", *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


async def test_status_lists_the_dead_letter_and_retry_queues_it(rs: Rs) -> None:
    await rs.set_credentials()
    rs.service.settings = load_rs_settings(url=rs.sandbox.url, timeout=2, max_attempts=1)
    doc = rs.billing.invoice(("Sand", "118.00", "18.00"), number="INV-0042")
    await rs.queue(doc)
    rs.sandbox.fault("fault")
    await rs.service.deliver_due()
    url = rs.h.container.db.url
    company = str(rs.company_id)
    done = _saldo(url, "status", "--company", company, "--user", "clerk", "--status", "failed")
    assert done.returncode == 0, done.stderr
    assert "INV-0042" in done.stdout
    assert "failed" in done.stdout
    assert "1 e-invoice(s)" in done.stdout
    done = _saldo(url, "retry", "--company", company, "--user", "clerk", str(doc))
    assert done.returncode == 0, done.stderr
    assert (await rs.state(doc))["status"] == "queued"
    done = _saldo(url, "retry", "--company", company, "--user", "clerk", str(doc))
    assert done.returncode != 0  # only a failed one can be retried
    assert "Only a failed e-invoice" in done.stdout + done.stderr


async def test_production_refuses_to_start_without_the_credentials_key(rs: Rs) -> None:
    url = rs.h.container.db.url
    os.environ["SALDO_ENV"] = "production"
    os.environ["SALDO_SECRET_KEY"] = "p" * 40
    try:
        done = subprocess.run(
            [sys.executable, "-m", "saldo", "db", "status"], text=True, capture_output=True,
            timeout=120, check=False,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("SALDO_RS_")},
                 "SALDO_DATABASE_URL": _url(url)})
    finally:
        del os.environ["SALDO_ENV"], os.environ["SALDO_SECRET_KEY"]
    assert done.returncode == 2, done.stdout + done.stderr
    assert "SALDO_RS_CREDENTIALS_KEY" in done.stderr
    assert "Traceback" not in done.stderr
