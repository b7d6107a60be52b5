"""The two brokers behind one small interface: send a batch (:meth:`Publisher.send`
returns at once with a :class:`Pending`), later learn per message whether the broker
acknowledged it, refused it for good, or could not be reached. Sending the next batch
before the previous one's acknowledgements are in is what lets the relay overlap its
reads with the broker's round trips (decision 0065).

* **NATS JetStream** (nats-py): subject ``accounting.<type>``, header ``Nats-Msg-Id`` =
  the event id, so the stream drops a message it stored already inside its duplicate
  window. A JetStream publish is a core NATS publish with a reply subject, to which the
  stream answers its acknowledgement (``{"stream":…,"seq":…}`` or ``{"error":…}``); the
  publisher sends each message with a reply subject of its own under one inbox and
  reads every acknowledgement through one wildcard subscription. nats-py's
  ``publish_async`` does the same with a task hop, a semaphore and a parsed ``PubAck``
  per message, and took 2.2 times as long per message here (decision 0065).
* **Kafka** (confluent-kafka): the idempotent producer (``enable.idempotence``, which
  implies ``acks=all``), topic ``accounting.<type>``, key the stream id (one partition per
  stream keeps a stream's events in order). Delivery reports say what was acknowledged;
  a thread of the publisher's own serves them (``poll``) and resolves each message's
  future on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import structlog

from saldo.relay.domain import DEAD_LETTER, MSG_ID_HEADER, PREFIX, Message

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: acknowledged, refused for good (``permanent``: the
    event goes to the dead letters), or not delivered now (retried later)."""

    ok: bool
    permanent: bool = False
    error: str | None = None


ACKED = Outcome(True)
NOT_SENT = Outcome(False, False, "not sent")


class Pending:
    """A batch handed to a broker: per message either its outcome already (refused at
    once, not sent) or a future the broker's acknowledgement resolves. :meth:`outcomes`
    waits for them until ``deadline`` (``time.monotonic()``); what has not answered by
    then is *not delivered* (retried later), never counted as acknowledged."""

    def __init__(self, items: Sequence[Outcome | asyncio.Future[Any]],
                 read: Callable[[asyncio.Future[Any]], Outcome], deadline: float) -> None:
        self.items, self.read, self.deadline = list(items), read, deadline

    def __len__(self) -> int:
        return len(self.items)

    async def outcomes(self) -> list[Outcome]:
        futures = [i for i in self.items if isinstance(i, asyncio.Future)]
        if futures:
            await asyncio.wait(futures, timeout=max(self.deadline - time.monotonic(), 0))
        outcomes = [i if isinstance(i, Outcome) else self.read(i) for i in self.items]
        self.abandon()  # what did not answer in time: no longer waited for (nor counted)
        return outcomes

    def abandon(self) -> None:
        """Stop waiting (the relay stopped before this batch): an acknowledgement that
        still comes changes nothing; the events are published again later."""
        for item in self.items:
            if isinstance(item, asyncio.Future) and not item.done():
                item.cancel()


class Publisher(Protocol):
    sink: str

    async def start(self) -> None: ...

    async def send(self, messages: Sequence[Message]) -> Pending:
        """Hand ``messages`` to the broker in order; return without waiting for the
        acknowledgements."""

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        """One outcome per message, in order: :meth:`send`, then wait."""

    async def close(self) -> None: ...


def dead_letter_message(message: Message) -> Message:
    return Message(message.event_id, DEAD_LETTER, message.key, message.body)


# ---------------------------------------------------------------------- NATS


class NatsPublisher:
    sink = "nats"

    def __init__(self, url: str, *, stream: str = "ACCOUNTING", duplicate_window: float = 120,
                 ack_timeout: float = 10.0) -> None:
        self.url, self.stream, self.duplicate_window = url, stream, duplicate_window
        self.ack_timeout = ack_timeout
        self._nc: Any = None
        self._js: Any = None
        self._inbox = ""
        self._sent = 0
        #: Reply subject → the future its acknowledgement resolves.
        self._waiting: dict[str, asyncio.Future[Any]] = {}

    async def start(self) -> None:
        import nats
        from nats.js.errors import NotFoundError

        self._nc = await nats.connect(
            servers=[u.strip() for u in self.url.split(",") if u.strip()],
            connect_timeout=5, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            allow_reconnect=True, name="saldo-relay")
        self._js = self._nc.jetstream(timeout=self.ack_timeout)
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await ensure_stream(self._js, self.stream, self.duplicate_window)
        self._inbox = self._nc.new_inbox()
        # One subscription for every acknowledgement (resubscribed by nats-py after a
        # reconnect); limits far above what the relay keeps in flight.
        await self._nc.subscribe(f"{self._inbox}.*", cb=self._on_ack,
                                 pending_msgs_limit=1_000_000,
                                 pending_bytes_limit=256 * 1024 * 1024)

    async def _on_ack(self, msg: Any) -> None:
        future = self._waiting.pop(msg.subject, None)
        if future is not None and not future.done():
            future.set_result(msg)

    async def send(self, messages: Sequence[Message]) -> Pending:
        from nats.errors import MaxPayloadError

        loop = asyncio.get_running_loop()
        items: list[Outcome | asyncio.Future[Any]] = []
        for message in messages:
            self._sent += 1
            reply = f"{self._inbox}.{self._sent}"
            future: asyncio.Future[Any] = loop.create_future()
            self._waiting[reply] = future
            try:
                await self._nc.publish(message.subject, message.body, reply=reply,
                                       headers={MSG_ID_HEADER: str(message.event_id)})
            except MaxPayloadError as exc:
                del self._waiting[reply]
                items.append(Outcome(False, True, f"larger than the server's "
                                                  f"max_payload: {exc}"))
                continue
            except Exception as exc:  # connection closed, stalled: not now
                del self._waiting[reply]
                items.append(Outcome(False, False, repr(exc)))
                break
            items.append(future)
        items += [NOT_SENT] * (len(messages) - len(items))
        if len(self._waiting) > 10 * max(len(messages), 1000):  # abandoned long ago
            self._waiting = {k: f for k, f in self._waiting.items() if not f.done()}
        return Pending(items, _nats_outcome, time.monotonic() + self.ack_timeout)

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        return await (await self.send(messages)).outcomes()

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
        self._waiting.clear()


async def ensure_stream(js: Any, stream: str, duplicate_window: float) -> None:
    """The stream that keeps ``accounting.>`` (events and dead letters), created once."""
    from nats.js.api import StreamConfig
    from nats.js.errors import BadRequestError

    config = StreamConfig(name=stream, subjects=[f"{PREFIX}.>"],
                          duplicate_window=duplicate_window)
    # Two relays starting together: the second finds the stream made.
    with contextlib.suppress(BadRequestError):
        await js.add_stream(config)


def _nats_outcome(future: asyncio.Future[Any]) -> Outcome:
    """What JetStream answered on the message's reply subject: a ``PubAck`` (stored, or
    a duplicate it had stored already), an API error, or "no responders" (no stream
    captures the subject, as while a stream is being made again: not now)."""
    if future.cancelled() or not future.done():
        return Outcome(False, False, "no acknowledgement in time")
    msg = future.result()
    status = (msg.headers or {}).get("Status")
    if status is not None and not msg.data:
        return Outcome(False, False, f"no stream answered (status {status})")
    try:
        answer = orjson.loads(msg.data)
    except orjson.JSONDecodeError:
        return Outcome(False, False, f"not an acknowledgement: {msg.data[:200]!r}")
    error = answer.get("error") if isinstance(answer, dict) else None
    if error is None and isinstance(answer, dict) and "seq" in answer:
        return ACKED
    if error is None:
        return Outcome(False, False, f"not an acknowledgement: {msg.data[:200]!r}")
    code = error.get("code")
    if isinstance(code, int) and 400 <= code < 500 and code not in (408, 429):
        return Outcome(False, True, f"refused by JetStream: {error}")
    return Outcome(False, False, f"JetStream error: {error}")


# ---------------------------------------------------------------------- Kafka

#: Errors a message cannot outgrow: retrying sends the same refusal.
_PERMANENT_KAFKA = {"MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE", "INVALID_MSG",
                    "INVALID_MSG_SIZE", "INVALID_RECORD", "CORRUPT_MESSAGE",
                    "_INVALID_ARG", "TOPIC_EXCEPTION", "INVALID_TOPIC_EXCEPTION",
                    "RECORD_LIST_TOO_LARGE"}


class KafkaPublisher:
    sink = "kafka"

    def __init__(self, bootstrap_servers: str, *, message_timeout_ms: int = 30_000,
                 ack_timeout: float = 10.0, extra: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,  # implies acks=all, retries, in-order delivery
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": message_timeout_ms,
            "client.id": "saldo-relay",
            **(extra or {}),
        }
        self.ack_timeout = max(ack_timeout, message_timeout_ms / 1000 + 1)
        self._producer: Any = None
        self._polling: threading.Event | None = None
        self._poller: threading.Thread | None = None
        self._fatal = False

    async def start(self) -> None:
        from confluent_kafka import Producer

        self._producer = Producer(self.config)
        self._fatal = False
        # Delivery reports are served by poll(); a thread of our own keeps polling, so
        # acknowledgements arrive while the relay reads and encodes the next batch.
        self._polling = running = threading.Event()
        running.set()
        producer = self._producer

        def poll() -> None:
            while running.is_set():
                producer.poll(0.05)

        self._poller = threading.Thread(target=poll, name="saldo-relay-kafka", daemon=True)
        self._poller.start()

    async def send(self, messages: Sequence[Message]) -> Pending:
        from confluent_kafka import KafkaError, KafkaException

        if self._fatal:  # the idempotent producer's state is gone: a new one
            log.warning("kafka_producer_fatal_error_recreating")
            await self.close()
            await self.start()
        producer = self._producer
        loop = asyncio.get_running_loop()
        items: list[Outcome | asyncio.Future[Any]] = []

        def settle(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
            if not future.done():
                future.set_result(outcome)

        def report(future: asyncio.Future[Outcome]) -> Any:
            def on_delivery(err: KafkaError | None, _msg: Any) -> None:  # the poll thread
                if err is None:
                    outcome = ACKED
                else:
                    self._fatal |= err.fatal()
                    outcome = Outcome(False, err.name() in _PERMANENT_KAFKA, str(err))
                loop.call_soon_threadsafe(settle, future, outcome)
            return on_delivery

        for message in messages:
            future: asyncio.Future[Outcome] = loop.create_future()
            try:
                producer.produce(message.subject, value=message.body, key=message.key,
                                 headers=[("event_id", str(message.event_id).encode())],
                                 on_delivery=report(future))
            except BufferError:
                # The local queue is full: stop here; what is queued is delivered.
                break
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                name = err.name() if isinstance(err, KafkaError) else ""
                items.append(Outcome(False, name in _PERMANENT_KAFKA, str(exc)))
                if name not in _PERMANENT_KAFKA:
                    break
                continue
            items.append(future)
        items += [NOT_SENT] * (len(messages) - len(items))
        return Pending(items, _kafka_outcome, time.monotonic() + self.ack_timeout)

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        return await (await self.send(messages)).outcomes()

    async def close(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._producer.flush, 5)
            if self._polling is not None:
                self._polling.clear()
            if self._poller is not None:
                await asyncio.to_thread(self._poller.join, 5)
            self._producer = self._poller = self._polling = None


def _kafka_outcome(future: asyncio.Future[Any]) -> Outcome:
    if future.cancelled() or not future.done():
        return Outcome(False, False, "no delivery report in time")
    outcome: Outcome = future.result()
    return outcome


def publisher_for(sink: str, url: str, **options: Any) -> Publisher:
    if sink == "nats":
        return NatsPublisher(url, **options)
    if sink == "kafka":
        return KafkaPublisher(url, **options)
    raise ValueError(f"unknown sink {sink!r} (nats or kafka)")
