"""How the relay reads JetStream's answers on a message's reply subject (decision 0066):
the shapes below are what nats-server sends (a PubAck, a duplicate, an API error, and the
503 status message when no stream captures the subject). The integration tests publish
to the machine's NATS; this checks each answer's meaning, including the rare ones."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from saldo.relay.brokers import Outcome, _nats_outcome


@dataclass
class Reply:
    data: bytes
    headers: dict[str, str] | None = None


def outcome_of(reply: Reply | None) -> Outcome:
    """The outcome of a reply (``None``: none came in time)."""
    loop = asyncio.new_event_loop()
    try:
        future: asyncio.Future[Reply] = loop.create_future()
        if reply is not None:
            future.set_result(reply)
        return _nats_outcome(future)
    finally:
        loop.close()


def test_stored_and_duplicate_are_acknowledged() -> None:
    assert outcome_of(Reply(b'{"stream":"ACCOUNTING", "seq":17}')).ok
    assert outcome_of(Reply(b'{"stream":"ACCOUNTING","seq":17,"duplicate":true}')).ok


def test_client_errors_are_permanent_and_others_transient() -> None:
    too_big = outcome_of(Reply(b'{"error":{"code":400,"err_code":10054,'
                               b'"description":"message size exceeds maximum allowed"}}'))
    assert (too_big.ok, too_big.permanent) == (False, True)
    assert "maximum allowed" in (too_big.error or "")
    for code in (408, 429, 500, 503):
        answer = outcome_of(Reply(b'{"error":{"code":%d,"description":"x"}}' % code))
        assert (answer.ok, answer.permanent) == (False, False), code


def test_no_responders_garbage_and_silence_are_not_now() -> None:
    nobody = outcome_of(Reply(b"", {"Status": "503"}))
    assert (nobody.ok, nobody.permanent) == (False, False)
    assert "503" in (nobody.error or "")
    for reply in (Reply(b"not json"), Reply(b"[]"), Reply(b'{"stream":"X"}'), None):
        answer = outcome_of(reply)
        assert (answer.ok, answer.permanent) == (False, False)
