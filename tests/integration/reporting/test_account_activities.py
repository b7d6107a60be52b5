"""Issue 12 item 5/7: every account carries its IAS 7 cash-flow activity (the chart CSV's
``cash_flow`` column), and a company sets type, classification and activity of its own
accounts (POST and PATCH /accounts)."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

from saldo.ledger.charts import chart
from saldo.ledger.domain import CashFlow, standard_cash_flow

pytestmark = pytest.mark.integration


async def accounts(books: Books) -> dict[str, dict[str, Any]]:
    r = await books.h.client.get(books.url("/accounts"), headers=books.clerk)
    assert r.status_code == 200, r.text
    return {a["code"]: a for a in r.json()}


def test_every_account_of_the_chart_file_has_an_activity() -> None:
    accounts = chart("ge-standard")
    assert all(isinstance(a.cash_flow, CashFlow) for a in accounts)
    # The file and the rule for accounts recorded before the column agree.
    assert all(a.cash_flow is standard_cash_flow(a.code) for a in accounts)


async def test_the_standard_activities(h: Harness) -> None:
    chart_ = await accounts(await h.books())
    expected = {
        "1110": "cash", "1210": "cash", "1220": "cash",
        "1310": "investing",          # short-term investments
        "1450": "investing",          # loans granted (to partners)
        "2330": "investing",          # long-term loans granted
        "1460": "financing",          # subscribed capital receivable
        "3440": "operating", "4310": "operating",   # provisions
        "4410": "operating",          # deferred income
        "2340": "operating", "4210": "operating",   # deferred tax
        "3210": "financing", "3420": "financing", "4140": "financing", "5150": "financing",
        "8210": "interest", "3410": "interest", "3310": "profit_tax", "9210": "profit_tax",
        "8130": "investing", "8250": "investing",   # disposal gain / loss
        "8145": "fx_effect", "8245": "fx_effect", "8140": "operating",
        "2150": "investing", "2250": "investing", "1410": "operating", "3110": "operating",
    }
    assert {code: chart_[code]["cash_flow"] for code in expected} == expected
    # Subscribed capital receivable is deducted from equity; no "extraordinary" items.
    assert chart_["1460"]["classification"] == "equity"
    assert "xtraordinary" not in chart_["9000"]["name"]
    assert chart_["3370"]["active"] is False  # social tax, abolished in 2008


async def test_a_company_sets_type_classification_and_activity(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/accounts"), headers=books.chief, json={
        "code": "3195", "name": "Payables for fixed assets", "type": "liability",
        "parent_code": "3100", "classification": "current_liability",
        "cash_flow": "investing"})
    assert r.status_code == 201, r.text
    assert (r.json()["cash_flow"], r.json()["classification"]) == ("investing",
                                                                   "current_liability")
    # A sub-account inherits its parent's activity.
    r = await h.client.post(books.url("/accounts"), headers=books.chief,
                            json={"code": "1220.01", "name": "USD account, TBC"})
    assert r.status_code == 201, r.text
    assert r.json()["cash_flow"] == "cash"
    r = await h.client.patch(books.url("/accounts/3195"), headers=books.chief,
                             json={"cash_flow": "financing",
                                   "classification": "non_current_liability"})
    assert r.status_code == 200, r.text
    got = (await accounts(books))["3195"]
    assert (got["cash_flow"], got["classification"]) == ("financing", "non_current_liability")


async def test_bad_attributes_are_refused(h: Harness) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/accounts"), headers=books.chief, json={
        "code": "3196", "name": "X", "type": "liability", "parent_code": "3100",
        "classification": "revenue"})
    expect_problem(r, 422, "invalid_account")
    r = await h.client.post(books.url("/accounts"), headers=books.chief, json={
        "code": "3197", "name": "X", "parent_code": "3100", "cash_flow": "cash"})
    expect_problem(r, 422, "invalid_account")
    r = await h.client.patch(books.url("/accounts/3110"), headers=books.chief,
                             json={"cash_flow": "sideways"})
    assert r.status_code == 422
    r = await h.client.patch(books.url("/accounts/6110"), headers=books.chief,
                             json={"classification": "current_asset"})
    expect_problem(r, 422, "invalid_account")
    assert (await accounts(books))["6110"]["classification"] == "revenue"
