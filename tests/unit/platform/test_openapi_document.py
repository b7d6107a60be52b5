"""The OpenAPI document is valid (issue 11, 5): every ``$ref`` resolves, so code
generators and fuzzers read every operation, the create, amend and batch bodies too
(their nested models pointed to ``#/$defs/...``, which is not in the document)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from saldo import bootstrap
from saldo.platform.settings import load_settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = load_settings(secret_key="k" * 40, redis_url=None)
    app = bootstrap.create_app(bootstrap.build(settings, "postgresql://saldo@127.0.0.1:1/saldo"))
    return app.openapi()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_passes_an_openapi_validator(document: dict[str, Any]) -> None:
    validate(document)  # raises on any schema error or unresolvable reference


def test_every_reference_resolves_inside_the_document(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert refs
    schemas = document["components"]["schemas"]
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert "x-saldo-schemas" not in json.dumps(document)


@pytest.mark.parametrize(("path", "method", "model"), [
    ("/api/v1/companies/{company_id}/transactions", "post", "EntryIn"),
    ("/api/v1/companies/{company_id}/transactions/{transaction_id}", "patch", "EntryIn"),
    ("/api/v1/companies/{company_id}/transactions/batch", "post", "BatchTransactionIn"),
])
def test_the_journal_bodies_name_their_nested_models(document: dict[str, Any], path: str,
                                                     method: str, model: str) -> None:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    assert f"#/components/schemas/{model}" in _refs(body["schema"])
    assert model in document["components"]["schemas"]
