"""One strict reading of the wire on every edge, and complete method answers (issue 11,
6); ``/metrics`` behind its token (7); the docs served without a CDN and ``GET /``
(first hour). Through the real app on a real database."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

from saldo import bootstrap

pytestmark = pytest.mark.integration

MakeHarness = Callable[..., AbstractAsyncContextManager[Harness]]
JSON = {"Content-Type": "application/json"}


def _rent(debit: Any = "1500.00", credit: Any = "1500.00", day: Any = "2026-03-15") -> str:
    return json.dumps({"date": day, "description": "Rent", "entries": [
        {"account_code": "7420", "debit": debit}, {"account_code": "1210", "credit": credit}]})


# ---------------------------------------------------------------------- methods


def _paths(h: Harness) -> dict[str, set[str]]:
    """Each path template of the contexts' routes with the methods they serve together."""
    methods: dict[str, set[str]] = defaultdict(set)
    for route in bootstrap.api_routes(h.app):
        methods[route.path] |= route.methods
    return methods


def _concrete(path: str, books: Books) -> str:
    values = {"company_id": str(books.company_id), "transaction_id":
              "00000000-0000-4000-8000-000000000001", "code": "1210", "username": "clerk",
              "year": "2026", "period": "2026-03", "name": "trial-balance"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


async def test_options_and_405_name_every_method_of_the_path(h: Harness) -> None:
    books = await h.books()
    shared = {p: m for p, m in _paths(h).items() if len(m) > 1}
    assert len(shared) >= 6, shared  # the paths that lost methods before
    for template, methods in shared.items():
        path = _concrete(template, books)
        expected = methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        options = await h.client.options(path, headers=books.chief)
        assert options.status_code == 204, (template, options.text)
        assert set(options.headers["allow"].split(", ")) == expected, template
        unused = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in methods)
        refused = await h.client.request(unused, path, headers=books.chief)
        expect_problem(refused, 405, "method_not_allowed")
        assert set(refused.headers["allow"].split(", ")) == expected, template


async def test_a_method_on_a_literal_path_is_405_not_an_invalid_id(h: Harness) -> None:
    books = await h.books()
    for method in ("PATCH", "DELETE", "GET"):
        r = await h.client.request(method, books.url("/transactions/batch"),
                                   headers={**books.chief, **JSON}, content=b"{}")
        expect_problem(r, 405, "method_not_allowed")
        assert set(r.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    # A malformed id on the parameter route stays a validation error.
    bad = await h.client.get(books.url("/transactions/not-a-uuid"), headers=books.chief)
    expect_problem(bad, 422, "validation_error")


# ---------------------------------------------------------------------- values


@pytest.mark.parametrize("as_of", ["0", "1700000000", "2026-3-1", "2026-03-15T00:00:00",
                                   "20260315", "２０２６-03-15"])
async def test_query_dates_are_only_yyyy_mm_dd(h: Harness, as_of: str) -> None:
    books = await h.books()
    r = await h.client.get(books.url("/accounts/1210/balance"), params={"as_of": as_of},
                           headers=books.clerk)
    expect_problem(r, 422, "validation_error")
    report = await h.client.get(books.url("/reports/trial-balance"),
                                params={"date_to": as_of}, headers=books.chief)
    expect_problem(report, 422, "validation_error")


async def test_body_dates_are_only_yyyy_mm_dd(h: Harness) -> None:
    books = await h.books()
    for day in ("2026-03-15T00:00:00", "2026-03-15T10:30:00Z", 1773532800, "2026-03-15 "):
        r = await h.client.post(books.url("/transactions"), content=_rent(day=day),
                                headers={**books.clerk, **JSON})
        expect_problem(r, 422, "validation_error")
    ok = await h.client.post(books.url("/transactions"), content=_rent(),
                             headers={**books.clerk, **JSON})
    assert ok.status_code == 201, ok.text


async def test_booleans_are_only_booleans(h: Harness) -> None:
    books = await h.books()
    for active in (0, 1, "false", "yes"):
        r = await h.client.patch(books.url("/accounts/1210"), headers={**books.chief, **JSON},
                                 content=json.dumps({"active": active}))
        expect_problem(r, 422, "validation_error")
    company = await h.client.post("/api/v1/companies", headers={**books.chief, **JSON},
                                  content=json.dumps({"name": "Bool LLC", "tax_id": "204567891",
                                                      "vat_payer": 1}))
    expect_problem(company, 422, "validation_error")
    for flag in ("1", "yes", "on", "0", "True"):
        r = await h.client.get(books.url("/accounts"), params={"active": flag},
                               headers=books.clerk)
        expect_problem(r, 422, "validation_error")
    assert (await h.client.get(books.url("/accounts"), params={"active": "false"},
                               headers=books.clerk)).status_code == 200
    account = await h.client.get(books.url("/accounts/1210"), headers=books.clerk)
    assert account.json()["active"] is True  # none of the refused values switched it off


@pytest.mark.parametrize("amount", ["+1500.00", ".5", "1500.", "١٥٠٠", "１５００", " 1500.00",
                                    "1500.00 ", "1_500"])
async def test_amounts_over_http_follow_the_importers_rule(h: Harness, amount: str) -> None:
    books = await h.books()
    r = await h.client.post(books.url("/transactions"), content=_rent(amount, amount),
                            headers={**books.clerk, **JSON})
    expect_problem(r, 422, "invalid_amount")


async def test_a_body_must_be_sent_as_json(h: Harness) -> None:
    books = await h.books()
    before = await books.state()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**books.clerk, **({"Content-Type": content_type} if content_type else {})}
        r = await h.client.post(books.url("/transactions"), content=_rent(), headers=headers)
        expect_problem(r, 415, "unsupported_media_type")
        # A route whose body FastAPI reads (a pydantic model parameter) too.
        r = await h.client.post(books.url("/accounts"), headers=headers,
                                content=json.dumps({"code": "1210.77", "name": "Extra"}))
        expect_problem(r, 415, "unsupported_media_type")
    assert await books.state() == before
    problem_json = await h.client.post(books.url("/transactions"), content=_rent(),
                                       headers={**books.clerk,
                                                "Content-Type": "application/json; charset=utf-8"})
    assert problem_json.status_code == 201, problem_json.text


async def test_duplicate_keys_are_refused(h: Harness) -> None:
    books = await h.books()
    body = ('{"date": "2026-03-15", "description": "Rent", "description": "Other", "entries": ['
            '{"account_code": "7420", "debit": "1500.00"},'
            '{"account_code": "1210", "credit": "1500.00"}]}')
    r = await h.client.post(books.url("/transactions"), content=body,
                            headers={**books.clerk, **JSON})
    problem = expect_problem(r, 400, "malformed_body")
    assert "description" in json.dumps(problem["errors"])
    nested = body.replace('"debit": "1500.00"}', '"debit": "1500.00", "debit": "1.00"}', 1) \
        .replace('"description": "Other", ', "")
    expect_problem(await h.client.post(books.url("/transactions"), content=nested,
                                       headers={**books.clerk, **JSON}), 400, "malformed_body")
    # On FastAPI-read bodies as well (the company's name twice).
    company = await h.client.post(
        "/api/v1/companies", headers={**books.chief, **JSON},
        content='{"name": "A LLC", "name": "B LLC", "tax_id": "204567891", "vat_payer": true}')
    expect_problem(company, 400, "malformed_body")


# ---------------------------------------------------------------------- metrics, docs, home


async def test_metrics_are_off_without_a_token(h: Harness) -> None:
    expect_problem(await h.client.get("/metrics"), 404, "metrics_disabled")


async def test_metrics_need_the_configured_bearer_token(make_harness: MakeHarness) -> None:
    token = "a-metrics-token-of-some-length"
    async with make_harness(metrics_token=token) as h:
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"},
                        {"Authorization": f"Basic {token}"}):
            r = await h.client.get("/metrics", headers=headers)
            expect_problem(r, 401)
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert "saldo_events" not in r.text
        ok = await h.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        assert "saldo_http_requests_total" in ok.text


async def test_docs_load_nothing_from_another_host(h: Harness) -> None:
    for page in ("/docs", "/redoc"):
        r = await h.client.get(page)
        assert r.status_code == 200
        sources = re.findall(r'(?:src|href)=["\']([^"\']+)', r.text)
        assert sources, r.text
        assert all(s.startswith("/") for s in sources), sources
        assert "cdn" not in r.text.lower()
        csp = r.headers["content-security-policy"]
        assert "http" not in csp, csp
        for source in sources:
            asset = await h.client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 1000, source
    assert (await h.client.get("/docs/assets/../../etc/passwd")).status_code == 404
    assert (await h.client.get("/docs/assets/index.html")).status_code == 404


async def test_the_root_is_the_web_application(h: Harness) -> None:
    # The web application (saldo.web, issue 17) answers ``/``: a visitor signs in first.
    r = await h.client.get("/")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
