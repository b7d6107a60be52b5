-- A company may require a second person's approval before a document posts (api/v1.md,
-- "Sub-ledgers": a company setting); who approved a draft.
CREATE TABLE billing_settings (
    company_id        uuid PRIMARY KEY,
    require_approval  boolean NOT NULL
);
ALTER TABLE billing_documents ADD COLUMN approved_by text;

ALTER TABLE billing_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY billing_settings_company ON billing_settings TO saldo_app
    USING (company_id = saldo_company()) WITH CHECK (company_id = saldo_company());
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('CREATE POLICY billing_settings_owner ON billing_settings TO %I '
                       'USING (true) WITH CHECK (true)', current_user);
    END IF;
END $$;
