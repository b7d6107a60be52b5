"""The outbox relay: an asynchronous projection whose read model is a broker.

Each batch (docs/events.md, decision 0055):

1. takes the sink's advisory lock (one active relay per sink; others stand by);
2. reads the next committed events after the sink's checkpoint, in commit order;
3. turns each into its envelope (an event breaking its schema is *poison*) and publishes
   the batch, then waits for the broker's acknowledgements;
4. walks the events in order: acknowledged → passed; poison or refused for good → sent to
   ``accounting.dead_letter`` with its error, recorded, passed; not delivered now → the
   walk stops there;
5. moves the checkpoint to the last event passed, in one transaction with the dead
   letters' rows.

So the checkpoint never passes an event the broker did not take (at least once), a
crash repeats at most one batch (JetStream drops the repeats by ``Nats-Msg-Id``; the
consumer helper drops what gets through), and a poison event never stops the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Gauge, Histogram

from saldo.platform.db import Database
from saldo.platform.eventstore import Checkpoint, EventStore, RecordedEvent
from saldo.platform.metrics import REGISTRY
from saldo.relay import store
from saldo.relay.brokers import Outcome, Publisher, dead_letter_message
from saldo.relay.domain import Message, PoisonEvent, Source, dead_letter, message

log = structlog.get_logger(__name__)

PUBLISHED = Counter("saldo_relay_published_total", "Events the broker acknowledged",
                    ["sink"], registry=REGISTRY)
DEAD_LETTERS = Counter("saldo_relay_dead_letters_total", "Poison events sent to the dead "
                       "letters", ["sink"], registry=REGISTRY)
NOT_DELIVERED = Counter("saldo_relay_not_delivered_total", "Batches stopped short by a "
                        "broker that did not acknowledge", ["sink"], registry=REGISTRY)
BATCH_SECONDS = Histogram("saldo_relay_batch_seconds", "Time to publish one batch and "
                          "save its checkpoint", ["sink"], registry=REGISTRY)
POSITION = Gauge("saldo_relay_position", "The position of the last event published",
                 ["sink"], registry=REGISTRY)


@dataclass(frozen=True, slots=True)
class BatchResult:
    read: int
    published: int
    dead_letters: int
    #: Why the batch stopped short (the broker did not acknowledge), if it did.
    stopped: str | None = None


def source(event: RecordedEvent) -> Source:
    return Source(event.event_id, event.position, event.stream_id, event.stream_type,
                  event.version, event.type, event.schema_version, event.data,
                  event.metadata, event.company_id, event.recorded_at)


class Relay:
    def __init__(self, db: Database, events: EventStore, publisher: Publisher, *,
                 batch_size: int = 500) -> None:
        self.db, self.events, self.publisher = db, events, publisher
        self.batch_size = batch_size
        self.sink = publisher.sink

    async def run_once(self) -> BatchResult:
        started = time.perf_counter()
        async with self.db.transaction() as conn:
            if not await store.try_lock(conn, self.sink):
                return BatchResult(0, 0, 0)
            at = await store.checkpoint(conn, self.sink)
            recorded = await self.events.read_all(conn, at, self.batch_size)
            if not recorded:
                return BatchResult(0, 0, 0)
            passed, published, letters, stopped = await self._publish(
                [source(e) for e in recorded])
            if passed:
                last = recorded[passed - 1]
                await store.record_dead_letters(conn, self.sink, letters)
                await store.advance(conn, self.sink, Checkpoint(last.transaction_id,
                                                                last.position),
                                    published, len(letters))
        if passed:
            PUBLISHED.labels(self.sink).inc(published)
            POSITION.labels(self.sink).set(recorded[passed - 1].position)
        if letters:
            DEAD_LETTERS.labels(self.sink).inc(len(letters))
        if stopped:
            NOT_DELIVERED.labels(self.sink).inc()
            log.warning("relay_not_delivered", sink=self.sink, passed=passed,
                        read=len(recorded), error=stopped)
        BATCH_SECONDS.labels(self.sink).observe(time.perf_counter() - started)
        return BatchResult(len(recorded), published, len(letters), stopped)

    async def _publish(
        self, events: Sequence[Source]
    ) -> tuple[int, int, list[tuple[Source, str]], str | None]:
        """Publish ``events``; return how many in order are passed (acknowledged or dead
        lettered), how many were published, the dead letters, and why it stopped."""
        messages: list[Message | None] = []
        poison: dict[int, str] = {}
        for index, event in enumerate(events):
            try:
                messages.append(message(event))
            except PoisonEvent as exc:
                messages.append(None)
                poison[index] = str(exc)
        sendable = [m for m in messages if m is not None]
        outcomes = iter(await self.publisher.publish(sendable) if sendable else [])
        passed = published = 0
        letters: list[tuple[Source, str]] = []
        for index, (event, sent) in enumerate(zip(events, messages, strict=True)):
            outcome: Outcome = Outcome(False, True, poison[index]) if sent is None \
                else next(outcomes)
            if outcome.ok:
                published += 1
            elif outcome.permanent:
                error = outcome.error or "refused"
                letter = Message(event.event_id, "", event.stream_id,
                                 dead_letter(event, error, self.sink))
                [sent_letter] = await self.publisher.publish([dead_letter_message(letter)])
                if not sent_letter.ok:
                    return passed, published, letters, f"dead letter not delivered: " \
                                                       f"{sent_letter.error}"
                log.error("relay_dead_letter", sink=self.sink, event_id=str(event.event_id),
                          position=event.position, event_type=event.type, error=error)
                letters.append((event, error))
            else:
                return passed, published, letters, outcome.error or "not delivered"
            passed = index + 1
        return passed, published, letters, None

    async def catch_up(self) -> int:
        """Publish until every committed event is passed; stops at a broker failure."""
        total = 0
        while True:
            result = await self.run_once()
            total += result.published + result.dead_letters
            if result.stopped:
                raise RelayStopped(result.stopped)
            if result.read < self.batch_size:
                return total

    async def run_forever(self, poll_interval: float, stop: asyncio.Event) -> None:
        """Poll; after a broker failure back off (doubling up to 30 s) and try again."""
        backoff = poll_interval
        while not stop.is_set():
            try:
                result = await self.run_once()
            except Exception as exc:  # the database or the broker went away: try again
                log.warning("relay_batch_failed", sink=self.sink, error=repr(exc))
                result = BatchResult(0, 0, 0, repr(exc))
            if result.stopped:
                backoff = min(backoff * 2, 30.0)
                wait = backoff
            else:
                backoff = poll_interval
                if result.read >= self.batch_size:
                    continue
                wait = poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)


class RelayStopped(Exception):
    """The broker did not acknowledge; the checkpoint stays before the first such event."""
