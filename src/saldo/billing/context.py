"""The billing context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.billing import api
from saldo.billing import domain as d
from saldo.billing.projections import READ_MODELS, BillingProjection
from saldo.billing.service import BillingService, PeriodNotOpen, RateNotFound
from saldo.ledger.service import LedgerService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring


def build(w: Wiring) -> BillingService:
    return BillingService(w.units, w.service("ledger", LedgerService))


def inline_projections() -> list[InlineProjection]:
    return [BillingProjection()]


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="billing",
    package="saldo.billing",
    build=build,
    routers=routers,
    inline_projections=inline_projections,
    permissions=("documents:read", "documents:write", "documents:approve"),
    errors={d.InvalidTaxId: 422, d.InvalidIban: 422, d.DuplicateTaxId: 409,
            d.DuplicateSupplierReference: 409, d.OverAllocation: 422,
            PeriodNotOpen: 422, RateNotFound: 422},
    tables=READ_MODELS,
)
