-- Foreign-currency balances per account (issue 12 item 2; docs/currencies.md): the
-- ledger's inline projection keeps, beside `account_turnover` (GEL), the turnover per
-- account, currency and day, in the currency (amount_*) and in GEL (debit, credit). A
-- balance in USD as of a day, and its carrying amount in GEL, sum at most one row per day
-- the account moved in USD; the IAS 21 revaluation reads it for every monetary account.
-- Exchange-difference lines carry the currency of the item they adjust (a GEL amount
-- only), so the GEL carrying amount of a USD position includes its earlier revaluations.
--
-- A ledger read model (rebuilt with `saldo projections rebuild ledger`).

CREATE TABLE account_currency_turnover (
    company_id     uuid NOT NULL,
    account_code   text NOT NULL,
    currency       char(3) NOT NULL,
    day            date NOT NULL,
    debit          numeric NOT NULL,
    credit         numeric NOT NULL,
    amount_debit   numeric NOT NULL,
    amount_credit  numeric NOT NULL,
    lines          integer NOT NULL,
    PRIMARY KEY (company_id, account_code, currency, day)
);
CREATE INDEX account_currency_turnover_by_currency
    ON account_currency_turnover (company_id, currency, account_code, day);

ALTER TABLE account_currency_turnover ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_currency_turnover FORCE ROW LEVEL SECURITY;
CREATE POLICY account_currency_turnover_company ON account_currency_turnover TO saldo_app
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('CREATE POLICY account_currency_turnover_owner'
                       ' ON account_currency_turnover TO %I USING (true) WITH CHECK (true)',
                       current_user);
    END IF;
END $$;

-- The books posted before this migration.
INSERT INTO account_currency_turnover (company_id, account_code, currency, day, debit,
                                       credit, amount_debit, amount_credit, lines)
SELECT company_id, account_code, currency, entry_date, sum(debit), sum(credit),
       sum(amount_debit), sum(amount_credit), count(*)
  FROM journal_lines GROUP BY 1, 2, 3, 4;
