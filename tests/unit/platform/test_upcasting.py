"""Upcasting: old event shapes are read as the newest one; stored rows are never touched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from saldo.platform.eventstore import EventStore, RecordedEvent, Upcasters


def recorded(type_: str, schema_version: int, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        position=7, transaction_id=700, event_id=UUID(int=7), stream_id="item-1",
        stream_type="Item", version=3, type=type_, schema_version=schema_version, data=data,
        metadata={"actor": "nino"}, company_id=None,
        recorded_at=datetime(2024, 6, 11, 9, 30, tzinfo=UTC),
    )


def price_upcasters() -> Upcasters:
    upcasters = Upcasters()

    @upcasters.register("PriceSet", 1)
    def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"amount": data["price"], "currency": "GEL"}

    @upcasters.register("PriceSet", 2)
    def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {"money": {"amount": data["amount"], "currency": data["currency"]}}

    return upcasters


def test_hooks_chain_from_the_stored_version_to_the_newest() -> None:
    upcasters = price_upcasters()
    old = recorded("PriceSet", 1, {"price": "10.00"})

    new = upcasters.upcast(old)

    assert new.schema_version == 3
    assert new.data == {"money": {"amount": "10.00", "currency": "GEL"}}
    # Everything but the shape is the recorded event's.
    assert (new.position, new.event_id, new.version, new.metadata, new.recorded_at) == (
        old.position, old.event_id, old.version, old.metadata, old.recorded_at)
    # The event as read from the row is untouched.
    assert (old.schema_version, old.data) == (1, {"price": "10.00"})


def test_chain_starts_where_the_event_is() -> None:
    upcasters = price_upcasters()
    middle = upcasters.upcast(recorded("PriceSet", 2, {"amount": "3.50", "currency": "USD"}))
    assert (middle.schema_version, middle.data) == (
        3, {"money": {"amount": "3.50", "currency": "USD"}})


def test_current_events_and_other_types_are_returned_as_they_are() -> None:
    upcasters = price_upcasters()
    newest = recorded("PriceSet", 3, {"money": {"amount": "1", "currency": "GEL"}})
    other = recorded("Renamed", 1, {"price": "not a price event"})
    assert upcasters.upcast(newest) is newest
    assert upcasters.upcast(other) is other
    assert Upcasters().upcast(newest) is newest


def test_registering_one_step_twice_is_refused() -> None:
    upcasters = price_upcasters()
    with pytest.raises(ValueError, match="PriceSet v1"):
        upcasters.register("PriceSet", 1)(lambda data: data)
    # The first registration stays in force.
    assert upcasters.upcast(recorded("PriceSet", 1, {"price": "2"})).data == {
        "money": {"amount": "2", "currency": "GEL"}}
    # The same version of another event type is a different step.
    upcasters.register("Renamed", 1)(lambda data: {**data, "v": 2})
    assert upcasters.upcast(recorded("Renamed", 1, {})).data == {"v": 2}


def test_hooks_registered_after_the_store_is_built_apply() -> None:
    """The store keeps the registry it was given, even one that is still empty."""
    upcasters = Upcasters()
    store = EventStore(upcasters=upcasters)
    upcasters.register("PriceSet", 1)(lambda data: {"amount": data["price"]})
    assert upcasters.has_hooks
    assert store.upcasters is upcasters
