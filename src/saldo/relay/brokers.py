"""The two brokers behind one small interface: send a batch (:meth:`Publisher.send`
returns at once with a :class:`Pending`), later learn per message whether the broker
acknowledged it, refused it for good, or could not be reached. Sending the next batch
before the previous one's acknowledgements are in is what lets the relay overlap its
reads with the broker's round trips (decision 0066).

* **NATS JetStream** (nats-py): subject ``accounting.<type>``, header ``Nats-Msg-Id`` =
  the event id, so the stream drops a message it stored already inside its duplicate
  window. A JetStream publish is a core NATS publish with a reply subject, to which the
  stream answers its acknowledgement (``{"stream":…,"seq":…}`` or ``{"error":…}``); the
  publisher sends each message with a reply subject of its own under one inbox
  (``<inbox>.<batch>.<index>``) and reads every acknowledgement through one wildcard
  subscription. nats-py's ``publish_async`` does the same with a task hop, a semaphore
  and a parsed ``PubAck`` per message, and took 2.2 times as long per message here
  (decision 0066). A batch is written to nats-py's buffer in one piece and its answers
  are collected by the batch, taken from nats-py's reader before it builds a message
  object for each (decision 0068).
* **Kafka** (confluent-kafka): the idempotent producer (``enable.idempotence``, which
  implies ``acks=all``), topic ``accounting.<type>``, key the stream id (one partition per
  stream keeps a stream's events in order). Delivery reports say what was acknowledged;
  a thread of the publisher's own serves them (``poll``) and resolves each message's
  future on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

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
NO_ACK = Outcome(False, False, "no acknowledgement in time")


class Pending(Protocol):
    """A batch handed to a broker. :meth:`outcomes` waits for its acknowledgements until
    its deadline and returns one outcome per message, in order; what has not answered by
    then is *not delivered* (retried later), never counted as acknowledged."""

    def __len__(self) -> int: ...

    async def outcomes(self) -> list[Outcome]: ...

    def abandon(self) -> None:
        """Stop waiting (the relay stopped before this batch): an acknowledgement that
        still comes changes nothing; the events are published again later."""


class FuturePending:
    """Per message either its outcome already (refused at once, not sent) or a future the
    broker's acknowledgement resolves; waited for until ``deadline``
    (``time.monotonic()``)."""

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
        self._batches_sent = 0
        #: Batch token (the reply subject's second-last token) → the batch waiting for
        #: its acknowledgements.
        self._waiting: dict[bytes, _NatsBatch] = {}

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
        # One subscription for every acknowledgement, ``<inbox>.<batch>.<index>``
        # (resubscribed by nats-py after a reconnect); limits far above what the relay
        # keeps in flight.
        sub = await self._nc.subscribe(f"{self._inbox}.*.*", cb=self._on_ack,
                                       pending_msgs_limit=1_000_000,
                                       pending_bytes_limit=256 * 1024 * 1024)
        _take_acks_first(self._nc, sub, self._ack)

    async def _on_ack(self, msg: Any) -> None:
        self._ack(msg.subject.encode(), msg.data if not msg.headers else msg)

    def _ack(self, subject: bytes, answer: Any) -> None:
        """JetStream's answer on ``<inbox>.<batch>.<index>``: kept by its batch as its
        bytes (or, with headers, nats-py's message)."""
        parts = subject.rsplit(b".", 2)  # runs in nats-py's reader: must not raise
        batch = self._waiting.get(parts[1]) if len(parts) == 3 else None
        if batch is not None and parts[2].isdigit():
            batch.answer(int(parts[2]), answer)

    async def send(self, messages: Sequence[Message]) -> Pending:
        self._batches_sent += 1
        token = str(self._batches_sent)
        batch = _NatsBatch(self, token.encode(), len(messages),
                           time.monotonic() + self.ack_timeout)
        self._waiting[batch.token] = batch
        prefix = f"{self._inbox}.{token}."
        nc = self._nc
        if _writes_whole_batches(nc):
            self._write(batch, messages, prefix)
            try:
                if batch.parts:
                    await nc._send_command(b"".join(batch.parts))
                    if nc._flush_queue is not None and nc._flush_queue.empty():
                        await nc._flush_pending()
            except Exception as exc:  # not now: whatever got out is sent again later
                batch.fail(repr(exc))
            batch.parts = []
        else:  # reconnecting, closed, or another nats-py: its public publish, one by one
            await self._publish_each(batch, messages, prefix)
        batch.sent()
        return batch

    def _write(self, batch: _NatsBatch, messages: Sequence[Message], prefix: str) -> None:
        """The batch as NATS protocol: per message ``HPUB <subject> <reply> <header
        bytes> <total bytes>``, the header block with ``Nats-Msg-Id``, the body; what
        ``Client.publish`` writes for one message (its header and subject checks hold by
        construction: a fixed header name, a UUID for its value, subjects from
        ``subject_for``), written with one call for the batch."""
        limit = self._nc.max_payload
        reply = prefix.encode()
        add, dumps = batch.parts.append, orjson.dumps
        for index, (event_id, subject, _, body) in enumerate(messages):
            size = len(body)
            if size > limit:
                batch.refuse(index, Outcome(False, True, f"larger than the server's "
                                                         f"max_payload ({limit} bytes)"))
                continue
            # The id as str(event_id) writes it, from orjson: str() took longer than
            # the rest of the message's protocol line.
            msg_id = dumps(event_id)[1:-1]
            header = len(msg_id) + _HPUB_HEADER_SIZE
            add(_HPUB % (subject.encode(), reply, index, header, header + size, msg_id,
                         body))

    async def _publish_each(self, batch: _NatsBatch, messages: Sequence[Message],
                            prefix: str) -> None:
        from nats.errors import MaxPayloadError

        for index, message in enumerate(messages):
            try:
                await self._nc.publish(message.subject, message.body,
                                       reply=f"{prefix}{index}",
                                       headers={MSG_ID_HEADER: str(message.event_id)})
            except MaxPayloadError as exc:
                batch.refuse(index, Outcome(False, True, f"larger than the server's "
                                                         f"max_payload: {exc}"))
            except Exception as exc:  # connection closed, stalled: not now
                batch.refuse(index, Outcome(False, False, repr(exc)))
                for later in range(index + 1, len(messages)):
                    batch.refuse(later, NOT_SENT)
                return

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        return await (await self.send(messages)).outcomes()

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
        for batch in list(self._waiting.values()):
            batch.abandon()
        self._waiting.clear()


#: One message of a batch: ``HPUB <subject> <reply> <header bytes> <total bytes>``, the
#: header block (``Nats-Msg-Id``: the event id), the body.
_HPUB = b"HPUB %b %b%d %d %d\r\nNATS/1.0\r\n" + MSG_ID_HEADER.encode() + \
    b": %b\r\n\r\n%b\r\n"
#: The header block's size without the id.
_HPUB_HEADER_SIZE = len(b"NATS/1.0\r\n" + MSG_ID_HEADER.encode() + b": \r\n\r\n")


def _take_acks_first(nc: Any, sub: Any, take: Callable[[bytes, bytes], None]) -> None:
    """Hand the acknowledgements (no headers) on ``sub`` to ``take`` as nats-py's reader
    parses them, before it builds a message object, queues it and wakes the
    subscription's task to run its callback: that path cost more per message than the
    relay's own work on the event (decision 0068). Anything else on the connection, and
    an answer with headers (a status such as 503), goes the usual way (``sub``'s
    callback). Only for the nats-py this module knows: its reader calls
    ``Client._process_msg(sid, subject, reply, data, headers)`` for every message, and a
    resubscription after a reconnect keeps the sid."""
    process = getattr(nc, "_process_msg", None)
    sid = getattr(sub, "_id", None)
    if process is None or not isinstance(sid, int) \
            or list(inspect.signature(process).parameters) != [
                "sid", "subject", "reply", "data", "headers"]:
        return

    async def process_msg(msg_sid: int, subject: bytes, reply: bytes, data: bytes,
                          headers: bytes) -> None:
        if msg_sid == sid and not headers:
            take(subject, data)
        else:
            await process(msg_sid, subject, reply, data, headers)

    nc._process_msg = process_msg


def _writes_whole_batches(nc: Any) -> bool:
    """Whether a batch can go to nats-py's write buffer in one piece: connected (while
    reconnecting, ``Client.publish`` bounds what it buffers, and a closed or draining
    client refuses), and the nats-py whose buffer this module knows (2.x:
    ``_send_command``, ``_flush_pending``, ``_flush_queue``)."""
    return bool(nc.is_connected and not nc.is_draining_pubs
                and hasattr(nc, "_send_command") and hasattr(nc, "_flush_pending")
                and hasattr(nc, "_flush_queue"))


class _Answer(NamedTuple):
    """An answer kept as its bytes (it had no headers)."""

    data: bytes
    headers: None = None


class _NatsBatch:
    """One batch's acknowledgements: JetStream answers each message on its own reply
    subject, ``<inbox>.<batch>.<index>``; the answers are kept by index and one future
    per batch is resolved when the last one is in (a future per message, and
    ``asyncio.wait`` over a thousand of them, cost more than the answers themselves)."""

    __slots__ = (
        "answers",
        "deadline",
        "done",
        "items",
        "missing",
        "parts",
        "publisher",
        "token",
    )

    def __init__(self, publisher: NatsPublisher, token: bytes, size: int,
                 deadline: float) -> None:
        self.publisher, self.token, self.deadline = publisher, token, deadline
        #: An outcome known without the broker (refused at once, not sent), by index.
        self.items: list[Outcome | None] = [None] * size
        self.answers: list[Any] = [None] * size
        self.missing = size
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.parts: list[bytes] = []

    def __len__(self) -> int:
        return len(self.items)

    def refuse(self, index: int, outcome: Outcome) -> None:
        if self.items[index] is None and self.answers[index] is None:
            self.items[index] = outcome
            self.missing -= 1

    def fail(self, error: str) -> None:
        """Nothing of the batch counts as sent: every message not refused already is
        *not delivered* (an answer that still comes changes nothing)."""
        for index, item in enumerate(self.items):
            if item is None:
                self.items[index] = Outcome(False, False, error)
        self.answers = [None] * len(self.items)
        self.missing = 0

    def sent(self) -> None:
        if self.missing <= 0 and not self.done.done():
            self.done.set_result(None)

    def answer(self, index: int, msg: Any) -> None:
        if 0 <= index < len(self.answers) and self.answers[index] is None \
                and self.items[index] is None:
            self.answers[index] = msg
            self.missing -= 1
            if self.missing <= 0 and not self.done.done():
                self.done.set_result(None)

    async def outcomes(self) -> list[Outcome]:
        if not self.done.done():
            await asyncio.wait([self.done], timeout=max(self.deadline - time.monotonic(), 0))
        self.abandon()  # what did not answer in time: no longer waited for (nor counted)
        return [item if item is not None
                else _answer_outcome(_Answer(answer)) if type(answer) is bytes
                else _answer_outcome(answer) if answer is not None else NO_ACK
                for item, answer in zip(self.items, self.answers, strict=True)]

    def abandon(self) -> None:
        self.publisher._waiting.pop(self.token, None)
        if not self.done.done():
            self.done.cancel()


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
        return NO_ACK
    return _answer_outcome(future.result())


def _answer_outcome(msg: Any) -> Outcome:
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
        return FuturePending(items, _kafka_outcome, time.monotonic() + self.ack_timeout)

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
