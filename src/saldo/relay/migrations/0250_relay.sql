-- The outbox relay (issue 18; docs/events.md, decision 0055).
--
-- The event store *is* the outbox: every committed event is published once its
-- transaction is visible in commit order. One checkpoint per sink (nats, kafka): it
-- advances only after the broker acknowledged every event up to it.
CREATE TABLE relay_checkpoints (
    sink            text PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT '0'::xid8,
    position        bigint NOT NULL DEFAULT 0,
    published       bigint NOT NULL DEFAULT 0,
    dead_letters    bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Poison events: what could not be published (and why). Each was also sent to the
-- dead-letter subject/topic; the relay went on with the next event.
CREATE TABLE relay_dead_letters (
    sink            text NOT NULL,
    event_id        uuid NOT NULL,
    position        bigint NOT NULL,
    event_type      text NOT NULL,
    company_id      uuid,
    error           text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, event_id)
);

-- The consumer helper's memory (saldo.relay.consumer.Deduplicator): the event ids a
-- named consumer has handled, written in the consumer's own transaction, so an event
-- delivered twice (at-least-once) is handled once.
CREATE TABLE relay_consumed (
    consumer        text NOT NULL,
    event_id        uuid NOT NULL,
    handled_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
