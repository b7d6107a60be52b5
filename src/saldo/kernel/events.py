"""What every context's events share: who acted, and the shape of a typed domain event.

A domain event is a frozen dataclass named in the past tense (``InvoicePosted``) with a
stable ``type`` (its name in the event store) and a ``schema_version``. Its fields are
plain JSON values or Decimals, dates and UUIDs (stored as strings); :meth:`to_data` and
:meth:`from_data` are the only ways in and out of the store, so an event that changes
shape gets a new ``schema_version`` and an upcaster (``saldo.platform.eventstore``) that
lifts the stored older shape before :meth:`from_data` sees it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin
from uuid import UUID


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the system) a change is recorded against."""

    id: UUID
    username: str

    def as_data(self) -> dict[str, str]:
        return {"by": self.username, "by_id": str(self.id)}


#: The actor of changes Saldo makes by itself (opening a fiscal year on first use).
SYSTEM = Actor(UUID(int=0), "saldo")


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _from_json(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(kind) if a is not type(None)]
        return _from_json(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        args = get_args(kind)
        inner = args[0] if args else Any
        return tuple(_from_json(inner, v) for v in value)
    if origin is list:
        return [_from_json(get_args(kind)[0], v) for v in value]
    if kind is Decimal:
        return Decimal(value)
    if kind is UUID:
        return UUID(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _from_json(hints[f.name], value.get(f.name))
                       for f in dataclasses.fields(kind) if f.name in value})
    return value


E = TypeVar("E", bound="DomainEvent")


class DomainEvent:
    """Base of typed, frozen, versioned events. Subclasses set ``type`` (default: the
    class name) and bump ``schema_version`` when their shape changes."""

    type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Not super(): ``slots=True`` dataclasses are rebuilt, and the zero-argument form
        # would name the class before it was.
        object.__init_subclass__(**kwargs)
        if not cls.__dict__.get("type"):
            cls.type = cls.__name__

    def to_data(self) -> dict[str, Any]:
        """The event as JSON values (Decimals, dates and UUIDs as strings)."""
        return {f.name: _to_json(getattr(self, f.name))
                for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The event from its stored data. A field the data lacks takes its default, or
        None (an optional field added later, which older events never carried)."""
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: _from_json(hints[f.name], data.get(f.name))
                      for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                      if f.name in data or f.default is dataclasses.MISSING})


def event_types(*classes: type[E]) -> dict[str, type[E]]:
    """``{type: class}`` for decoding a stream's events with :meth:`DomainEvent.from_data`."""
    return {c.type: c for c in classes}
