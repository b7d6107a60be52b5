-- The Revenue Service (rs.ge) exchange (docs/rsge.md, docs/decisions/0060-0062).
--
-- rs_credentials holds each company's service user with its password encrypted
-- (AES-256-GCM, key SALDO_RS_CREDENTIALS_KEY): the password is never an event, so it is
-- never in the log in any form. rs_einvoices is the read model of the e-invoice streams
-- (inline projection `rsge`) plus two operational columns the workers own: the lease of
-- the worker sending an item and the time of the next status poll. rs_incoming and
-- rs_waybills mirror documents whose source of truth is rs.ge itself (sync replaces them).

CREATE TABLE rs_credentials (
    company_id     uuid PRIMARY KEY,
    service_user   text NOT NULL,
    secret         bytea NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_sync_at   timestamptz
);

CREATE TABLE rs_einvoices (
    company_id       uuid NOT NULL,
    document_id      uuid NOT NULL,
    status           text NOT NULL CHECK (status IN ('queued', 'sent', 'confirmed', 'rejected', 'failed')),
    number           text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('invoice', 'correction')),
    corrects         uuid,
    rs_id            bigint,
    series           text,
    rs_number        bigint,
    rs_status        integer,
    lines_total      integer NOT NULL,
    lines_saved      integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz,
    queued_at        timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- Operational, not projected: which worker holds it until when; when to poll next.
    leased_until     timestamptz,
    next_poll_at     timestamptz,
    PRIMARY KEY (company_id, document_id)
);
CREATE INDEX rs_einvoices_due ON rs_einvoices (next_attempt_at) WHERE status = 'queued';
CREATE INDEX rs_einvoices_polled ON rs_einvoices (next_poll_at) WHERE status = 'sent';

CREATE TABLE rs_incoming (
    company_id       uuid NOT NULL,
    rs_id            bigint NOT NULL,
    series           text NOT NULL,
    number           text NOT NULL,
    date             date NOT NULL,
    supplier_tax_id  text NOT NULL,
    supplier_name    text NOT NULL,
    total            numeric(20, 2) NOT NULL,
    vat              numeric(20, 2) NOT NULL,
    rs_status        integer NOT NULL,
    bill_id          uuid,
    match            text NOT NULL CHECK (match IN ('exact', 'amount', 'ambiguous', 'unmatched', 'draft')),
    decision         text CHECK (decision IN ('confirmed', 'rejected')),
    decided_by       text,
    decided_at       timestamptz,
    synced_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, rs_id)
);

CREATE TABLE rs_waybills (
    company_id       uuid NOT NULL,
    id               uuid NOT NULL,
    direction        text NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
    rs_id            bigint NOT NULL,
    number           text,
    status           text NOT NULL,
    type             integer NOT NULL,
    document_id      uuid,
    buyer_tax_id     text NOT NULL,
    buyer_name       text NOT NULL,
    seller_tax_id    text,
    start_address    text NOT NULL DEFAULT '',
    end_address      text NOT NULL DEFAULT '',
    total            numeric(20, 2) NOT NULL,
    body             jsonb NOT NULL,
    buyer_decision   text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, direction, rs_id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rs_credentials', 'rs_einvoices', 'rs_incoming', 'rs_waybills'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I TO saldo_app USING (company_id = saldo_company())'
                       ' WITH CHECK (company_id = saldo_company())', t || '_company', t);
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('CREATE POLICY %I ON %I TO %I USING (true) WITH CHECK (true)',
                           t || '_owner', t, current_user);
        END IF;
    END LOOP;
END $$;
