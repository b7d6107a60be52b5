-- A profit-tax object may tag an expense already in the books (issue 14 item 7: "expense
-- lines tagged as profit-tax objects"): the posted journal transaction and account it
-- tags; a transaction's expense account is tagged once.
ALTER TABLE payroll_profit_tax_objects
    ADD COLUMN tagged_transaction_id uuid,
    ADD COLUMN tagged_account_code text;
CREATE UNIQUE INDEX payroll_profit_tax_objects_tagged
    ON payroll_profit_tax_objects (company_id, tagged_transaction_id, tagged_account_code)
    WHERE tagged_transaction_id IS NOT NULL;
