"""Integration events' envelopes: the documented shape, subjects, poison detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import jsonschema
import pytest

from saldo.relay import domain
from saldo.relay.domain import PoisonEvent, Source

EVENT_ID = UUID("01939c1e-5d7e-7c6a-9f35-2b1a4d0c8e11")
COMPANY = UUID("01939c1e-4a00-7000-8000-5d1e2f3a4b5c")
SCHEMAS = domain.resources.files("saldo.relay") / "schemas"


def source(event_type: str = "TransactionPosted", data: dict | None = None) -> Source:
    return Source(EVENT_ID, 1842, "journal_transaction-1", "journal_transaction", 3,
                  event_type, 1, data if data is not None else {
                      "number": 17, "fiscal_year": 2026, "by": "clerk",
                      "by_id": "01939c1e-0000-7000-8000-000000000001"},
                  {"actor": "clerk", "correlation_id": "c-1"}, COMPANY,
                  datetime(2026, 3, 15, 9, 41, 7, tzinfo=UTC))


def test_message_is_the_documented_envelope() -> None:
    message = domain.message(source())
    assert message.subject == "accounting.TransactionPosted"
    assert message.key == "journal_transaction-1"
    body = json.loads(message.body)
    schema = json.loads((SCHEMAS / "envelope.v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(body)  # the reference validator agrees
    assert body["id"] == str(EVENT_ID)
    assert body["specversion"] == "saldo.events/1"
    assert body["company_id"] == str(COMPANY)
    assert body["time"] == "2026-03-15T09:41:07+00:00"
    assert body["actor"] == "clerk"
    assert body["causation_id"] is None


def test_every_shipped_schema_is_a_valid_schema() -> None:
    names = sorted(p.name for p in SCHEMAS.iterdir() if p.name.endswith(".json"))
    assert names == ["TransactionPosted.v1.json", "dead_letter.v1.json", "envelope.v1.json"]
    for name in names:
        jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text()))


def test_a_type_without_a_schema_passes_with_any_object() -> None:
    assert domain.message(source("LoadTested", {"anything": [1, 2]})).subject == \
        "accounting.LoadTested"


def test_data_breaking_its_schema_is_poison() -> None:
    with pytest.raises(PoisonEvent, match='"number" is a required property'):
        domain.message(source(data={"fiscal_year": 2026, "by": "x",
                                    "by_id": "01939c1e-0000-7000-8000-000000000001"}))
    with pytest.raises(PoisonEvent, match="data /number"):
        domain.message(source(data={"number": "seven", "fiscal_year": 2026, "by": "x",
                                    "by_id": "01939c1e-0000-7000-8000-000000000001"}))


@pytest.mark.parametrize(("event_type", "subject"), [
    ("TransactionPosted", "accounting.TransactionPosted"),
    ("billing.InvoiceIssued", "accounting.billing_InvoiceIssued"),
    ("Odd Type*>", "accounting.Odd_Type__"),
])
def test_subjects_are_safe_for_nats_and_kafka(event_type: str, subject: str) -> None:
    assert domain.subject_for(event_type) == subject


def test_dead_letters_carry_the_error_and_omit_huge_data() -> None:
    letter = json.loads(domain.dead_letter(source("Big", {"blob": "x" * 70_000}), "too big",
                                           "nats"))
    schema = json.loads((SCHEMAS / "dead_letter.v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(letter)
    assert letter["error"] == "too big"
    assert letter["event"]["id"] == str(EVENT_ID)
    assert "omitted" in letter["data"]
