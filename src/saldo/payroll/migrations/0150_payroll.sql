-- The payroll context (issue 14): employees, payroll runs, dividends, profit-tax objects
-- and other withholding. Every company table is a read model of the payroll streams
-- (saldo.payroll.projections), under row-level security like the ledger's.
-- payroll_rates is not a company table: the statutory rates are dated settings shared by
-- every company (a change in law is a new row, not a code change; docs/decisions/0040).

CREATE TABLE payroll_rates (
    name        text NOT NULL,
    valid_from  date NOT NULL,
    rate        numeric(12, 6) NOT NULL CHECK (rate >= 0),
    source      text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, valid_from)
);

-- Georgian Tax Code and the Law on Funded Pensions (georgia.md §2, §3). Status in
-- `source`: [C] confirmed by the reference, UNCONFIRMED where it says so.
INSERT INTO payroll_rates (name, valid_from, rate, source) VALUES
    ('income_tax',            '2011-01-01', 0.20, 'Tax Code Art. 81: 20% flat PIT on employment income [C] georgia.md §2'),
    ('pension_employee',      '2019-01-01', 0.02, 'Law on Funded Pensions Art. 3: employee 2% of gross [C] georgia.md §2'),
    ('pension_employer',      '2019-01-01', 0.02, 'Law on Funded Pensions Art. 3: employer 2% on top of gross [C] georgia.md §2'),
    ('profit_tax',            '2017-01-01', 0.15, 'Tax Code Art. 98^1: 15% on distributed profit grossed up by /0.85 [C] georgia.md §3'),
    ('dividend_withholding',  '2017-01-01', 0.05, 'Tax Code Art. 130: 5% final withholding on dividends to persons and non-residents [C] georgia.md §2'),
    ('services_individual',   '2011-01-01', 0.20, 'Tax Code Art. 130: 20% on services of unregistered resident individuals [C] georgia.md §2'),
    ('nonresident_services',  '2011-01-01', 0.10, 'Tax Code Art. 134: 10% on services of non-residents [C] georgia.md §2'),
    ('rent_individual',       '2011-01-01', 0.05, 'Tax Code Art. 130: 5% on rent paid to individuals [C] georgia.md §2'),
    ('interest',              '2011-01-01', 0.05, 'Tax Code Art. 130: 5% on interest [C] georgia.md §2'),
    ('royalties',             '2011-01-01', 0.05, 'Tax Code Art. 130: 5% on royalties [C] georgia.md §2'),
    ('representation_cap',    '2017-01-01', 0.01, 'Tax Code Art. 98^2: representation expenses above 1% of the previous year''s income or expenses, the higher [C] georgia.md §3'),
    ('pension_remittance_working_days', '2019-01-01', 0, 'UNCONFIRMED (georgia.md §2): pension paid with the salaries (0 working days later); one source says within 5 working days');

CREATE TABLE payroll_employees (
    company_id      uuid NOT NULL,
    id              uuid NOT NULL,
    personal_number text NOT NULL,
    full_name       text NOT NULL,
    pension_enrolled boolean NOT NULL,
    resident        boolean NOT NULL,
    iban            text,
    start_date      date NOT NULL,
    end_date        date,
    version         integer NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, personal_number)
);

-- Salary history: the monthly gross in effect from each date.
CREATE TABLE payroll_salaries (
    company_id     uuid NOT NULL,
    employee_id    uuid NOT NULL,
    effective_from date NOT NULL,
    gross_salary   numeric(18, 2) NOT NULL,
    PRIMARY KEY (company_id, employee_id, effective_from)
);

CREATE TABLE payroll_runs (
    company_id     uuid NOT NULL,
    id             uuid NOT NULL,
    period         text NOT NULL,
    payment_date   date NOT NULL,
    status         text NOT NULL,
    transaction_id uuid,
    paid_on        date,
    payment_transaction_id uuid,
    reversal_transaction_id uuid,
    totals         jsonb NOT NULL,
    version        integer NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (company_id, id)
);
-- One live run per period (a reversed or discarded run frees its period).
CREATE UNIQUE INDEX payroll_runs_period ON payroll_runs (company_id, period)
    WHERE status IN ('draft', 'posted', 'paid');

CREATE TABLE payroll_run_lines (
    company_id       uuid NOT NULL,
    run_id           uuid NOT NULL,
    employee_id      uuid NOT NULL,
    salary           numeric(18, 2) NOT NULL,
    bonus            numeric(18, 2) NOT NULL,
    other_earnings   numeric(18, 2) NOT NULL,
    gross            numeric(18, 2) NOT NULL,
    pension_employee numeric(18, 2) NOT NULL,
    income_tax       numeric(18, 2) NOT NULL,
    net              numeric(18, 2) NOT NULL,
    pension_employer numeric(18, 2) NOT NULL,
    PRIMARY KEY (company_id, run_id, employee_id)
);

CREATE TABLE payroll_dividends (
    company_id      uuid NOT NULL,
    id              uuid NOT NULL,
    date            date NOT NULL,
    amount          numeric(18, 2) NOT NULL,
    profit_tax      numeric(18, 2) NOT NULL,
    withholding_tax numeric(18, 2) NOT NULL,
    shareholders    jsonb NOT NULL,
    transaction_id  uuid NOT NULL,
    PRIMARY KEY (company_id, id)
);

-- Expenses that are profit-tax objects (Tax Code Art. 98^2): non-business expenses, free
-- supplies, representation expenses (taxed only above the annual cap).
CREATE TABLE payroll_profit_tax_objects (
    company_id     uuid NOT NULL,
    id             uuid NOT NULL,
    date           date NOT NULL,
    category       text NOT NULL,
    amount         numeric(18, 2) NOT NULL,
    taxable        numeric(18, 2) NOT NULL,
    profit_tax     numeric(18, 2) NOT NULL,
    description    text NOT NULL,
    transaction_id uuid,
    PRIMARY KEY (company_id, id)
);

-- Withholding on payments to persons and non-residents (services, rent, interest,
-- royalties): rows of the monthly income tax return.
CREATE TABLE payroll_withholdings (
    company_id     uuid NOT NULL,
    id             uuid NOT NULL,
    date           date NOT NULL,
    code           text NOT NULL,
    payee_tax_id   text NOT NULL,
    payee_name     text NOT NULL,
    resident       boolean NOT NULL,
    gross          numeric(18, 2) NOT NULL,
    withheld       numeric(18, 2) NOT NULL,
    transaction_id uuid NOT NULL,
    PRIMARY KEY (company_id, id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['payroll_employees', 'payroll_salaries', 'payroll_runs',
                             'payroll_run_lines', 'payroll_dividends',
                             'payroll_profit_tax_objects', 'payroll_withholdings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I TO saldo_app USING (company_id = saldo_company())'
                       ' WITH CHECK (company_id = saldo_company())', t || '_company', t);
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('CREATE POLICY %I ON %I TO %I USING (true) WITH CHECK (true)',
                           t || '_owner', t, current_user);
        END IF;
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO saldo_app', t);
    END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE ON payroll_rates TO saldo_app;
