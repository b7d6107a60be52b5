"""The web application as the composition root sees it: pages at ``/``."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.banking.service import BankingService
from saldo.billing.service import BillingService
from saldo.identity.service import IdentityService
from saldo.ledger.service import LedgerService
from saldo.payroll.service import PayrollService
from saldo.platform.registry import Context, Wiring
from saldo.reporting.service import ReportingService
from saldo.tax.service import TaxService
from saldo.web import api, rsge_pages
from saldo.web.service import WebService


def build(w: Wiring) -> WebService:
    # Billing, banking and payroll are optional: their screens answer 404 without them.
    billing, banking = w.services.get("billing"), w.services.get("banking")
    payroll = w.services.get("payroll")
    return WebService(w.service("identity", IdentityService), w.service("ledger", LedgerService),
                      w.service("reporting", ReportingService), w.service("tax", TaxService),
                      key=w.settings.signing_key, secure_cookies=w.settings.is_production,
                      refresh_seconds=w.settings.refresh_token_seconds,
                      billing=billing if isinstance(billing, BillingService) else None,
                      banking=banking if isinstance(banking, BankingService) else None,
                      payroll=payroll if isinstance(payroll, PayrollService) else None)


def routers() -> list[APIRouter]:
    return [api.router(), rsge_pages.router()]


CONTEXT = Context(
    name="web",
    package="saldo.web",
    build=build,
    routers=routers,
)
