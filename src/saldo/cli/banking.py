"""``saldo import bank FILE --account …``: a bank statement, its format detected."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import typer

from saldo import bootstrap
from saldo.banking.service import MAX_STATEMENT_BYTES, BankingService, ImportResult
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _upgrade,
    _with_container,
    err,
    import_app,
    out,
)
from saldo.identity.service import Permission
from saldo.kernel.errors import SaldoError


def register(app: typer.Typer) -> None:
    """``import bank`` joins ``import_app`` when this module is imported."""


def _print_findings(findings: list[dict[str, Any]]) -> None:
    for f in sorted(findings, key=lambda f: f["row"]):
        err.print(f"row {f['row']}: {f['code']}: {f['message']}", markup=False,
                  highlight=False, soft_wrap=True)


@import_app.command("bank")
@_expected_failures
def import_bank(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="The statement: camt.053 XML, MT940, or a TBC or Bank "
                                     "of Georgia CSV/XLSX export (the format is detected)."),
    account: str = typer.Option(..., "--account", help="The ledger account of the bank "
                                                       "account (e.g. 1210), or its id."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="The importing member's username; the "
                                                 "role must hold bank:write."),
) -> None:
    """Import a bank statement: lines imported before are skipped and counted; a file
    with a bad line is refused whole, every finding listed with its row."""
    if file.stat().st_size > MAX_STATEMENT_BYTES:
        _fail(f"{file} is larger than {MAX_STATEMENT_BYTES} bytes.", EXIT_FAILURE)
    content = file.read_bytes()
    settings = _settings()
    try:
        account_id: UUID | None = UUID(account)
    except ValueError:
        account_id = None

    async def work(container: bootstrap.Container) -> ImportResult:
        for m in await _upgrade(container):
            out.print(f"applied migration {m.version:04d}_{m.name}")
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user, Permission.BANK_WRITE)
            banking: BankingService = container.services["banking"]
            return await banking.import_statement(
                ctx, content, account_code=None if account_id else account,
                bank_account_id=account_id, filename=file.name)

    try:
        result = _run(_with_container(settings, work))
    except SaldoError as exc:
        findings = exc.data.get("findings")
        if findings:
            _print_findings(findings)
        raise
    for f in result.findings:
        err.print(f"row {f.row}: {f.severity}: {f.code}: {f.message}", markup=False,
                  highlight=False, soft_wrap=True)
    out.print(f"Imported {result.lines_imported} line(s) from {file} ({result.format}); "
              f"skipped {result.duplicates_skipped} imported before; statement {result.id}.",
              highlight=False)
