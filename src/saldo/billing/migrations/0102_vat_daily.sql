-- VAT per day, direction, code and deductibility (GEL): the monthly return sums at most
-- a month of these rows instead of every posted line (issue 13, benchmark: the return of
-- a month with 100,000 invoices). Kept by the `billing` projection with `vat_lines`.
CREATE TABLE vat_daily (
    company_id  uuid NOT NULL,
    day         date NOT NULL,
    direction   text NOT NULL,
    vat_code    text NOT NULL,
    deductible  boolean NOT NULL,
    base        numeric NOT NULL,
    vat         numeric NOT NULL,
    PRIMARY KEY (company_id, day, direction, vat_code, deductible)
);

ALTER TABLE vat_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE vat_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY vat_daily_company ON vat_daily TO saldo_app
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('CREATE POLICY vat_daily_owner ON vat_daily TO %I '
                       'USING (true) WITH CHECK (true)', current_user);
    END IF;
END $$;

INSERT INTO vat_daily (company_id, day, direction, vat_code, deductible, base, vat)
SELECT company_id, day, direction, vat_code, deductible, sum(base), sum(vat)
  FROM vat_lines GROUP BY 1, 2, 3, 4, 5;
