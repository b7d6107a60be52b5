"""The two brokers behind one small interface: publish a batch, learn per message
whether the broker acknowledged it, refused it for good, or could not be reached.

* **NATS JetStream** (nats-py): subject ``accounting.<type>``, header ``Nats-Msg-Id`` =
  the event id, so the stream drops a message it stored already inside its duplicate
  window. Publishes are pipelined (``publish_async``) and their acks awaited together.
* **Kafka** (confluent-kafka): the idempotent producer (``enable.idempotence``, which
  implies ``acks=all``), topic ``accounting.<type>``, key the stream id (one partition per
  stream keeps a stream's events in order). Delivery reports say what was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


class Publisher(Protocol):
    sink: str

    async def start(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        """One outcome per message, in order."""

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

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        from nats.errors import MaxPayloadError

        outcomes: list[Outcome | None] = [None] * len(messages)
        futures: dict[int, asyncio.Future[Any]] = {}
        for index, message in enumerate(messages):
            try:
                futures[index] = await self._js.publish_async(
                    message.subject, message.body,
                    headers={MSG_ID_HEADER: str(message.event_id)})
            except MaxPayloadError as exc:
                outcomes[index] = Outcome(False, True, f"larger than the server's "
                                                       f"max_payload: {exc}")
            except Exception as exc:  # connection closed, stalled: not now
                outcomes[index] = Outcome(False, False, repr(exc))
                break
        if futures:
            _, pending = await asyncio.wait(futures.values(), timeout=self.ack_timeout)
            for future in pending:
                future.cancel()
        for index, future in futures.items():
            outcomes[index] = _nats_outcome(future)
        return [o if o is not None else Outcome(False, False, "not sent") for o in outcomes]

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None


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
    from nats.js.errors import APIError

    if future.cancelled() or not future.done():
        return Outcome(False, False, "no acknowledgement in time")
    exc = future.exception()
    if exc is None:
        return ACKED
    if isinstance(exc, APIError) and exc.code is not None and 400 <= exc.code < 500 \
            and exc.code not in (408, 429):
        return Outcome(False, True, f"refused by JetStream: {exc}")
    return Outcome(False, False, repr(exc))


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

    async def start(self) -> None:
        from confluent_kafka import Producer

        self._producer = Producer(self.config)

    async def publish(self, messages: Sequence[Message]) -> list[Outcome]:
        from confluent_kafka import KafkaError, KafkaException

        producer = self._producer
        outcomes: list[Outcome | None] = [None] * len(messages)
        fatal = False

        def report(index: int) -> Any:
            def on_delivery(err: KafkaError | None, _msg: Any) -> None:
                nonlocal fatal
                if err is None:
                    outcomes[index] = ACKED
                    return
                fatal |= err.fatal()
                outcomes[index] = Outcome(False, err.name() in _PERMANENT_KAFKA, str(err))
            return on_delivery

        for index, message in enumerate(messages):
            try:
                producer.produce(message.subject, value=message.body, key=message.key,
                                 headers=[("event_id", str(message.event_id).encode())],
                                 on_delivery=report(index))
            except BufferError:
                # The local queue is full: stop here, deliver what is queued, retry later.
                break
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                name = err.name() if isinstance(err, KafkaError) else ""
                outcomes[index] = Outcome(False, name in _PERMANENT_KAFKA, str(exc))
                if name not in _PERMANENT_KAFKA:
                    break
            producer.poll(0)
        await asyncio.to_thread(producer.flush, self.ack_timeout)
        if fatal:  # the idempotent producer's state is gone: a new one next batch
            log.warning("kafka_producer_fatal_error_recreating")
            await self.close()
            await self.start()
        return [o if o is not None else Outcome(False, False, "no delivery report in time")
                for o in outcomes]

    async def close(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._producer.flush, 5)
            self._producer = None


def publisher_for(sink: str, url: str, **options: Any) -> Publisher:
    if sink == "nats":
        return NatsPublisher(url, **options)
    if sink == "kafka":
        return KafkaPublisher(url, **options)
    raise ValueError(f"unknown sink {sink!r} (nats or kafka)")
