-- The general ledger's read models and write-side bookkeeping (docs/ledger.md).
--
-- The event store is the source of truth. Every table here except `idempotency_keys`
-- is a read model of the inline projection `ledger` and is rebuilt by replaying events
-- (`saldo projections rebuild ledger`). Every table carries company_id first in every key
-- (ARCHITECTURE §2: distributable by company) and is restricted by row-level security.

CREATE TABLE accounts (
    company_id      uuid NOT NULL,
    code            text NOT NULL,
    name            text NOT NULL,
    name_ka         text NOT NULL,
    type            text NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    normal_balance  text NOT NULL CHECK (normal_balance IN ('debit', 'credit')),
    classification  text NOT NULL,
    parent_code     text,
    postable        boolean NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    custom          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (company_id, code)
);

CREATE TABLE fiscal_periods (
    company_id   uuid NOT NULL,
    period       text NOT NULL,           -- 'YYYY-MM'
    fiscal_year  integer NOT NULL,
    start_date   date NOT NULL,
    end_date     date NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'locked')),
    PRIMARY KEY (company_id, period)
);

-- The last number given per company and fiscal year. Posting increments it in the
-- posting transaction, so a rolled-back posting gives its number back: gap-free.
CREATE TABLE transaction_numbers (
    company_id   uuid NOT NULL,
    fiscal_year  integer NOT NULL,
    last_number  integer NOT NULL,
    PRIMARY KEY (company_id, fiscal_year)
);

CREATE TABLE journal_transactions (
    company_id       uuid NOT NULL,
    id               uuid NOT NULL,
    status           text NOT NULL CHECK (status IN ('draft', 'approved', 'posted', 'discarded')),
    number           integer,
    fiscal_year      integer,
    date             date NOT NULL,
    description      text NOT NULL,
    reference        text,
    currency         char(3) NOT NULL,
    exchange_rate    numeric NOT NULL,
    entries          jsonb NOT NULL,
    account_codes    text[] NOT NULL,
    total            numeric(20, 2) NOT NULL,
    created_by       text NOT NULL,
    approved_by      text,
    posted_by        text,
    reverses         uuid,
    reversed_by      uuid,
    reversal_reason  text,
    version          integer NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX journal_transactions_number
    ON journal_transactions (company_id, fiscal_year, number) WHERE number IS NOT NULL;
CREATE INDEX journal_transactions_by_date ON journal_transactions (company_id, date DESC, id DESC);
CREATE INDEX journal_transactions_accounts ON journal_transactions USING gin (account_codes);

-- Posted lines, one row per line in the base currency (and the transaction currency),
-- partitioned by month of the transaction date. Partitions are created when a fiscal
-- year is opened, by ledger_ensure_partitions() below.
CREATE TABLE journal_lines (
    company_id      uuid NOT NULL,
    entry_date      date NOT NULL,
    transaction_id  uuid NOT NULL,
    line_no         smallint NOT NULL,
    number          integer NOT NULL,
    account_code    text NOT NULL,
    debit           numeric(20, 2) NOT NULL,
    credit          numeric(20, 2) NOT NULL,
    currency        char(3) NOT NULL,
    amount_debit    numeric(20, 3) NOT NULL,
    amount_credit   numeric(20, 3) NOT NULL,
    description     text NOT NULL,
    PRIMARY KEY (company_id, entry_date, transaction_id, line_no)
) PARTITION BY RANGE (entry_date);
CREATE INDEX journal_lines_account ON journal_lines (company_id, account_code, entry_date);

-- Debit and credit turnover per account and day: a balance as of any date sums at most
-- one row per day the account moved, never the journal (ARCHITECTURE §2).
CREATE TABLE account_turnover (
    company_id    uuid NOT NULL,
    account_code  text NOT NULL,
    day           date NOT NULL,
    debit         numeric(20, 2) NOT NULL,
    credit        numeric(20, 2) NOT NULL,
    lines         integer NOT NULL,
    PRIMARY KEY (company_id, account_code, day)
);

-- Client-supplied Idempotency-Key headers: the request's fingerprint and the transaction
-- it created. Write-side state, not a read model: a rebuild leaves it alone.
CREATE TABLE idempotency_keys (
    company_id      uuid NOT NULL,
    key             text NOT NULL,
    fingerprint     text NOT NULL,
    transaction_id  uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, key)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['accounts', 'fiscal_periods', 'transaction_numbers',
                             'journal_transactions', 'journal_lines', 'account_turnover',
                             'idempotency_keys'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I TO saldo_app USING (company_id = saldo_company())'
                       ' WITH CHECK (company_id = saldo_company())', t || '_company', t);
        -- A non-superuser owner (the privileged pool on a managed server) rebuilds read
        -- models across companies.
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('CREATE POLICY %I ON %I TO %I USING (true) WITH CHECK (true)',
                           t || '_owner', t, current_user);
        END IF;
    END LOOP;
END $$;

-- Monthly partitions of journal_lines from `first_month` to `last_month`, created if
-- missing. SECURITY DEFINER: the application role may not create tables, yet opening a
-- fiscal year (a request) needs its months. Partitions are reachable only through the
-- parent, whose row-level security applies; direct grants on them are revoked.
CREATE FUNCTION ledger_ensure_partitions(first_month date, last_month date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    month date := date_trunc('month', first_month)::date;
    name text;
    created integer := 0;
BEGIN
    WHILE month <= last_month LOOP
        name := format('journal_lines_%s', to_char(month, 'YYYY_MM'));
        IF to_regclass(name) IS NULL THEN
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF journal_lines '
                               'FOR VALUES FROM (%L) TO (%L)',
                               name, month, (month + interval '1 month')::date);
                EXECUTE format('REVOKE ALL ON %I FROM saldo_app', name);
                created := created + 1;
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;  -- another session created it first
            END;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN created;
END $$;
REVOKE ALL ON FUNCTION ledger_ensure_partitions(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger_ensure_partitions(date, date) TO saldo_app;
