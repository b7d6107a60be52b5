"""The banking context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.banking import api
from saldo.banking.domain import (
    AlreadyReconciled,
    StatementTooLarge,
)
from saldo.banking.projections import READ_MODELS, BankingProjection
from saldo.banking.service import (
    BankingService,
    BillingPayments,
    billing_open_items,
    payroll_open_items,
)
from saldo.billing.service import BillingService
from saldo.ledger.service import LedgerService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring


def build(w: Wiring) -> BankingService:
    return BankingService(w.units, w.service("ledger", LedgerService))


def connect(w: Wiring) -> None:
    # Bank lines settle billing's documents (suggestions, and reconciling by a payment
    # through billing's own payment flow) and payroll runs (suggestions; reconciled to
    # the salaries payable). Looked up by name: banking works without them.
    banking = w.service("banking", BankingService)
    billing = w.services.get("billing")
    if isinstance(billing, BillingService):
        banking.open_item_sources.append(billing_open_items(billing))
        banking.payments = BillingPayments(billing)
    if "payroll" in w.services:
        banking.open_item_sources.append(payroll_open_items)


def inline_projections() -> list[InlineProjection]:
    return [BankingProjection()]


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="banking",
    package="saldo.banking",
    build=build,
    connect=connect,
    routers=routers,
    inline_projections=inline_projections,
    cli="saldo.cli.banking",
    errors={StatementTooLarge: 413, AlreadyReconciled: 409},
    permissions=("bank:read", "bank:write"),
    tables=READ_MODELS,
)
