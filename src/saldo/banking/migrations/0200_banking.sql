-- Banking (issue 16): bank accounts, imported statements and their lines, reconciliations
-- and rules. Read models of the banking events (saldo.banking.projections), written in
-- the appending transaction; each row carries its company for row-level security.

CREATE TABLE bank_accounts (
    company_id    uuid NOT NULL,
    id            uuid NOT NULL,
    iban          text NOT NULL,
    bank_code     text,
    currency      text NOT NULL,
    account_code  text NOT NULL,
    name          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, iban),
    UNIQUE (company_id, account_code)
);

CREATE TABLE bank_statements (
    company_id          uuid NOT NULL,
    id                  uuid NOT NULL,
    bank_account_id     uuid NOT NULL,
    format              text NOT NULL,
    filename            text NOT NULL DEFAULT '',
    sha256              text NOT NULL,
    opening_balance     numeric,
    closing_balance     numeric,
    period_from         date,
    period_to           date,
    lines_imported      integer NOT NULL,
    duplicates_skipped  integer NOT NULL,
    findings            jsonb NOT NULL DEFAULT '[]',
    imported_at         timestamptz NOT NULL DEFAULT now(),
    imported_by         text,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX bank_statements_account ON bank_statements (company_id, bank_account_id, period_to);

CREATE TABLE bank_lines (
    company_id           uuid NOT NULL,
    id                   uuid NOT NULL,
    statement_id         uuid NOT NULL,
    bank_account_id      uuid NOT NULL,
    row_no               integer NOT NULL,
    booking_date         date NOT NULL,
    value_date           date,
    amount               numeric NOT NULL,
    currency             text NOT NULL,
    bank_id              text NOT NULL DEFAULT '',
    reference            text NOT NULL DEFAULT '',
    description          text NOT NULL DEFAULT '',
    counterparty_name    text NOT NULL DEFAULT '',
    counterparty_iban    text NOT NULL DEFAULT '',
    counterparty_tax_id  text NOT NULL DEFAULT '',
    dedup_key            text NOT NULL,
    status               text NOT NULL DEFAULT 'unreconciled'
                         CHECK (status IN ('unreconciled', 'reconciled')),
    transaction_id       uuid,
    account_code         text,
    payment_id           uuid,
    rule_id              uuid,
    reconciled_at        timestamptz,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, bank_account_id, dedup_key)
);
CREATE INDEX bank_lines_status ON bank_lines (company_id, status, booking_date, id);
CREATE INDEX bank_lines_statement ON bank_lines (company_id, statement_id);

-- The ranked documents a line may settle: a cache the service writes at import (and on a
-- refresh), not a projection of events; a row of its own so that writing 10,000 of them
-- is an INSERT, not an UPDATE of every line.
CREATE TABLE bank_line_suggestions (
    company_id   uuid NOT NULL,
    line_id      uuid NOT NULL,
    suggestions  jsonb NOT NULL,
    PRIMARY KEY (company_id, line_id)
);

CREATE TABLE bank_allocations (
    company_id   uuid NOT NULL,
    line_id      uuid NOT NULL,
    document_id  uuid NOT NULL,
    amount       numeric NOT NULL,
    PRIMARY KEY (company_id, line_id, document_id)
);
CREATE INDEX bank_allocations_document ON bank_allocations (company_id, document_id);

CREATE TABLE bank_rules (
    company_id    uuid NOT NULL,
    id            uuid NOT NULL,
    contains      text NOT NULL,
    account_code  text NOT NULL,
    direction     text NOT NULL DEFAULT 'any' CHECK (direction IN ('in', 'out', 'any')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bank_accounts', 'bank_statements', 'bank_lines',
                             'bank_line_suggestions', 'bank_allocations', 'bank_rules'] LOOP
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
