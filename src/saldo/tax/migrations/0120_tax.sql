-- Tax read models (issue 13): filed VAT returns, and the registration monitor's alerts.
CREATE TABLE vat_filings (
    company_id          uuid NOT NULL,
    period              text NOT NULL,
    filed_at            timestamptz NOT NULL,
    filed_by            text NOT NULL,
    output_vat          numeric(20, 2) NOT NULL,
    reverse_charge_vat  numeric(20, 2) NOT NULL,
    input_vat           numeric(20, 2) NOT NULL,
    payable             numeric(20, 2) NOT NULL,
    PRIMARY KEY (company_id, period, filed_at)
);

CREATE TABLE vat_registration_alerts (
    company_id        uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('approached', 'exceeded')),
    on_day            date NOT NULL,
    taxable_turnover  numeric(20, 2) NOT NULL,
    register_by       date,
    recorded_at       timestamptz NOT NULL,
    PRIMARY KEY (company_id, kind)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['vat_filings', 'vat_registration_alerts'] LOOP
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
