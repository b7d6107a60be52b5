-- Billing's read models (issue 13): counterparties, documents, the settlements that pay or
-- credit them, payments, and the VAT lines of posted documents that the VAT return sums.
-- All are rebuilt from billing's events by the inline projection `billing`; row-level
-- security keeps each company to its own rows like every other table.

CREATE TABLE counterparties (
    company_id  uuid NOT NULL,
    id          uuid NOT NULL,
    name        text NOT NULL,
    tax_id      text,
    country     char(2) NOT NULL,
    resident    boolean NOT NULL,
    vat_payer   boolean NOT NULL,
    iban        text,
    bank_bic    text,
    bank_name   text,
    email       text,
    phone       text,
    address     text,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX counterparties_tax_id ON counterparties (company_id, tax_id)
    WHERE tax_id IS NOT NULL;
CREATE INDEX counterparties_name ON counterparties (company_id, lower(name));

CREATE TABLE billing_documents (
    company_id          uuid NOT NULL,
    id                  uuid NOT NULL,
    kind                text NOT NULL,
    number              text NOT NULL,
    counterparty_id     uuid NOT NULL,
    date                date NOT NULL,
    due_date            date NOT NULL,
    currency            char(3) NOT NULL,
    exchange_rate       numeric NOT NULL,
    reference           text,
    supplier_reference  text,
    corrects            uuid,
    lines               jsonb NOT NULL,
    net_total           numeric(20, 2) NOT NULL,
    vat_total           numeric(20, 2) NOT NULL,
    total               numeric(20, 2) NOT NULL,
    total_base          numeric(20, 2) NOT NULL DEFAULT 0,
    settled             numeric(20, 2) NOT NULL DEFAULT 0,
    settled_base        numeric(20, 2) NOT NULL DEFAULT 0,
    credited            numeric(20, 2) NOT NULL DEFAULT 0,
    status              text NOT NULL,
    transaction_id      uuid,
    posted_at           timestamptz,
    created_by          text NOT NULL,
    version             integer NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX billing_documents_counterparty ON billing_documents (company_id, counterparty_id);
CREATE INDEX billing_documents_open ON billing_documents (company_id, kind, due_date)
    WHERE status IN ('posted', 'partly_paid');
CREATE INDEX billing_documents_date ON billing_documents (company_id, date);
-- A supplier's reference identifies one bill of that supplier (issue 13, item 3).
CREATE UNIQUE INDEX billing_documents_supplier_reference
    ON billing_documents (company_id, counterparty_id, supplier_reference)
    WHERE kind = 'purchase_bill' AND supplier_reference IS NOT NULL;

-- Document numbers per series and year (INV-2026-00001), advanced in the drafting
-- transaction (row lock: gap-free within a series).
CREATE TABLE billing_numbers (
    company_id  uuid NOT NULL,
    series      text NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (company_id, series, year)
);

-- What settled a document: a payment's allocation, a credit note, an advance applied.
CREATE TABLE billing_settlements (
    company_id    uuid NOT NULL,
    document_id   uuid NOT NULL,
    by_document   uuid NOT NULL,
    by_kind       text NOT NULL,
    day           date NOT NULL,
    amount        numeric(20, 2) NOT NULL,
    amount_base   numeric(20, 2) NOT NULL,
    seq           bigserial,
    PRIMARY KEY (company_id, document_id, seq)
);
CREATE INDEX billing_settlements_by ON billing_settlements (company_id, by_document);

CREATE TABLE billing_payments (
    company_id       uuid NOT NULL,
    id               uuid NOT NULL,
    counterparty_id  uuid NOT NULL,
    date             date NOT NULL,
    direction        text NOT NULL,
    amount           numeric(20, 2) NOT NULL,
    currency         char(3) NOT NULL,
    exchange_rate    numeric NOT NULL,
    account_code     text NOT NULL,
    reference        text,
    allocations      jsonb NOT NULL,
    unallocated      numeric(20, 2) NOT NULL,
    advance_vat      numeric(20, 2) NOT NULL,
    transaction_id   uuid NOT NULL,
    created_by       text NOT NULL,
    version          integer NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX billing_payments_counterparty ON billing_payments (company_id, counterparty_id);

-- VAT per posted line in GEL, signed (credit notes negative), exactly as the journal
-- booked it: the VAT registers and the monthly return sum these rows.
CREATE TABLE vat_lines (
    company_id    uuid NOT NULL,
    day           date NOT NULL,
    document_id   uuid NOT NULL,
    line_no       integer NOT NULL,
    direction     text NOT NULL CHECK (direction IN ('sales', 'purchases')),
    document_kind text NOT NULL,
    vat_code      text NOT NULL,
    counterparty_id uuid NOT NULL,
    base          numeric(20, 2) NOT NULL,
    vat           numeric(20, 2) NOT NULL,
    deductible    boolean NOT NULL,
    PRIMARY KEY (company_id, document_id, line_no)
);
CREATE INDEX vat_lines_day ON vat_lines (company_id, day);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['counterparties', 'billing_documents', 'billing_numbers',
                             'billing_settlements', 'billing_payments', 'vat_lines'] LOOP
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
