"""The payroll context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.ledger.service import LedgerService
from saldo.payroll import api
from saldo.payroll.projections import READ_MODELS, PayrollProjection
from saldo.payroll.service import PayrollService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring


def build(w: Wiring) -> PayrollService:
    return PayrollService(w.units, w.service("ledger", LedgerService))


def inline_projections() -> list[InlineProjection]:
    return [PayrollProjection()]


def routers() -> list[APIRouter]:
    return [api.router(), api.rates_router()]


CONTEXT = Context(
    name="payroll",
    package="saldo.payroll",
    build=build,
    routers=routers,
    inline_projections=inline_projections,
    permissions=("payroll:read", "payroll:write", "documents:read", "documents:write"),
    tables=READ_MODELS,
)
