"""Billing's own counterparty creation (``POST …/counterparties``) checks a Georgian tax id
on rs.ge when the company has a service user (issue 15 item 5, decision 0063): the
stand-in is served over HTTP and the real billing context holds the hook."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import expect_problem
from rsge_harness import BUYER_TIN, Rs

from saldo.rsge.billing import BillingAdapter
from saldo.rsge.sandbox import TAXPAYERS

#: 445566778: a small company the stand-in knows, not a VAT payer; 01024012345: a person.
SMALL_TIN, PERSON_TIN = "445566778", "01024012345"


@pytest.fixture
def real(rs: Rs) -> Rs:
    rs.service.billing = BillingAdapter(rs.h.container.units, rs.h.container.services["billing"])
    return rs


async def _create(rs: Rs, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = await rs.h.client.post(rs.url("/counterparties"), headers=rs.books.clerk, json=body)
    assert r.status_code == status, r.text
    return dict(r.json())


async def _get(rs: Rs, counterparty_id: str) -> dict[str, Any]:
    r = await rs.h.client.get(rs.url(f"/counterparties/{counterparty_id}"),
                              headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _lookups(rs: Rs) -> int:
    return int(rs.sandbox.control("state")["calls"].get("get_name_from_tin", 0))


async def test_creation_takes_name_and_vat_status_from_rs_ge(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    # Typed as the clerk heard it, not a VAT payer: rs.ge's register says otherwise.
    made = await _create(rs, {"name": "Batumi trade", "tax_id": BUYER_TIN})
    assert made["name"] == TAXPAYERS[BUYER_TIN][1]
    assert made["vat_payer"] is True
    assert made["tax_id_check"] == "verified"
    assert made["tax_id_checked_at"] is not None
    assert await _get(rs, made["id"]) == made
    small = await _create(rs, {"name": "Small one", "tax_id": SMALL_TIN, "vat_payer": True})
    assert (small["name"], small["vat_payer"]) == (TAXPAYERS[SMALL_TIN][1], False)
    assert _lookups(rs) == 2
    # The same tax id again: 409 before rs.ge is asked.
    r = await rs.h.client.post(rs.url("/counterparties"), headers=rs.books.clerk,
                               json={"name": "Again", "tax_id": BUYER_TIN})
    expect_problem(r, 409, "duplicate_tax_id")
    assert _lookups(rs) == 2


async def test_without_a_service_user_nothing_is_asked(real: Rs) -> None:
    rs = real
    made = await _create(rs, {"name": "Batumi trade", "tax_id": BUYER_TIN})
    assert (made["name"], made["vat_payer"], made["tax_id_check"]) == ("Batumi trade", False,
                                                                        None)
    await rs.set_credentials()
    foreign = await _create(rs, {"name": "Berlin GmbH", "tax_id": "DE123456789",
                                 "country": "DE"})
    assert foreign["tax_id_check"] is None
    assert _lookups(rs) == 0


async def test_unknown_company_tax_id_is_refused_and_nothing_is_created(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    r = await rs.h.client.post(rs.url("/counterparties"), headers=rs.books.clerk,
                               json={"name": "Typo LLC", "tax_id": "999999998"})
    body = expect_problem(r, 422, "tax_id_unknown")
    assert "999999998" in body["detail"]
    listed = await rs.h.client.get(rs.url("/counterparties"), headers=rs.books.clerk,
                                   params={"search": "999999998"})
    assert listed.json()["items"] == []
    # A person's 11-digit number rs.ge does not list is kept, marked as such.
    person = await _create(rs, {"name": "Nino Beridze", "tax_id": "01999999999"})
    assert person["tax_id_check"] == "not_registered"
    assert person["name"] == "Nino Beridze"
    known = await _create(rs, {"name": "g. beridze", "tax_id": PERSON_TIN})
    assert (known["name"], known["tax_id_check"]) == (TAXPAYERS[PERSON_TIN][1], "verified")


async def test_rs_ge_down_creation_goes_on_pending_then_checked_again(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    rs.sandbox.fault("html", "get_name_from_tin")
    made = await _create(rs, {"name": "Batumi trade", "tax_id": BUYER_TIN})
    assert (made["name"], made["vat_payer"], made["tax_id_check"]) == ("Batumi trade", False,
                                                                        "pending")
    assert made["tax_id_check_detail"]
    # Still down: the worker's sweep leaves it pending.
    assert await rs.service.recheck_pending() == 0
    assert (await _get(rs, made["id"]))["tax_id_check"] == "pending"
    rs.sandbox.clear_faults()
    rs.service._last_recheck = None  # the next sweep is due (poll interval)
    assert await rs.service.recheck_pending() == 1
    after = await _get(rs, made["id"])
    assert (after["name"], after["vat_payer"], after["tax_id_check"]) == (
        TAXPAYERS[BUYER_TIN][1], True, "verified")


async def test_rs_ge_slow_creation_waits_at_most_the_budget(real: Rs) -> None:
    rs = real
    await rs.set_credentials()
    rs.sandbox.fault("slow", "get_name_from_tin", delay=4.0)
    made = await _create(rs, {"name": "Batumi trade", "tax_id": BUYER_TIN})
    assert made["tax_id_check"] == "pending"
    rs.sandbox.clear_faults()
    r = await rs.h.client.post(rs.url(f"/rs/counterparties/{made['id']}/check"),
                               headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified"
    assert r.json()["vat_payer"] is True
    assert (await _get(rs, made["id"]))["name"] == TAXPAYERS[BUYER_TIN][1]


async def test_wrong_password_is_a_failed_check_not_an_unknown_tax_id(real: Rs) -> None:
    rs = real
    await rs.set_credentials(password="not-the-password")
    made = await _create(rs, {"name": "Batumi trade", "tax_id": BUYER_TIN})
    assert made["tax_id_check"] == "failed"
    assert "not-the-password" not in str(made)
    # A check on request says the same, and a counterparty without a Georgian id has
    # nothing to check.
    r = await rs.h.client.post(rs.url(f"/rs/counterparties/{made['id']}/check"),
                               headers=rs.books.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed"
    foreign = await _create(rs, {"name": "Berlin GmbH", "country": "DE"})
    r = await rs.h.client.post(rs.url(f"/rs/counterparties/{foreign['id']}/check"),
                               headers=rs.books.clerk)
    expect_problem(r, 422)
