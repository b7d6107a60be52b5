"""The reporting context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.ledger.service import LedgerService
from saldo.platform.registry import Context, Wiring
from saldo.reporting import api
from saldo.reporting.service import ReportingService


def build(w: Wiring) -> ReportingService:
    # Reports read from the replica when one is configured (w.reads), else the primary.
    return ReportingService(w.reads or w.app_db, w.service("ledger", LedgerService),
                            threads=w.render_threads)


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="reporting",
    package="saldo.reporting",
    build=build,
    routers=routers,
    cli="saldo.cli.reporting",
    permissions=("reports:financial", "reports:tax"),
)
