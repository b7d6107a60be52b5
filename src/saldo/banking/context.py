"""The banking context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.banking import api
from saldo.banking.domain import (
    AlreadyReconciled,
    StatementTooLarge,
)
from saldo.banking.projections import READ_MODELS, BankingProjection
from saldo.banking.service import BankingService
from saldo.ledger.service import LedgerService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring


def build(w: Wiring) -> BankingService:
    return BankingService(w.units, w.service("ledger", LedgerService))


def inline_projections() -> list[InlineProjection]:
    return [BankingProjection()]


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="banking",
    package="saldo.banking",
    build=build,
    routers=routers,
    inline_projections=inline_projections,
    cli="saldo.cli.banking",
    errors={StatementTooLarge: 413, AlreadyReconciled: 409},
    permissions=("bank:read", "bank:write"),
    tables=READ_MODELS,
)
