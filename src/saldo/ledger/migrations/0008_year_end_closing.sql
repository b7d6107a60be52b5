-- Year-end closing (issue 5). The closing transaction is a posting like any other, but
-- the profit or loss statement of a range must not see it (it zeroes the year's revenue
-- and expense accounts into retained earnings), so closing transactions are marked and
-- their turnover is kept apart. Which years are closed is a read model of its own.

ALTER TABLE journal_transactions
    ADD COLUMN kind text NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'closing'));
ALTER TABLE journal_lines ADD COLUMN kind text NOT NULL DEFAULT 'regular';
ALTER TABLE account_turnover ADD COLUMN closing boolean NOT NULL DEFAULT false;
ALTER TABLE account_turnover DROP CONSTRAINT account_turnover_pkey;
ALTER TABLE account_turnover ADD PRIMARY KEY (company_id, account_code, day, closing);

CREATE TABLE fiscal_years (
    company_id           uuid NOT NULL,
    fiscal_year          integer NOT NULL,
    status               text NOT NULL CHECK (status IN ('open', 'closed')),
    closing_transaction  uuid,
    PRIMARY KEY (company_id, fiscal_year)
);
ALTER TABLE fiscal_years ENABLE ROW LEVEL SECURITY;
ALTER TABLE fiscal_years FORCE ROW LEVEL SECURITY;
CREATE POLICY fiscal_years_company ON fiscal_years TO saldo_app
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('CREATE POLICY fiscal_years_owner ON fiscal_years TO %I'
                       ' USING (true) WITH CHECK (true)', current_user);
    END IF;
END $$;
INSERT INTO fiscal_years (company_id, fiscal_year, status)
SELECT DISTINCT company_id, fiscal_year, 'open' FROM fiscal_periods;
