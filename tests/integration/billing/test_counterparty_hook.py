"""Billing's tax-id hook (``BillingService.counterparty_lookups``, decision 0063) on its own:
what billing does with each answer a look-up gives, over billing's HTTP route, with a
look-up played in the test (rs.ge's own is tested in tests/integration/rsge)."""

from __future__ import annotations

from uuid import UUID

import pytest
from billing_harness import Billing
from ledger_harness import Harness, expect_problem

from saldo.billing.service import BillingService, TaxIdCheck
from saldo.kernel.events import SYSTEM

pytestmark = pytest.mark.integration


class Registry:
    """A look-up answering from a table; a tax id it does not hold is 'unknown'."""

    def __init__(self, answers: dict[str, TaxIdCheck]) -> None:
        self.answers, self.asked = answers, []  # type: ignore[var-annotated]

    async def __call__(self, company_id: UUID, tax_id: str) -> TaxIdCheck | None:
        self.asked.append(tax_id)
        return self.answers.get(tax_id, TaxIdCheck("unknown", "test", detail="not listed"))


async def test_each_answer_of_the_look_up(h: Harness) -> None:
    books = await h.books()
    b = Billing(books)
    billing: BillingService = h.container.services["billing"]
    registry = Registry({
        "205123456": TaxIdCheck("verified", "test", "შპს ბათუმის ვაჭრობა", True, "VAT payer"),
        "206111222": TaxIdCheck("pending", "test", detail="no answer in 5 s"),
        "404987654": TaxIdCheck("failed", "test", detail="service user refused")})
    billing.counterparty_lookups[:] = [registry]

    verified = await b.call("POST", "/counterparties", 201,
                            json={"name": "batumi", "tax_id": "205123456"})
    assert (verified["name"], verified["vat_payer"], verified["tax_id_check"]) == (
        "შპს ბათუმის ვაჭრობა", True, "verified")
    assert verified["tax_id_check_detail"] == "VAT payer"

    r = await b.client.post(books.url("/counterparties"), headers=b.headers,
                            json={"name": "Typo", "tax_id": "205123457"})
    expect_problem(r, 422, "tax_id_unknown")
    person = await b.call("POST", "/counterparties", 201,
                          json={"name": "Nino", "tax_id": "01001001001"})
    assert person["tax_id_check"] == "not_registered"

    pending = await b.call("POST", "/counterparties", 201,
                           json={"name": "Kutaisi", "tax_id": "206111222", "vat_payer": True})
    assert (pending["name"], pending["vat_payer"], pending["tax_id_check"]) == (
        "Kutaisi", True, "pending")
    failed = await b.call("POST", "/counterparties", 201,
                          json={"name": "Supplier", "tax_id": "404987654"})
    assert failed["tax_id_check"] == "failed"

    # Not asked: a foreign tax id, a counterparty without one, a tax id already taken.
    asked = len(registry.asked)
    await b.call("POST", "/counterparties", 201,
                 json={"name": "GmbH", "tax_id": "DE123", "country": "DE"})
    plain = await b.call("POST", "/counterparties", 201, json={"name": "Cash customer"})
    assert plain["tax_id_check"] is None
    r = await b.client.post(books.url("/counterparties"), headers=b.headers,
                            json={"name": "Again", "tax_id": "205123456"})
    expect_problem(r, 409, "duplicate_tax_id")
    assert len(registry.asked) == asked

    # The pending one checked later: the registry's name and VAT status replace the typed.
    await billing.record_tax_id_check(books.company_id, SYSTEM, UUID(pending["id"]),
                                      TaxIdCheck("verified", "test", "შპს ქუთაისის ლოჯისტიკა",
                                                 False, "not a VAT payer"))
    after = await b.call("GET", f"/counterparties/{pending['id']}")
    assert (after["name"], after["vat_payer"], after["tax_id_check"]) == (
        "შპს ქუთაისის ლოჯისტიკა", False, "verified")
    assert after["tax_id_checked_at"] >= pending["tax_id_checked_at"]
    # Without any look-up registered, billing is as before.
    billing.counterparty_lookups.clear()
    alone = await b.call("POST", "/counterparties", 201,
                         json={"name": "Typed", "tax_id": "205123457"})
    assert (alone["name"], alone["tax_id_check"]) == ("Typed", None)
