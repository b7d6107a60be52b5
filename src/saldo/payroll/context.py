"""The payroll context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.billing.service import BillingService
from saldo.ledger.service import LedgerService
from saldo.payroll import api
from saldo.payroll.projections import READ_MODELS, PayrollProjection
from saldo.payroll.service import PayrollService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring
from saldo.tax.service import TaxService


def build(w: Wiring) -> PayrollService:
    return PayrollService(w.units, w.service("ledger", LedgerService),
                          w.service("billing", BillingService))


def connect(w: Wiring) -> None:
    # The income tax and profit tax returns join the tax context's calendar (issue 14
    # item 8): GET .../tax/calendar lists them beside VAT and property tax.
    tax = w.service("tax", TaxService)
    tax.return_sources.append(w.service("payroll", PayrollService).returns_filed)


def inline_projections() -> list[InlineProjection]:
    return [PayrollProjection()]


def routers() -> list[APIRouter]:
    return [api.router(), api.rates_router()]


CONTEXT = Context(
    name="payroll",
    package="saldo.payroll",
    build=build,
    connect=connect,
    routers=routers,
    inline_projections=inline_projections,
    cli="saldo.cli.payroll",
    permissions=("payroll:read", "payroll:write", "documents:read", "documents:write"),
    tables=READ_MODELS,
)
