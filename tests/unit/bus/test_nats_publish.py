"""The NATS publisher's own protocol writing and acknowledgement bookkeeping (decision
0068): a batch goes to nats-py's write buffer as the bytes ``Client.publish`` would have
written message by message, and each batch collects its answers by reply subject."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

from nats.aio.client import NATS_HDR_LINE, Client
from nats.protocol.command import hpub_cmd

from saldo.relay import brokers
from saldo.relay.brokers import ACKED, NO_ACK, NatsPublisher, Outcome, _NatsBatch
from saldo.relay.domain import MSG_ID_HEADER, Message


class FakeClient:
    """What ``NatsPublisher._write`` and ``send`` touch of nats-py's client."""

    def __init__(self, max_payload: int = 1 << 20) -> None:
        self.max_payload = max_payload
        self.written: list[bytes] = []
        self.is_connected, self.is_draining_pubs = True, False
        self._flush_queue: asyncio.Queue[Any] = asyncio.Queue()
        self.flushes = 0

    async def _send_command(self, cmd: bytes, priority: bool = False) -> None:
        self.written.append(cmd)

    async def _flush_pending(self, force_flush: bool = False) -> None:
        self.flushes += 1

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes,
                           headers: bytes) -> None:
        self.written.append(b"usual:" + subject)


def nats_py_bytes(subject: str, reply: str, event_id: UUID, body: bytes) -> bytes:
    """What ``Client.publish(subject, body, reply=reply, headers={Nats-Msg-Id: id})``
    puts in the write buffer (nats-py's own header building and HPUB command)."""
    header = bytearray(NATS_HDR_LINE) + b"\r\n"
    header += f"{MSG_ID_HEADER}: {event_id}".encode() + b"\r\n\r\n"
    return hpub_cmd(subject, reply, header, body)


def publisher(client: FakeClient) -> NatsPublisher:
    publisher = NatsPublisher("nats://unused")
    publisher._nc, publisher._inbox = client, "_INBOX.abc"
    return publisher


async def test_a_batch_is_written_as_client_publish_writes_each_message() -> None:
    client = FakeClient(max_payload=1000)
    messages = [Message(uuid4(), "accounting.TransactionPosted", "k1", b'{"a": "\xe1\x83\x9a"}'),
                Message(uuid4(), "accounting.Big", "k2", b"x" * 1001),
                Message(uuid4(), "accounting.billing_InvoiceIssued", "k3", b"{}")]
    pending = await publisher(client).send(messages)
    assert client.written == [
        nats_py_bytes(messages[0].subject, "_INBOX.abc.1.0", messages[0].event_id,
                      messages[0].body)
        + nats_py_bytes(messages[2].subject, "_INBOX.abc.1.2", messages[2].event_id,
                        messages[2].body)]
    assert client.flushes == 1
    assert isinstance(pending, _NatsBatch)
    assert len(pending) == 3
    refused = pending.items[1]
    assert refused is not None
    assert (refused.ok, refused.permanent) == (False, True)
    assert "max_payload" in (refused.error or "")


async def test_answers_are_kept_by_batch_and_index_and_silence_is_not_delivered() -> None:
    client = FakeClient()
    nats = publisher(client)
    first = await nats.send([Message(uuid4(), "accounting.A", "k", b"{}")] * 3)
    second = await nats.send([Message(uuid4(), "accounting.A", "k", b"{}")])
    assert isinstance(first, _NatsBatch)
    assert isinstance(second, _NatsBatch)
    first.deadline = second.deadline = 0  # no waiting for what has not answered
    nats._ack(b"_INBOX.abc.1.2", b'{"stream":"ACCOUNTING","seq":9}')
    nats._ack(b"_INBOX.abc.1.0", b'{"error":{"code":400,"description":"no"}}')
    nats._ack(b"_INBOX.abc.1.0", b'{"stream":"ACCOUNTING","seq":1}')  # a second answer
    nats._ack(b"_INBOX.abc.7.0", b'{"stream":"ACCOUNTING","seq":2}')  # no such batch
    nats._ack(b"_INBOX.abc.2.x", b'{"stream":"ACCOUNTING","seq":3}')  # not an index
    refused, silent, stored = await first.outcomes()
    assert (refused.ok, refused.permanent) == (False, True)
    assert silent == NO_ACK
    assert stored == ACKED
    assert await second.outcomes() == [NO_ACK]
    assert nats._waiting == {}  # settled batches are forgotten: late answers change nothing
    nats._ack(b"_INBOX.abc.2.0", b'{"stream":"ACCOUNTING","seq":4}')


async def test_a_batch_answered_in_full_settles_without_waiting() -> None:
    nats = publisher(FakeClient())
    pending = await nats.send([Message(uuid4(), "accounting.A", "k", b"{}")] * 2)
    for index in (1, 0):
        nats._ack(b"_INBOX.abc.1.%d" % index, b'{"stream":"S","seq":1,"duplicate":true}')
    assert await asyncio.wait_for(pending.outcomes(), 1) == [ACKED, ACKED]


async def test_a_reconnecting_client_gets_messages_one_by_one_through_publish() -> None:
    sent: list[tuple[str, str]] = []

    class Reconnecting(FakeClient):
        async def publish(self, subject: str, payload: bytes, reply: str,
                          headers: dict[str, str]) -> None:
            if len(sent) == 1:
                raise ConnectionError("gone")
            sent.append((subject, reply))

    client = Reconnecting()
    client.is_connected = False
    pending = await publisher(client).send([Message(uuid4(), "accounting.A", "k", b"{}")] * 3)
    assert sent == [("accounting.A", "_INBOX.abc.1.0")]
    assert client.written == []
    assert isinstance(pending, _NatsBatch)
    assert pending.items[0] is None  # sent: waits for its answer
    assert [(o.ok, o.permanent) for o in pending.items[1:] if isinstance(o, Outcome)] == \
        [(False, False), (False, False)]


async def test_acknowledgements_are_taken_before_nats_py_builds_messages() -> None:
    client = FakeClient()
    taken: list[tuple[bytes, bytes]] = []

    class Sub:
        _id = 7

    brokers._take_acks_first(client, Sub(), lambda s, d: taken.append((s, d)))
    await client._process_msg(7, b"_INBOX.abc.1.0", b"", b"ack", b"")
    await client._process_msg(7, b"_INBOX.abc.1.1", b"", b"", b"NATS/1.0 503\r\n\r\n")
    await client._process_msg(8, b"other", b"", b"data", b"")
    assert taken == [(b"_INBOX.abc.1.0", b"ack")]
    assert client.written == [b"usual:_INBOX.abc.1.1", b"usual:other"]


def test_an_unknown_nats_py_keeps_its_own_message_path() -> None:
    class Other:
        async def _process_msg(self, sid: int, subject: bytes) -> None: ...

    client = Other()
    original = client._process_msg

    class Sub:
        _id = 1

    brokers._take_acks_first(client, Sub(), lambda s, d: None)
    assert client._process_msg == original


def test_whole_batches_need_a_connected_client_of_the_known_nats_py() -> None:
    client = Client()  # the installed nats-py: it has what the publisher writes through
    assert brokers._writes_whole_batches(client) is False  # not connected
    client._status = Client.CONNECTED
    assert brokers._writes_whole_batches(client) is True
    client._status = Client.DRAINING_PUBS
    assert brokers._writes_whole_batches(client) is False

    class Unknown:  # another nats-py: connected, without the write buffer known here
        is_connected, is_draining_pubs = True, False

    assert brokers._writes_whole_batches(Unknown()) is False


async def test_a_write_that_fails_leaves_the_whole_batch_not_delivered() -> None:
    class Broken(FakeClient):
        async def _send_command(self, cmd: bytes, priority: bool = False) -> None:
            raise ConnectionResetError("reset")

    nats = publisher(Broken())
    pending = await nats.send([Message(uuid4(), "accounting.A", "k", b"{}")] * 2)
    nats._ack(b"_INBOX.abc.1.0", b'{"stream":"S","seq":1}')  # changes nothing now
    outcomes = await asyncio.wait_for(pending.outcomes(), 1)
    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False), (False, False)]
    assert "reset" in (outcomes[0].error or "")


def test_an_answer_on_an_unexpected_subject_is_ignored() -> None:
    nats = publisher(FakeClient())
    for subject in (b"", b"_INBOX", b"x.y", b"_INBOX.abc.1.-1"):
        nats._ack(subject, b"{}")  # runs inside nats-py's reader: must not raise
