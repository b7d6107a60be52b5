"""Integration events' envelopes: the documented shape, subjects, poison detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saldo.platform.eventstore import StoredEvent
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


# ------------------------------------------------- built from the stored JSON (0068)

TBILISI = timezone(timedelta(hours=4))


def stored(event_type: str = "TransactionPosted", data: object = None,
           metadata: object = None, **fields: Any) -> StoredEvent:
    """An event as ``EventStore.read_all_json`` gives it: the JSON as PostgreSQL prints
    ``jsonb`` (a space after ``:`` and ``,``)."""
    event = StoredEvent(
        1842, 77, EVENT_ID, "journal_transaction-1", "journal_transaction", 3, event_type, 1,
        json.dumps(data if data is not None else {
            "by": "clerk", "by_id": "01939c1e-0000-7000-8000-000000000001",
            "fiscal_year": 2026, "number": 17}),
        json.dumps(metadata if metadata is not None else {
            "actor": "clerk", "correlation_id": "c-1"}),
        COMPANY, datetime(2026, 3, 15, 9, 41, 7, 250001, tzinfo=UTC))
    return event._replace(**fields)


def decoded(event: StoredEvent) -> Source:
    return Source(event.event_id, event.position, event.stream_id, event.stream_type,
                  event.version, event.type, event.schema_version, json.loads(event.data),
                  json.loads(event.metadata), event.company_id, event.recorded_at)


@pytest.mark.parametrize("event", [
    stored(),
    stored("LoadTested", {"anything": [1, 2.5, None, {"ნ": "ლარი"}], "n": 10**15}),
    stored("billing.InvoiceIssued", {}, {}, company_id=None,
           recorded_at=datetime(2026, 12, 7, 23, 0, tzinfo=TBILISI)),
    stored("Renamed", {"name": 'quo"te\\ and\nnewline'},
           {"actor": None, "causation_id": "c-0", "other": [1]},
           stream_id="acc/ნ \"odd\"", stream_type="account"),
], ids=["posted", "no-schema", "no-company", "escapes"])
def test_the_stored_path_gives_the_validated_message(event: StoredEvent) -> None:
    fast = domain.stored_message(event)
    reference = domain.message(decoded(event))
    assert fast is not None
    assert (fast.event_id, fast.subject, fast.key) == \
        (reference.event_id, reference.subject, reference.key)
    body = json.loads(fast.body)
    assert body == json.loads(reference.body)
    assert list(body) == list(json.loads(reference.body))  # the documented order, too
    schema = json.loads((SCHEMAS / "envelope.v1.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(body)
    assert body["time"] == event.recorded_at.isoformat()
    assert body["id"] == str(event.event_id)
    # The data as stored: PostgreSQL's text spliced in, not decoded and written again.
    assert fast.body.endswith(b'"data":' + event.data.encode() + b"}")


@pytest.mark.parametrize(("event", "error"), [
    (stored("Odd Type*>", {}), "envelope /type"),
    (stored("Renamed", {}, schema_version=0), "envelope /dataversion"),
    (stored("Renamed", {}, stream_id=""), "envelope /subject"),
    (stored("Renamed", {}, version=0), "envelope /sequence"),
    (stored("Renamed", {}, position=0), "envelope /position"),
    (stored("Renamed", [1, 2]), "envelope /data"),
    (stored("Renamed", "text"), "envelope /data"),
    (stored("Renamed", {}, {"actor": 5}), "envelope /actor"),
    (stored("Renamed", {}, {"correlation_id": ["x"]}), "envelope /correlation_id"),
    (stored("Renamed", {}, {"causation_id": {"a": 1}}), "envelope /causation_id"),
    (stored(data={"number": "seven", "fiscal_year": 2026, "by": "x",
                  "by_id": "01939c1e-0000-7000-8000-000000000001"}), "data /number"),
], ids=["type", "dataversion", "subject", "sequence", "position", "array", "string",
        "actor", "correlation", "causation", "data-schema"])
def test_what_the_stored_path_cannot_vouch_for_is_poison_on_the_validating_path(
    event: StoredEvent, error: str,
) -> None:
    assert domain.stored_message(event) is None
    with pytest.raises(PoisonEvent, match=error):
        domain.message(decoded(event))


_json = st.recursive(st.none() | st.booleans() | st.integers(-(2**53), 2**53)
                     | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(event_type=st.sampled_from(["TransactionPosted", "Renamed", "a.b-c_d", "9lives",
                                   "Odd Type", ""]),
       schema_version=st.integers(-1, 2), version=st.integers(-1, 2),
       position=st.integers(-1, 2), stream_id=st.text(max_size=4),
       data=_json, metadata=_json)
def test_the_stored_path_never_vouches_for_an_invalid_envelope(
    event_type: str, schema_version: int, version: int, position: int, stream_id: str,
    data: object, metadata: object,
) -> None:
    """Whatever the stored path builds, the schemas accept, as the same JSON as the
    validating path's; whatever it declines, the validating path decides."""
    if not isinstance(metadata, dict):
        metadata = {"actor": metadata}
    event = stored(event_type, data, metadata, schema_version=schema_version,
                   version=version, position=position, stream_id=stream_id)
    fast = domain.stored_message(event)
    if fast is None:
        return
    assert domain.problems(json.loads(fast.body)) == []
    assert json.loads(fast.body) == json.loads(domain.message(decoded(event)).body)
