"""The tax context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.billing.service import BillingService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring
from saldo.tax import api
from saldo.tax.projections import READ_MODELS, TaxProjection
from saldo.tax.service import TaxService


def build(w: Wiring) -> TaxService:
    return TaxService(w.units, w.service("billing", BillingService))


def connect(w: Wiring) -> None:
    # The registration monitor looks at every posted sales document.
    tax = w.service("tax", TaxService)
    w.service("billing", BillingService).document_posted.append(tax.monitor)


def inline_projections() -> list[InlineProjection]:
    return [TaxProjection()]


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="tax",
    package="saldo.tax",
    build=build,
    connect=connect,
    routers=routers,
    inline_projections=inline_projections,
    permissions=("reports:tax", "documents:read"),
    tables=READ_MODELS,
)
