"""OpenAPI-driven fuzzing of payroll's endpoints with an employee on the books, so that
generated cases reach the payroll handlers past "no such employee" (the identity fuzz
test covers every operation on an empty company): no 5xx, every response as documented."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from fuzz_harness import Server, fuzz, live_server

from saldo.platform.db import Database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PAYROLL_PATHS = ("^/api/v1/(payroll-rates|companies/[^/]+/(employees|payroll|dividends|"
                 "profit-tax-objects|withholdings|tax/(income-tax|profit-tax|pension)))")


@pytest.fixture
def server(db: Database) -> Iterator[Server]:
    with live_server(db) as running:
        requests.post(f"{running.base_url}/api/v1/companies/{running.company_id}/employees",
                      headers=running.headers, timeout=10,
                      json={"personal_number": "01001011234", "full_name": "Nino Beridze",
                            "gross_salary": "1000", "start_date": "2025-01-01"},
                      ).raise_for_status()
        yield running


def test_payroll_endpoints_survive_fuzzing(server: Server) -> None:
    seen = fuzz(server, PAYROLL_PATHS, min_operations=20)
    assert sum(n for status, n in seen.items() if status < 300) > 5, seen
    assert {404, 422} <= set(seen), seen
