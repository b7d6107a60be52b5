"""The outbox relay: an asynchronous projection whose read model is a broker.

A round (docs/events.md, decisions 0055, 0066 and 0068):

1. takes the sink's advisory lock (one active relay per sink; others stand by) in a
   transaction that only reads;
2. reads the next committed events after the sink's checkpoint, in commit order, a batch
   at a time; turns each into its envelope (an event breaking its schema is *poison*) and
   hands the batch to the broker **without waiting** for the acknowledgements: up to
   ``in_flight`` batches are out at once, so the next read and encoding overlap the
   broker's round trips;
3. settles the batches oldest first: awaits the batch's acknowledgements and walks its
   events in order: acknowledged → passed; poison or refused for good → sent to
   ``accounting.dead_letter`` with its error, recorded, passed; not delivered now → the
   round stops there (the batches behind it are abandoned, their events sent again next
   round);
4. after each settled batch moves the checkpoint to the last event passed, in a short
   transaction of its own with the dead letters' rows (never backwards). The save runs
   as a task while the round goes on, each after the one before; the round waits for the
   last before it lets go of the lock.

So the checkpoint only ever passes events the broker acknowledged, in commit order (at
least once); a crash repeats at most the batches in flight (JetStream drops the repeats
by ``Nats-Msg-Id``; the consumer helper drops what gets through), and a poison event
never stops the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Gauge, Histogram

from saldo.platform.db import Database
from saldo.platform.eventstore import Checkpoint, EventStore, RecordedEvent, StoredEvent
from saldo.platform.metrics import REGISTRY
from saldo.relay import store
from saldo.relay.brokers import Outcome, Pending, Publisher, dead_letter_message
from saldo.relay.domain import (
    Message,
    PoisonEvent,
    Source,
    dead_letter,
    message,
    stored_message,
)

log = structlog.get_logger(__name__)

PUBLISHED = Counter("saldo_relay_published_total", "Events the broker acknowledged",
                    ["sink"], registry=REGISTRY)
DEAD_LETTERS = Counter("saldo_relay_dead_letters_total", "Poison events sent to the dead "
                       "letters", ["sink"], registry=REGISTRY)
NOT_DELIVERED = Counter("saldo_relay_not_delivered_total", "Batches stopped short by a "
                        "broker that did not acknowledge", ["sink"], registry=REGISTRY)
BATCH_SECONDS = Histogram("saldo_relay_batch_seconds", "Time from sending one batch to "
                          "saving its checkpoint", ["sink"], registry=REGISTRY)
POSITION = Gauge("saldo_relay_position", "The position of the last event published",
                 ["sink"], registry=REGISTRY)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one round did (:meth:`Relay.run_once`)."""

    read: int
    published: int
    dead_letters: int
    #: Why the round stopped short (the broker did not acknowledge), if it did.
    stopped: str | None = None
    #: The round ended at its batch limit, not at the end of the log: more is waiting.
    more: bool = False


@dataclass(slots=True)
class _InFlight:
    """A batch handed to the broker, its acknowledgements not yet awaited."""

    recorded: Sequence[StoredEvent]
    #: Poison events by index, with their error: the others were sent, in order (the
    #: messages themselves are not kept once the broker has them).
    poison: dict[int, str]
    pending: Pending | None
    sent_at: float


def source(event: RecordedEvent) -> Source:
    return Source(event.event_id, event.position, event.stream_id, event.stream_type,
                  event.version, event.type, event.schema_version, event.data,
                  event.metadata, event.company_id, event.recorded_at)


class Relay:
    """``batch_size`` events per batch; up to ``in_flight`` batches handed to the broker
    before the oldest one's acknowledgements are awaited; a round (``catch_up``,
    ``run_forever``) of up to ``round_batches`` batches holds the sink's lock."""

    def __init__(self, db: Database, events: EventStore, publisher: Publisher, *,
                 batch_size: int = 500, in_flight: int = 4, round_batches: int = 50) -> None:
        self.db, self.events, self.publisher = db, events, publisher
        self.batch_size, self.in_flight = batch_size, max(in_flight, 1)
        self.round_batches = max(round_batches, 1)
        self.sink = publisher.sink

    async def run_once(self, max_batches: int = 1) -> BatchResult:
        """One round of up to ``max_batches`` batches (one, unless told otherwise)."""
        read = published = dead = batches = 0
        stopped: str | None = None
        exhausted = False
        async with self.db.transaction() as conn:
            if not await store.try_lock(conn, self.sink):
                return BatchResult(0, 0, 0)
            at = await store.checkpoint(conn, self.sink)
            flight: deque[_InFlight] = deque()
            #: The newest checkpoint being saved (each waits for the one before).
            saving: asyncio.Task[None] | None = None
            #: The next batch being read (the server runs the query while this process
            #: encodes the batch before it).
            ahead: asyncio.Task[list[StoredEvent]] | None = None
            try:
                while True:
                    while not exhausted and batches < max_batches \
                            and len(flight) < self.in_flight:
                        recorded = await (ahead if ahead is not None else
                                          self.events.read_all_json(conn, at,
                                                                    self.batch_size))
                        ahead = None
                        if not recorded:
                            exhausted = True
                            break
                        batches += 1
                        read += len(recorded)
                        exhausted = len(recorded) < self.batch_size
                        at = Checkpoint(recorded[-1].transaction_id, recorded[-1].position)
                        if not exhausted and batches < max_batches:
                            ahead = asyncio.create_task(
                                self.events.read_all_json(conn, at, self.batch_size))
                        flight.append(await self._send(recorded))
                    if not flight:
                        break
                    batch = flight.popleft()
                    passed, sent, letters, stopped = await self._settle(batch)
                    published += sent
                    dead += len(letters)
                    if saving is not None and saving.done():
                        saving.result()  # a checkpoint that failed ends the round now
                    if passed:
                        saving = asyncio.create_task(
                            self._advance(batch, passed, sent, letters, after=saving))
                    if stopped:
                        break
            finally:
                for left in flight:  # after a stop: sent again next round
                    if left.pending is not None:
                        left.pending.abandon()
                waits = [task for task in (ahead, saving) if task is not None]
                if waits:  # the connection idle again, the checkpoint saved, before the
                    await asyncio.wait(waits)  # lock is let go
                for task in waits:  # seen (a failed save is raised below)
                    if not task.cancelled():
                        task.exception()
            if saving is not None:
                saving.result()
        if stopped:
            NOT_DELIVERED.labels(self.sink).inc()
            log.warning("relay_not_delivered", sink=self.sink, published=published,
                        read=read, error=stopped)
        return BatchResult(read, published, dead, stopped,
                           more=not stopped and not exhausted)

    async def _send(self, recorded: Sequence[StoredEvent]) -> _InFlight:
        """Encode the batch (poison events are set aside) and hand it to the broker.

        An event is built from its stored JSON without decoding it (``stored_message``,
        valid by construction: decision 0068); one of a type an upcaster may change, or
        one that cannot be vouched for that way, is decoded and validated against the
        schemas (``message``), which names what makes it poison."""
        sendable: list[Message] = []
        poison: dict[int, str] = {}
        covers = self.events.upcasters.covers
        for index, event in enumerate(recorded):
            sent = None if covers(event.type) else stored_message(event)
            if sent is None:
                try:
                    sent = message(self._source(event))
                except PoisonEvent as exc:
                    poison[index] = str(exc)
                    continue
            sendable.append(sent)
        sent_at = time.perf_counter()
        pending = await self.publisher.send(sendable) if sendable else None
        return _InFlight(recorded, poison, pending, sent_at)

    def _source(self, event: StoredEvent) -> Source:
        return source(self.events.decode(event))

    async def _advance(self, batch: _InFlight, passed: int, published: int,
                       letters: list[tuple[Source, str]], *,
                       after: asyncio.Task[None] | None = None) -> None:
        """The checkpoint past the batch's first ``passed`` events, with the dead letters,
        in a short transaction of its own (the lock's transaction only reads: a write
        there would hold back the commit-order horizon for the whole round).

        Run as a task, once the checkpoint ``after`` (the previous batch's) is saved: the
        relay reads, sends and settles the next batches while the commit waits for the
        disk (decision 0068). Checkpoints are still saved one at a time, in order, each
        only past acknowledged events; the round waits for the last before it ends."""
        if after is not None:
            await after
        last = batch.recorded[passed - 1]
        async with self.db.transaction() as conn:
            await store.record_dead_letters(conn, self.sink, letters)
            await store.advance(conn, self.sink, Checkpoint(last.transaction_id,
                                                            last.position),
                                published, len(letters))
        PUBLISHED.labels(self.sink).inc(published)
        POSITION.labels(self.sink).set(last.position)
        if letters:
            DEAD_LETTERS.labels(self.sink).inc(len(letters))
        BATCH_SECONDS.labels(self.sink).observe(time.perf_counter() - batch.sent_at)

    async def _settle(
        self, batch: _InFlight
    ) -> tuple[int, int, list[tuple[Source, str]], str | None]:
        """Await the batch's acknowledgements; return how many events in order are passed
        (acknowledged or dead lettered), how many were published, the dead letters, and
        why it stopped."""
        outcomes = iter(await batch.pending.outcomes() if batch.pending is not None else [])
        passed = published = 0
        letters: list[tuple[Source, str]] = []
        poison = batch.poison
        for index in range(len(batch.recorded)):
            outcome: Outcome = Outcome(False, True, poison[index]) if index in poison \
                else next(outcomes)
            if outcome.ok:
                published += 1
            elif outcome.permanent:
                error = outcome.error or "refused"
                event = self._source(batch.recorded[index])
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
            result = await self.run_once(self.round_batches)
            total += result.published + result.dead_letters
            if result.stopped:
                raise RelayStopped(result.stopped)
            if not result.more:
                return total

    async def run_forever(self, poll_interval: float, stop: asyncio.Event) -> None:
        """Poll; after a broker failure back off (doubling up to 30 s) and try again."""
        backoff = poll_interval
        while not stop.is_set():
            try:
                result = await self.run_once(self.round_batches)
            except Exception as exc:  # the database or the broker went away: try again
                log.warning("relay_batch_failed", sink=self.sink, error=repr(exc))
                result = BatchResult(0, 0, 0, repr(exc))
            if result.stopped:
                backoff = min(backoff * 2, 30.0)
                wait = backoff
            else:
                backoff = poll_interval
                if result.more:
                    continue
                wait = poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)


class RelayStopped(Exception):
    """The broker did not acknowledge; the checkpoint stays before the first such event."""
