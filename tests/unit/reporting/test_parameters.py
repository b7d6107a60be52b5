"""The request bounds as pure functions: report dates inside 1900-01-01 … 2999-12-31,
the journal-line limits per format, and the renderer's own check of a general ledger
built for another format (the command line builds as JSON, then may export a PDF)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4

import pytest

from saldo.ledger.service import CompanySettings as Company
from saldo.reporting import domain as d
from saldo.reporting.service import ReportingService, render_threads

BANK = {"code": "1210", "name": "Bank accounts in GEL", "name_ka": "ბანკი", "type": "asset",
        "normal_balance": "debit", "classification": "current_asset", "parent_code": None,
        "postable": True, "active": True, "custom": False}


@pytest.mark.parametrize("start_month", range(1, 13))
def test_every_covered_date_has_a_fiscal_year_start(start_month: int) -> None:
    for day in (d.EARLIEST_DATE, date(1900, 3, 1), d.LATEST_DATE):
        d.check_dates(date_to=day)
        assert d.fiscal_year_start(day, start_month) <= day
        d.day_before(d.fiscal_year_start(day, start_month))


@pytest.mark.parametrize("day", [date(1, 3, 1), date(1, 1, 1), date(1899, 12, 31),
                                 date(3000, 1, 1), date(9999, 12, 31)])
def test_dates_outside_the_covered_years_are_refused(day: date) -> None:
    with pytest.raises(d.InvalidDate) as refused:
        d.check_dates(date_from=date(2025, 1, 1), as_of=day, compare_to=None)
    assert refused.value.code == "invalid_date"
    assert refused.value.data == {"field": "as_of", "value": day.isoformat(),
                                  "earliest": "1900-01-01", "latest": "2999-12-31"}
    assert set(d.InvalidDate.exposed) == set(refused.value.data)


def test_the_line_limits() -> None:
    assert d.MAX_LEDGER_LINES == {"json": 100_000, "csv": 100_000, "xlsx": 50_000,
                                  "pdf": 5_000}
    assert set(d.MAX_LEDGER_LINES) == set(d.FORMATS)
    d.check_size(5_000, 5_000, "general ledger", "Narrow the date range.", "pdf")
    with pytest.raises(d.ReportTooLarge) as refused:
        d.check_size(200_000, 5_000, "general ledger", "Narrow the date range.", "pdf")
    error = refused.value
    assert (error.code, error.data) == ("report_too_large",
                                        {"lines": 200_000, "limit": 5_000, "format": "pdf"})
    assert error.detail == ("The general ledger has 200,000 journal lines; as PDF it may have "
                            "at most 5,000. Narrow the date range.")


def _ledger(lines: int) -> d.GeneralLedger:
    account = d.Chart.from_rows([BANK])["1210"]
    rows = [{"date": date(2025, 1, 2), "number": n, "transaction_id": uuid4(),
             "description": "Customer pays", "counter_accounts": ["1410"],
             "debit": Decimal("1.00"), "credit": Decimal("0.00")} for n in range(lines)]
    card = d.account_card(account, Decimal("0.00"), rows)
    return d.GeneralLedger(date(2025, 1, 1), date(2025, 12, 31), "1210", (card,))


def test_export_refuses_a_general_ledger_too_long_for_its_format(
        monkeypatch: pytest.MonkeyPatch) -> None:
    service = ReportingService(cast(Any, None), cast(Any, None), threads=render_threads(),
                               now=lambda: datetime(2026, 1, 5, tzinfo=UTC))
    company = Company(uuid4(), "Tbilisi Trade LLC", "204567891", "GEL", 7)
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "pdf", 3)
    body, media_type, _ = service.export(_ledger(3), company, "pdf", "ka")
    assert (body[:4], media_type) == (b"%PDF", "application/pdf")
    with pytest.raises(d.ReportTooLarge) as refused:
        service.export(_ledger(4), company, "pdf", "en")
    assert refused.value.data["lines"] == 4
    assert "choose a narrower account" in refused.value.detail
    assert service.export(_ledger(4), company, "csv", "en")[1].startswith("text/csv")
