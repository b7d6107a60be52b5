"""The relay's settings, from ``SALDO_*`` environment variables like the platform's."""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from saldo.platform.settings import SettingsError


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALDO_", extra="ignore", frozen=True)

    #: NATS server(s) with JetStream, comma-separated (``nats://127.0.0.1:4222``).
    nats_url: str | None = None
    #: Kafka bootstrap servers (``host:9092,host2:9092``).
    kafka_bootstrap_servers: str | None = None
    #: The JetStream stream that captures ``accounting.>`` (created if missing).
    nats_stream: str = "ACCOUNTING"
    #: JetStream's window for ``Nats-Msg-Id`` deduplication, in seconds.
    nats_duplicate_window: float = Field(default=120.0, gt=0)
    #: How long a Kafka message may wait for its acknowledgement (``message.timeout.ms``).
    kafka_message_timeout_ms: int = Field(default=30_000, ge=1000)
    relay_batch_size: int = Field(default=500, ge=1, le=100_000)
    #: Batches handed to the broker before the oldest one's acknowledgements are awaited
    #: (the overlap of reading with the broker's round trips; decision 0066).
    relay_in_flight: int = Field(default=4, ge=1, le=64)
    relay_poll_interval: float = Field(default=0.2, gt=0, le=60)
    #: Seconds to wait for a batch's acknowledgements before it counts as not delivered.
    relay_ack_timeout: float = Field(default=10.0, gt=0, le=600)

    def sinks(self) -> list[str]:
        return [name for name, url in (("nats", self.nats_url),
                                       ("kafka", self.kafka_bootstrap_servers)) if url]


def load_relay_settings(**overrides: object) -> RelaySettings:
    try:
        return RelaySettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [f"SALDO_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                    for e in exc.errors()]
        raise SettingsError("Invalid relay configuration. " + "; ".join(problems) + ".") from None
