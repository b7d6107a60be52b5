"""``saldo import journal`` and ``saldo fiscal-year``: the ledger's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import typer

from saldo import bootstrap
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _expected_failures,
    _fail,
    _progress,
    _run,
    _settings,
    _upgrade,
    _with_container,
    err,
    import_app,
    out,
)
from saldo.identity.service import Permission
from saldo.ledger import imports
from saldo.ledger.service import Finding, ImportOutcome

fiscal_year_app = typer.Typer(no_args_is_help=True, help="Year-end close and reopening.")


def register(app: typer.Typer) -> None:
    app.add_typer(fiscal_year_app, name="fiscal-year")


def _print_findings(findings: list[Finding]) -> None:
    for f in sorted(findings, key=lambda f: f.row):
        err.print(f"row {f.row}: {f.code}: {f.message}", markup=False, highlight=False,
                  soft_wrap=True)


def _numbers(posted: list[tuple[UUID, int, int]]) -> str:
    years: dict[int, list[int]] = {}
    for _, year, number in posted:
        years.setdefault(year, []).append(number)
    return ", ".join(f"{y}: {min(n)}" + (f"–{max(n)}" if max(n) > min(n) else "")
                     for y, n in sorted(years.items()))


@import_app.command("journal")
@_expected_failures
def import_journal(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="The journal CSV: one row per line (README, "
                                     "'Importing a journal')."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="The importing member's username; the "
                                                 "role must hold transactions:approve."),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, max=5000,
                                   help="Transactions per database transaction (each batch "
                                        "is posted all or nothing)."),
) -> None:
    """Post a journal from CSV, checked first and posted in all-or-nothing batches.

    Any finding in the file stops the import before anything is written. A finding only
    the books can reveal (an unknown account, a closed period) stops it at that batch;
    the batches before it stay posted, and the output names their rows.
    """
    transactions, findings = imports.read_journal(str(file))
    if findings:
        _print_findings(findings)
        _fail(f"{len(findings)} finding(s) in {file}; nothing was imported.", EXIT_FAILURE)
    settings = _settings()

    async def post(container: bootstrap.Container) -> ImportOutcome:
        ctx = await container.identity.member_context(company, user,
                                                      Permission.TRANSACTIONS_APPROVE)
        with _progress() as bar:
            task = bar.add_task("transactions posted", total=len(transactions))
            return await container.ledger.import_journal(
                ctx, transactions, batch_size, lambda n: bar.advance(task, n))

    async def work(container: bootstrap.Container) -> ImportOutcome:
        for m in await _upgrade(container):
            out.print(f"applied migration {m.version:04d}_{m.name}")
        async with _app_pool(container):
            return await post(container)

    outcome = _run(_with_container(settings, work))
    if not outcome.findings:
        skipped = (f"; skipped {outcome.skipped} imported before" if outcome.skipped
                   else "")
        numbers = f"; numbers {_numbers(outcome.posted)}" if outcome.posted else ""
        out.print(f"Imported {len(outcome.posted)} transactions from {file} in "
                  f"{outcome.batches} batch(es){numbers}{skipped}.", highlight=False)
        return
    _print_findings(outcome.findings)
    if not outcome.posted:
        _fail(f"{len(outcome.findings)} finding(s); nothing was imported.", EXIT_FAILURE)
    assert outcome.failed_row is not None
    _fail(f"{len(outcome.findings)} finding(s) in the batch starting at row "
          f"{outcome.failed_row}. {len(outcome.posted)} transaction(s) in {outcome.batches} "
          f"earlier batch(es) were committed and stay posted (numbers "
          f"{_numbers(outcome.posted)}): rows {transactions[0][0]}–{outcome.failed_row - 1}. "
          f"Rows from {outcome.failed_row} on were not imported; fix them and import the "
          "file again: the transactions posted before are skipped (the file's transaction "
          "values are idempotency keys).", EXIT_FAILURE)


def _change_year(year: int, company: UUID, user: str, action: str) -> dict[str, Any]:
    settings = _settings()

    async def work(container: bootstrap.Container) -> dict[str, Any]:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.PERIODS_CLOSE)
            if action == "close":
                return await container.ledger.close_fiscal_year(ctx, year)
            return await container.ledger.reopen_fiscal_year(ctx, year)

    return _run(_with_container(settings, work))


_YEAR = typer.Argument(..., min=1900, max=2999, help="The fiscal year, e.g. 2025.")
_COMPANY = typer.Option(..., "--company", help="The company's id.")
_CLOSER = typer.Option(..., "--user", help="A member whose role holds periods:close.")


@fiscal_year_app.command("close")
@_expected_failures
def fiscal_year_close(year: int = _YEAR, company: UUID = _COMPANY, user: str = _CLOSER) -> None:
    """Year-end close: move the year's profit or loss to retained earnings (5310, or 5320
    for a loss) and close every period of the year (POST .../fiscal-years/YEAR/close)."""
    result = _change_year(year, company, user, "close")
    closing = result["closing_transaction"]
    out.print(f"fiscal year {year} closed"
              + (f"; closing transaction {closing}" if closing else "; nothing to close out"),
              highlight=False)


@fiscal_year_app.command("reopen")
@_expected_failures
def fiscal_year_reopen(year: int = _YEAR, company: UUID = _COMPANY, user: str = _CLOSER) -> None:
    """Reopen a closed fiscal year: its closing transaction is reversed and the periods the
    close closed reopen (refused once a period of the year is locked)."""
    _change_year(year, company, user, "reopen")
    out.print(f"fiscal year {year} reopened", highlight=False)
