-- The event store: the source of truth (ARCHITECTURE §3).
--
-- Ordering: `position` comes from an identity sequence, so it is unique but NOT the commit
-- order -- a transaction that takes position 10 may commit after one that took 11. Readers
-- that follow all events therefore read in (transaction_id, position) order, and only
-- rows whose writing transaction is older than every transaction still running
-- (pg_snapshot_xmin of the reader's snapshot). See docs/decisions/0003-event-ordering.md.
CREATE TABLE events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    stream_id       text NOT NULL,
    stream_type     text NOT NULL,
    version         integer NOT NULL CHECK (version > 0),
    event_type      text NOT NULL,
    schema_version  integer NOT NULL DEFAULT 1 CHECK (schema_version > 0),
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    company_id      uuid,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Optimistic concurrency: two writers cannot both add version N to a stream.
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

-- The commit-order scan used by subscriptions and projections.
CREATE INDEX events_commit_order ON events (transaction_id, position);
CREATE INDEX events_company ON events (company_id, position) WHERE company_id IS NOT NULL;

-- The log is append-only: nothing may rewrite history, not even by mistake.
CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only (% on events refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

CREATE TABLE snapshots (
    stream_id       text PRIMARY KEY,
    stream_type     text NOT NULL,
    version         integer NOT NULL,
    schema_version  integer NOT NULL DEFAULT 1,
    state           jsonb NOT NULL,
    taken_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per named projection. The checkpoint is the (transaction_id, position) of the
-- last event applied; it is updated in the same transaction as the read model.
CREATE TABLE projection_checkpoints (
    name              text PRIMARY KEY,
    transaction_id    xid8 NOT NULL DEFAULT '0'::xid8,
    position          bigint NOT NULL DEFAULT 0,
    status            text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'failed')),
    failed_position   bigint,
    failed_event_type text,
    error             text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- A built-in asynchronous read model: how many events of each type exist.
-- It feeds the saldo_events business metric and is the worker's smoke signal.
CREATE TABLE event_type_counts (
    event_type  text PRIMARY KEY,
    count       bigint NOT NULL
);
