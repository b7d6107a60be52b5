"""Integration events: the documented, versioned shape of what leaves Saldo.

A stored event becomes an **envelope** (docs/events.md; the JSON Schemas in
``saldo/relay/schemas``): a fixed set of fields around the event's own data. The
envelope's shape is versioned by ``specversion`` (``saldo.events/1``); the data's shape by
``dataversion`` (the event's ``schema_version``, after upcasting). A consumer reads the
two versions and ignores fields it does not know; a field is never removed or changes
meaning within one version.

Pure: no I/O. The relay (``service``) reads events and hands their fields here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, NamedTuple
from uuid import UUID

import jsonschema_rs
import orjson

#: The envelope's version. A change that is not backward compatible is ``/2`` and a
#: new schema file; the relay then publishes both for a transition period.
SPEC_VERSION = "saldo.events/1"
#: The prefix of every subject (NATS) and topic (Kafka): ``accounting.<event_type>``.
PREFIX = "accounting"
#: Where poison events go, with their error: ``accounting.dead_letter`` (no event type
#: is written in snake case, so it cannot collide with one).
DEAD_LETTER = f"{PREFIX}.dead_letter"
#: Header carrying the event id: JetStream drops a second message with the same id
#: inside the stream's duplicate window (broker-side deduplication).
MSG_ID_HEADER = "Nats-Msg-Id"

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class PoisonEvent(Exception):
    """An event that can never be published as it is: it goes to the dead letters."""


@dataclass(frozen=True, slots=True)
class Source:
    """The fields of a stored event the envelope is made of."""

    event_id: UUID
    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    company_id: UUID | None
    recorded_at: datetime


#: An event as ``EventStore.read_all_json`` gives it (``StoredEvent``, whose fields these
#: are in order: position, transaction id, event id, stream id, stream type, version,
#: type, schema version, data and metadata as JSON text, company id, time recorded).
StoredRow = tuple[int, int, UUID, str, str, int, str, int, str, str, UUID | None, datetime]


class Message(NamedTuple):
    """One message for a broker: its subject/topic, key, id header and JSON body.

    A named tuple (as immutable): one is built per event, and a frozen dataclass's
    ``__init__`` cost more than twice as much (decision 0068)."""

    event_id: UUID
    subject: str
    key: str
    body: bytes


@cache  # a handful of event types, thousands of events a second
def subject_for(event_type: str) -> str:
    """``accounting.<event_type>``, with characters neither NATS subjects nor Kafka topic
    names allow replaced by ``_`` (dots inside a type would add subject levels)."""
    return f"{PREFIX}.{_UNSAFE.sub('_', event_type)}"


def envelope(event: Source) -> dict[str, Any]:
    """The integration event for ``event`` (a plain JSON value)."""
    meta = event.metadata
    return {
        "specversion": SPEC_VERSION,
        "id": str(event.event_id),
        "type": event.type,
        "dataversion": event.schema_version,
        "source": f"saldo/{event.stream_type}",
        "subject": event.stream_id,
        "sequence": event.version,
        "position": event.position,
        "company_id": str(event.company_id) if event.company_id else None,
        "time": event.recorded_at.isoformat(),
        "actor": meta.get("actor"),
        "correlation_id": meta.get("correlation_id"),
        "causation_id": meta.get("causation_id"),
        "data": event.data,
    }


def message(event: Source) -> Message:
    """The broker message for ``event``; :class:`PoisonEvent` if it breaks its schema."""
    body = envelope(event)
    errors = problems(body)
    if errors:
        raise PoisonEvent("; ".join(errors))
    try:
        payload = orjson.dumps(body)  # compact UTF-8, as the stored JSON
    except orjson.JSONEncodeError as exc:
        raise PoisonEvent(f"not JSON serialisable: {exc}") from exc
    return Message(event.event_id, subject_for(event.type), event.stream_id, payload)


def stored_message(event: StoredRow) -> Message | None:
    """The broker message for ``event`` as :func:`message` makes it, built without
    decoding the data, or ``None`` when it cannot be vouched for here (then
    :func:`message` decides, and names what is wrong).

    Valid by construction (decision 0068): of what the envelope schema checks, the
    server's columns fix the id, company and time, this module the constants, and the
    rest is checked below once per event type and data version (the type's name, the
    version, the data schema) or once per event (the stream id, the version and position,
    the metadata's three strings, data being an object). ``data`` goes into the body as
    the text PostgreSQL sent: the same JSON value, written as PostgreSQL writes ``jsonb``
    (a space after ``:`` and ``,``), numbers exactly as stored. Only an event whose type
    and version have a data schema has its data decoded, to validate it."""
    (position, _, event_id, stream_id, stream_type, version, event_type, schema_version,
     data, metadata, company_id, recorded_at) = event
    kind = _kind(event_type, schema_version)
    if kind is None or not stream_id or version < 1 or position < 1 \
            or not data.startswith("{"):
        return None
    meta = orjson.loads(metadata)
    if type(meta) is not dict:
        return None
    actor = meta.get("actor")
    correlation = meta.get("correlation_id")
    causation = meta.get("causation_id")
    if (actor is not None and type(actor) is not str) \
            or (correlation is not None and type(correlation) is not str) \
            or (causation is not None and type(causation) is not str):
        return None
    validator = kind.data_validator
    if validator is not None and not validator.is_valid(orjson.loads(data)):
        return None
    try:
        body = orjson.dumps({
            "specversion": SPEC_VERSION,
            "id": event_id,  # orjson writes a UUID as str() does
            "type": event_type,
            "dataversion": schema_version,
            "source": f"saldo/{stream_type}",
            "subject": stream_id,
            "sequence": version,
            "position": position,
            "company_id": company_id,
            "time": recorded_at,  # and a datetime as isoformat() does
            "actor": actor,
            "correlation_id": correlation,
            "causation_id": causation,
            "data": orjson.Fragment(data),
        })
    except orjson.JSONEncodeError:
        return None
    return Message(event_id, kind.subject, stream_id, body)


@dataclass(frozen=True, slots=True)
class _Kind:
    """What every envelope of one event type and data version shares."""

    subject: str
    #: The compiled data schema (``None``: none is documented for the type and version).
    data_validator: Any


@cache
def _kind(event_type: str, version: int) -> _Kind | None:
    """``None`` when the type's name or the version breaks the envelope schema."""
    if version < 1 or not _type_pattern().fullmatch(event_type):
        return None
    return _Kind(subject_for(event_type), _validator(data_schema_name(event_type, version)))


@cache
def _type_pattern() -> re.Pattern[str]:
    """The envelope schema's own pattern for ``type`` (one source of truth); ``fullmatch``
    is, if anything, stricter than the schema's ``$``."""
    schema = _schema("envelope.v1.json")
    assert schema is not None, "the envelope schema ships with the package"
    return re.compile(schema["properties"]["type"]["pattern"])


#: A dead letter carries its event's data up to this size (an event refused for its
#: size would be refused again as a dead letter); beyond it, only the size.
DEAD_LETTER_DATA_LIMIT = 64 * 1024


def dead_letter(event: Source, error: str, sink: str) -> bytes:
    """The dead-letter message: the error and the event as far as it could be read."""
    data: object = event.data
    size = len(json.dumps(data, default=str))
    if size > DEAD_LETTER_DATA_LIMIT:
        data = {"omitted": f"{size} bytes of data, more than a dead letter carries"}
    body = {
        "specversion": SPEC_VERSION,
        "kind": "dead_letter",
        "sink": sink,
        "error": error[:4000],
        "event": {
            "id": str(event.event_id),
            "type": event.type,
            "position": event.position,
            "subject": event.stream_id,
            "company_id": str(event.company_id) if event.company_id else None,
            "dataversion": event.schema_version,
        },
        "data": data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


# ---------------------------------------------------------------------- schemas


@cache
def _schema(name: str) -> dict[str, Any] | None:
    path = resources.files("saldo.relay") / "schemas" / name
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(name: str) -> Any:
    """A compiled validator (jsonschema-rs: about a microsecond per envelope, where the
    pure-Python jsonschema took most of the relay's time; bench/relay.py)."""
    schema = _schema(name)
    return None if schema is None else jsonschema_rs.validator_for(schema)


@cache
def data_schema_name(event_type: str, version: int) -> str:
    return f"{_UNSAFE.sub('_', event_type)}.v{version}.json"


def problems(body: dict[str, Any]) -> list[str]:
    """Where ``body`` breaks the envelope schema or its data schema (if one is
    documented for its type and version); empty when it is valid."""
    found: list[str] = []
    envelope_validator = _validator("envelope.v1.json")
    assert envelope_validator is not None, "the envelope schema ships with the package"
    if not envelope_validator.is_valid(body):  # the common case asks only yes or no
        found.extend(f"envelope {_where(e)}: {e.message}"
                     for e in envelope_validator.iter_errors(body))
    data_validator = _validator(data_schema_name(str(body.get("type")),
                                                 int(body.get("dataversion") or 0)))
    if data_validator is not None and not data_validator.is_valid(body.get("data")):
        found.extend(f"data {_where(e)}: {e.message}"
                     for e in data_validator.iter_errors(body.get("data")))
    return found


def _where(error: Any) -> str:
    return "/" + "/".join(str(p) for p in error.instance_path)
